"""The bundled terraform_fixtures/ audited end to end against terraform_fixtures/EXPECTED.yaml.

EXPECTED.yaml was written with the fixtures, resource by resource. Deliberate differences
of convention, asserted here rather than hidden:
- an unencrypted resource gets ``not_applicable`` for key management (the encryption policy
  already fails it), where EXPECTED says ``fail``;
- ``n/a`` for replication of a resource with no copy is a ``pass`` (nothing leaves);
- an EC2 instance's block devices are judged as block storage of their own
  (``<address>.root_block_device[...]``), so the instance's verdict is theirs;
- where encryption is known only after apply but the key would be the provider's default,
  the key policy fails (no outcome gives a customer-held key) where EXPECTED says unknown.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.model import Finding
from hds_audit.providers.registry import load_registry
from hds_audit.reports.model import Report
from hds_audit.scan import ScanOptions, run_scan

ROOT = Path(__file__).resolve().parent.parent / "terraform_fixtures"
EXPECTED = yaml.safe_load((ROOT / "EXPECTED.yaml").read_text(encoding="utf-8"))
CATEGORIES = ("residency", "replication_residency", "encryption_at_rest", "key_management")
AUDITED = [name for name, entry in EXPECTED["files"].items() if "resources" in entry]


def _scan(*names: str) -> Report:
    paths = tuple(str(ROOT / name) for name in names)
    # Certificates are judged against a test registry where they are known (the built-in
    # registry leaves AWS's and Azure's expiry unknown: every certificate finding is unknown).
    registry = load_registry(Path(__file__).parent / "fixtures" / "registry" / "certified.yaml")
    return run_scan(ScanOptions(collectors=[TerraformCollector(paths)], registry=registry))


def _by_resource(report: Report) -> dict[str, dict[str, list[Finding]]]:
    table: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in report.findings:
        address = finding.resource.id
        table[address][finding.policy.category].append(finding)
        # Sub-resources (block devices) also count for their parent's address.
        if ".root_block_device[" in address or ".ebs_block_device[" in address:
            parent = address.split(".root_block_device[")[0].split(".ebs_block_device[")[0]
            table[parent][finding.policy.category].append(finding)
    return table


def _check(expected: str, findings: list[Finding], category: str, all_of: dict[str, Any]) -> str:
    statuses = {f.status.value for f in findings}
    if expected == "fail":
        if "fail" in statuses:
            return ""
        encryption = {f.status.value for f in all_of.get("encryption_at_rest", [])}
        if category == "key_management" and "fail" in encryption and "not_applicable" in statuses:
            return ""  # unencrypted: the encryption policy fails it, key management is n/a
        return f"expected fail, got {sorted(statuses)}"
    if expected == "pass":
        return (
            ""
            if statuses and statuses <= {"pass", "not_applicable"}
            else (f"expected pass, got {sorted(statuses)}")
        )
    if expected == "unknown":
        if "unknown" in statuses and "fail" not in statuses:
            return ""
        encryption = {f.status.value for f in all_of.get("encryption_at_rest", [])}
        if category == "key_management" and "unknown" in encryption and statuses == {"fail"}:
            # Encryption unknown until apply, and the key (if any) would be the provider's:
            # either way no customer-held key, so the key policy fails rather than waits.
            return ""
        return f"expected unknown, got {sorted(statuses)}"
    # n/a: whatever we report must not be a failure or an unknown.
    return "" if statuses <= {"pass", "not_applicable"} else f"expected n/a, got {sorted(statuses)}"


@pytest.mark.parametrize("name", AUDITED)
def test_fixture_verdicts(name: str) -> None:
    report = _scan(name)
    assert report.errors == []
    table = _by_resource(report)
    entry = EXPECTED["files"][name]
    problems = []
    for resource in [*entry["resources"], *entry.get("other_resources", [])]:
        address = resource["address"]
        if address not in table and set(resource["expected"].values()) <= {"n/a"}:
            continue
        assert address in table, f"{name}: {address} was not audited"
        for category, expected in resource["expected"].items():
            problem = _check(expected, table[address].get(category, []), category, table[address])
            if problem:
                problems.append(f"{address} {category}: {problem}")
    assert problems == []


@pytest.mark.parametrize("name", ["compliant/terraform.tfstate", "compliant/plan.json"])
def test_compliant_twin_has_no_failure_and_no_unknown(name: str) -> None:
    report = _scan(name)
    assert EXPECTED["files"][name]["all_pass"] is True
    bad = [
        (f.policy.id, f.resource.id, f.status.value)
        for f in report.findings
        if f.status.value in ("fail", "unknown", "error")
    ]
    assert bad == []
    assert report.exit_code == 0


def test_planted_violations_are_found() -> None:
    report = _scan("patient-records/terraform.tfstate")
    failures = {(f.policy.id, f.resource.id) for f in report.findings if f.status.value == "fail"}
    for expected in [
        ("HDS_REP_001", "aws_s3_bucket.patient_documents"),  # replicated to us-east-1
        ("HDS_ENC_001", "aws_ebs_volume.imports"),  # unencrypted volume
        ("HDS_KEY_001", "aws_db_instance.patients"),  # AWS-managed aws/rds key
        ("HDS_RES_001", 'azurerm_storage_account.exports["us"]'),  # eastus
        ("HDS_RES_001", 'azurerm_storage_account.exports["uk"]'),  # uksouth (GRS -> ukwest)
        ("HDS_REP_001", 'azurerm_storage_account.exports["uk"]'),
    ]:
        assert expected in failures
    assert report.exit_code == 1


def test_value_known_only_after_apply_is_unknown() -> None:
    report = _scan("patient-records/plan.json")
    [finding] = [
        f
        for f in report.findings
        if f.policy.id == "HDS_ENC_001" and f.resource.id == "aws_ebs_volume.dicom_cache"
    ]
    assert finding.status.value == "unknown"
    assert "after apply" in (finding.reason or "")


@pytest.mark.parametrize(
    ("name", "message"),
    [("broken/truncated.json", "is truncated"), ("broken/empty.tfstate", "is empty")],
)
def test_broken_inputs_are_errors_and_the_rest_is_audited(name: str, message: str) -> None:
    report = _scan(name, "compliant/terraform.tfstate")
    [error] = report.errors
    assert error.source.endswith(name) and message in error.message
    assert report.exit_code == 2
    assert any(
        r.source.file and r.source.file.endswith("compliant/terraform.tfstate")
        for r in report.resources
    )
    hidden = [f for f in report.findings if f.resource.id.endswith(name)]
    assert hidden and {f.status.value for f in hidden} == {"unknown"}


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("broken/utf16-bom.tfstate", "UTF-16"),
        ("broken/wrapper-command-line.json", "wrapper"),
        ("broken/state-v3.tfstate", "version 3"),
        ("broken/plan-terraform-0.12.json", "0.12"),
    ],
)
def test_odd_but_valid_inputs_are_read(name: str, note: str) -> None:
    report = _scan(name)
    assert report.errors == []
    assert report.resources
    [source] = report.run.sources
    assert any(note in n for n in source.notes), source.notes
    expected = EXPECTED["files"][name]
    wanted = expected.get("resources") or expected.get("resources_if_parsed") or []
    audited = {r.id for r in report.resources}
    assert {r["address"] for r in wanted} <= audited
