"""Reports built by the real pipeline (Terraform documents from ``hds_audit.testing``) plus one
cloud resource, with an injected clock; helpers to run the command with tmp paths only."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from hds_audit.baseline import Comparison
from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.geo import GeoTables
from hds_audit.model import (
    Evidence,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)
from hds_audit.providers.registry import Registry
from hds_audit.reports.model import Gate, Report
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.testing import Spec, plan_document, run_cli, state_document, write_json
from hds_audit.waivers import WaiverSet

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "terraform_fixtures"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

ENCRYPTED = Spec(
    "aws_ebs_volume",
    "sealed",
    {
        "availability_zone": "eu-west-3a",
        "encrypted": True,
        "kms_key_id": "arn:aws:kms:eu-west-3:1:key/k",
    },
)
PLAIN = Spec("aws_ebs_volume", "plain", {"availability_zone": "eu-west-3a", "encrypted": False})
# A hostile address: brackets, quotes, markup, a pipe and a formula start.
HOSTILE = Spec(
    "aws_ebs_volume",
    "odd",
    {"availability_zone": "eu-west-3a", "encrypted": False},
    index='=cmd|"<b>x</b>"',
)
ENCRYPTION_POLICY = "HDS_ENC_001"


def clock(moment: datetime = NOW) -> Callable[[], datetime]:
    return lambda: moment


def terraform_file(tmp_path: Path, name: str, specs: Sequence[Spec], plan: bool = False) -> Path:
    document = plan_document(specs) if plan else state_document(specs)
    return write_json(tmp_path / name, document)


def scan(
    *paths: Path,
    waivers: WaiverSet | None = None,
    baseline: Comparison | None = None,
    gate: Gate | None = None,
    now: datetime = NOW,
    registry: Registry | None = None,
) -> Report:
    """A real run (collector, engine) with the clock fixed at ``now``."""
    options = ScanOptions(
        collectors=[TerraformCollector(tuple(str(p) for p in paths))],
        gate=gate or Gate(),
        waivers=waivers,
        baseline=baseline,
        registry=registry,
    )
    return run_scan(options, clock=clock(now))


def cloud_finding(status: Status = Status.FAIL) -> Finding:
    """A finding on a live AWS resource: located by its ARN, with no file."""
    geo = GeoTables.default()
    resource = Resource(
        id="arn:aws:s3:::records-dr-us",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=geo.locate("aws", "us-east-1"),
        source=Source(kind=SourceKind.AWS_API, account="123456789012", region="us-east-1"),
        name="records-dr-us",
    )
    policy = PolicyMeta(
        id="HDS_RES_001",
        name="Data-holding resource is stored in the allowed area",
        category="residency",
        severity=Severity.CRITICAL,
        rationale="HDS v2 EXI 28.",
        remediation="Move it.",
        frameworks={"hds-v2": ("EXI 28",)},
    )
    return Finding(policy, resource, status, (Evidence("region", "us-east-1"),))


def with_cloud(report: Report) -> Report:
    """``report`` plus one failing finding on a cloud resource."""
    extra = cloud_finding()
    return replace(
        report,
        resources=[*report.resources, extra.resource],
        findings=[*report.findings, extra],
    )


def cli(*args: str) -> Result:
    return run_cli(list(args))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sarif_schema() -> Any:
    return read_json(SARIF_SCHEMA)


@pytest.fixture(scope="session")
def fixture_plan_report() -> Report:
    """The bundled patient-records plan, as CI would gate it."""
    return scan(FIXTURES / "patient-records" / "plan.json")


def findings_of(report: Report, policy_id: str) -> list[Finding]:
    return [f for f in report.findings if f.policy.id == policy_id]
