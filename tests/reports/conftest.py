"""Report objects built directly from the model classes, for the report writers' tests.

The estate: an AWS bucket in Paris replicated to us-east-1, an Azure storage account in
London (fails the EU rule and the EEA rule), a Norwegian one (fails the EU promise, would pass
HDS's EEA rule), a hostile resource whose name and evidence are HTML, a database whose
encryption is known only after apply, and one unreadable state file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_helpers import Chromium

from hds_audit.collectors.base import CollectedSource
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import (
    CollectionError,
    Encryption,
    Evidence,
    Finding,
    KeyOwner,
    Kind,
    PolicyMeta,
    Replica,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports.model import Gate, Report, RunInfo

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"
CHROMIUM = "/usr/bin/chromium"

_GEO = GeoTables.default()

RESIDENCY = PolicyMeta(
    id="HDS_RES_001",
    name="Data-holding resource is stored in the allowed area",
    category="residency",
    severity=Severity.CRITICAL,
    rationale="HDS v2 requirement EXI 28 requires storage in the EEA.",
    remediation="Recreate the resource in an allowed region and migrate the data.",
    remediation_terraform='provider "aws" {\n  region = "eu-west-3" # Paris\n}\n',
    frameworks={"hds-v2": ("EXI 28",), "gdpr": ("Art. 44",), "feima": ("2",)},
    translations={
        "fr": {
            "name": "La ressource qui stocke des données est hébergée dans la zone autorisée",
            "rationale": "L'exigence EXI 28 du référentiel HDS v2 impose l'EEE.",
            "remediation": "Recréer la ressource dans une région autorisée.",
        }
    },
)
REPLICATION = PolicyMeta(
    id="HDS_REP_001",
    name="Every replica and backup copy stays in the allowed area",
    category="replication_residency",
    severity=Severity.CRITICAL,
    rationale="EXI 28 applies to every copy of the data.",
    remediation="Point replication at a bucket inside the allowed area.",
    remediation_terraform='resource "aws_s3_bucket_replication_configuration" "r" {}\n',
    frameworks={"hds-v2": ("EXI 28",), "gdpr": ("Art. 44", "Art. 46")},
)
ENCRYPTION = PolicyMeta(
    id="HDS_ENC_001",
    name="Data is encrypted at rest",
    category="encryption_at_rest",
    severity=Severity.HIGH,
    rationale="GDPR art. 32 names encryption among the appropriate measures.",
    remediation="Turn on encryption at rest.",
    remediation_terraform='resource "aws_ebs_volume" "data" {\n  encrypted = true\n}\n',
    frameworks={"hds-v2": ("EXI 02",), "gdpr": ("Art. 32",)},
)
KEYS = PolicyMeta(
    id="HDS_KEY_001",
    name="Data is encrypted with a key the customer holds",
    category="key_management",
    severity=Severity.HIGH,
    rationale="A customer-managed key keeps control with the data controller.",
    remediation="Use a customer-managed KMS key.",
    frameworks={"feima": ("4",)},
)
LOGGING = PolicyMeta(
    id="HDS_LOG_001",
    name="Access logging is enabled",
    category="logging",
    severity=Severity.LOW,
    rationale="Traceability of access to health data.",
    remediation="Enable access logging.",
    frameworks={"hds-v2": ("EXI 12",)},
)
POLICIES = (RESIDENCY, REPLICATION, ENCRYPTION, KEYS, LOGGING)

STATE = Source(kind=SourceKind.TERRAFORM_STATE, file="states/prod.tfstate")
AZURE = Source(kind=SourceKind.AZURE_API, account="sub-1234", region="uksouth")


def _bucket() -> Resource:
    return Resource(
        id="aws_s3_bucket.records",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("aws", "eu-west-3"),
        source=STATE,
        encryption=Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id="arn:kms"),
        replicas=(
            Replica(
                kind="replication",
                location=_GEO.locate("aws", "us-east-1"),
                target="arn:aws:s3:::records-dr-us",
            ),
        ),
        name="patient-records",
    )


def _uk_account() -> Resource:
    return Resource(
        id="/subscriptions/sub-1234/resourceGroups/rg/providers/Microsoft.Storage/"
        "storageAccounts/ukrecords",
        provider="azure",
        type="Microsoft.Storage/storageAccounts",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("azure", "uksouth"),
        source=AZURE,
        encryption=Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER),
        replicas=(),
        name="ukrecords",
    )


def _norway_account() -> Resource:
    return Resource(
        id="azurerm_storage_account.oslo",
        provider="azure",
        type="azurerm_storage_account",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("azure", "norwayeast"),
        source=STATE,
        encryption=Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER),
        replicas=None,
        name="oslo",
    )


def _hostile() -> Resource:
    return Resource(
        id="aws_s3_bucket.hostile",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("aws", "eu-west-3"),
        source=STATE,
        encryption=Encryption(at_rest=False),
        name=HOSTILE_NAME,
        attributes={"tags": {"Name": HOSTILE_NAME}},
    )


def _pending_db() -> Resource:
    return Resource(
        id="aws_db_instance.pending",
        provider="aws",
        type="aws_db_instance",
        kind=Kind.DATABASE,
        location=_GEO.locate("aws", "mars-1"),
        source=STATE,
        encryption=Encryption(at_rest=None),
        unknowns={"encryption.at_rest": "known after apply", "region": "known after apply"},
    )


def _vm() -> Resource:
    return Resource(
        id="aws_instance.web",
        provider="aws",
        type="aws_instance",
        kind=Kind.COMPUTE,
        location=_GEO.locate("aws", "eu-west-3"),
        source=STATE,
    )


def build_findings(resources: dict[str, Resource]) -> list[Finding]:
    bucket, uk, oslo = resources["bucket"], resources["uk"], resources["oslo"]
    hostile, pending, vm = resources["hostile"], resources["pending"], resources["vm"]
    return [
        Finding(RESIDENCY, bucket, Status.PASS, (Evidence("in_area", True, "eu-west-3 (FR)"),)),
        Finding(RESIDENCY, uk, Status.FAIL, (Evidence("in_area", False, "uksouth (GB)"),)),
        Finding(
            RESIDENCY,
            oslo,
            Status.FAIL,
            (Evidence("in_area", False, "norwayeast (NO); would pass under HDS v2 EXI 28 (EEA)"),),
        ),
        Finding(RESIDENCY, hostile, Status.PASS, (Evidence("in_area", True, "eu-west-3 (FR)"),)),
        Finding(
            RESIDENCY,
            pending,
            Status.UNKNOWN,
            (Evidence("in_area", None, "known after apply"),),
            reason="region known after apply",
        ),
        Finding(
            REPLICATION,
            bucket,
            Status.FAIL,
            (Evidence("replicas[0].in_area", False, "us-east-1 (US)"),),
        ),
        Finding(REPLICATION, uk, Status.PASS, ()),
        Finding(
            REPLICATION,
            oslo,
            Status.UNKNOWN,
            (Evidence("replicas", None, "copies could not be established"),),
            reason="replication settings unreadable",
        ),
        Finding(
            ENCRYPTION,
            hostile,
            Status.FAIL,
            (Evidence("encryption.at_rest", False), Evidence("tags.Name", HOSTILE_VALUE, "tag")),
        ),
        Finding(ENCRYPTION, bucket, Status.PASS, (Evidence("encryption.at_rest", True),)),
        Finding(
            ENCRYPTION,
            pending,
            Status.UNKNOWN,
            (Evidence("encryption.at_rest", None, "known after apply"),),
            reason="known after apply",
        ),
        Finding(KEYS, uk, Status.WAIVED, (), reason="waiver W-12: migration planned, exp 2026-06"),
        Finding(KEYS, bucket, Status.PASS, (Evidence("encryption.key_owner", "customer"),)),
        Finding(KEYS, hostile, Status.ERROR, (), reason="policy evaluation failed"),
        Finding(KEYS, vm, Status.NOT_APPLICABLE, (), reason="outside the policy's scope"),
        Finding(LOGGING, bucket, Status.MANUAL, (), reason="check the SIEM configuration"),
    ]


def build_report(*, errors: bool = True, area: str = "eu") -> Report:
    resources = {
        "bucket": _bucket(),
        "uk": _uk_account(),
        "oslo": _norway_account(),
        "hostile": _hostile(),
        "pending": _pending_db(),
        "vm": _vm(),
    }
    collection_errors = (
        [
            CollectionError(
                source="states/broken.tfstate",
                scope="states/broken.tfstate",
                message="not JSON: unexpected end of data at line 12",
            )
        ]
        if errors
        else []
    )
    run = RunInfo(
        started_at=datetime(2025, 3, 14, 9, 30, 5, tzinfo=UTC),
        finished_at=datetime(2025, 3, 14, 9, 31, 17, tzinfo=UTC),
        tool_version="0.1.0",
        sources=[
            CollectedSource(
                path="states/prod.tfstate",
                kind="terraform-state",
                resources=5,
                terraform_version="1.7.5",
                notes=["decoded as UTF-16-LE (no byte-order mark)"],
            ),
            CollectedSource(path="sub-1234/uksouth", kind="azure-api", resources=1),
            *(
                [CollectedSource(path="states/broken.tfstate", kind="unreadable", resources=0)]
                if errors
                else []
            ),
        ],
        area=AllowedArea.parse(area),
    )
    return Report(
        run=run,
        resources=list(resources.values()),
        findings=build_findings(resources),
        errors=collection_errors,
        policies=POLICIES,
        gate=Gate(fail_on=Severity.LOW, fail_on_unknown=True),
    )


@pytest.fixture
def report() -> Report:
    return build_report()


@pytest.fixture
def clean_report() -> Report:
    """No collection error: the verdict comes from the findings alone."""
    return build_report(errors=False)


@pytest.fixture
def make_report() -> Callable[..., Report]:
    """``make_report(errors=..., area=...)`` for the variants a test needs."""
    return build_report


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    """Chromium, or a failure (never a silent skip) unless HDS_AUDIT_SKIP_BROWSER=1."""
    binary = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if binary is None:
        if os.environ.get("HDS_AUDIT_SKIP_BROWSER") == "1":
            pytest.skip("chromium is not installed and HDS_AUDIT_SKIP_BROWSER=1")
        pytest.fail(
            f"{CHROMIUM} is missing: install it (apt-get install -y chromium, as `make` does "
            "for CI) or set HDS_AUDIT_SKIP_BROWSER=1 to skip the browser tests"
        )
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    return Chromium(binary, profile)
