"""Certificate verdicts are judged once per host and certificate scope (report schema 1.4).

A host's HDS certificate is a fact about the host, not about each bucket: one finding per
(policy, host scope) lists the resources it covers, its number does not grow with the estate,
every format shows how many resources it covers, baselines and waivers follow its identity,
and an estate whose hosts' certificate facts are recorded can pass the gate.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, cli, scan, terraform_file

from hds_audit.baseline import comparison_from_report
from hds_audit.datafile import DataFileError
from hds_audit.model import Covered
from hds_audit.providers.registry import builtin_registry, load_registry
from hds_audit.reports.csv_report import write_csv
from hds_audit.reports.grouping import covered_ids
from hds_audit.reports.json_report import schema_text, write_json
from hds_audit.reports.junit import write_junit
from hds_audit.reports.markdown import render_markdown
from hds_audit.reports.sarif import write_sarif
from hds_audit.testing import Spec
from hds_audit.waivers import parse_waivers

CERTIFICATE = ("HDS_CERT_001", "HDS_CERT_002", "HDS_CERT_003")
REGISTRY = FIXTURES / "registry.yaml"


def _buckets(count: int, region: str = "eu-west-3") -> list[Spec]:
    return [
        Spec("aws_s3_bucket", f"b{i}", {"bucket": f"b{i}", "region": region}) for i in range(count)
    ]


def _certificate_findings(path: Path) -> list[Any]:
    return [f for f in scan(path).findings if f.policy.id in CERTIFICATE]


def test_certificate_findings_do_not_grow_with_the_estate(tmp_path: Path) -> None:
    small = _certificate_findings(terraform_file(tmp_path, "small.tfstate", _buckets(20)))
    large = _certificate_findings(terraform_file(tmp_path, "large.tfstate", _buckets(600)))
    assert len(small) == len(large) == 3  # one per policy: AWS, whose facts are unknown
    assert all(f.host_level and f.resource_id == "hds-host:aws" for f in large)
    assert all(f.status.value == "unknown" for f in large)
    for finding in large:  # every bucket once, in resource order
        assert covered_ids(finding) == tuple(f"aws_s3_bucket.b{i}" for i in range(600))


def test_resource_findings_stay_per_resource(tmp_path: Path) -> None:
    report = scan(terraform_file(tmp_path, "s.tfstate", _buckets(30)))
    encryption = [f for f in report.findings if f.policy.id == "HDS_ENC_001"]
    assert len(encryption) == 30 and not any(f.host_level for f in encryption)


def test_the_compliant_twin_passes_once_its_hosts_certificates_are_recorded(
    tmp_path: Path,
) -> None:
    common = [
        "scan", str(FIXTURES / "compliant"), "--attestations", str(FIXTURES / "attestations.yaml"),
        "--audit-date", "2026-12-01", "--format", "json", "--no-history", "--quiet",
    ]  # fmt: skip
    without = cli(*common, "-o", str(tmp_path / "without"))
    assert without.exit_code == 1  # the built-in registry knows no expiry date: unknown gates
    recorded = cli(*common, "--registry", str(REGISTRY), "-o", str(tmp_path / "with"))
    assert recorded.exit_code == 0, recorded.output
    data = json.loads((tmp_path / "with" / "report.json").read_text(encoding="utf-8"))
    hosts = {(f["policy_id"], f["resource_id"]): f for f in data["findings"] if "covers" in f}
    assert hosts[("HDS_CERT_001", "hds-host:aws")]["status"] == "pass"
    assert hosts[("HDS_CERT_001", "hds-host:microsoft")]["status"] == "pass"
    # EXI 30: both hosts declare exposure to US law; an information finding, it does not gate.
    assert hosts[("HDS_CERT_003", "hds-host:aws")]["status"] == "fail"
    covered = {
        i
        for f in hosts.values()
        if f["policy_id"] == "HDS_CERT_001"
        for i in f["covers"]["resource_ids"]
    }
    data_resources = {r["id"] for r in data["resources"] if r["stores_data"]}
    assert covered == data_resources


def test_a_region_outside_the_certificate_is_a_scope_of_its_own(tmp_path: Path) -> None:
    far = Spec("aws_s3_bucket", "far", {"bucket": "far", "region": "us-east-1"})
    path = terraform_file(tmp_path, "s.tfstate", [*_buckets(3), far])
    report = scan(path, registry=load_registry(REGISTRY))
    cert = {f.resource_id: f for f in report.findings if f.policy.id == "HDS_CERT_001"}
    assert set(cert) == {"hds-host:aws", "hds-host:aws/us-east-1"}
    assert cert["hds-host:aws"].status.value == "pass"
    assert covered_ids(cert["hds-host:aws"]) == (
        "aws_s3_bucket.b0",
        "aws_s3_bucket.b1",
        "aws_s3_bucket.b2",
    )
    assert cert["hds-host:aws/us-east-1"].status.value == "fail"
    assert covered_ids(cert["hds-host:aws/us-east-1"]) == ("aws_s3_bucket.far",)
    # The expiry and the EXI 30 disclosure do not depend on the region: one verdict each.
    assert [f.resource_id for f in report.findings if f.policy.id == "HDS_CERT_002"] == [
        "hds-host:aws"
    ]


def test_every_format_says_how_many_resources_a_host_verdict_covers(tmp_path: Path) -> None:
    report = scan(terraform_file(tmp_path, "s.tfstate", _buckets(7)))
    data = json.loads(write_json(report, tmp_path / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(schema_text()))
    assert data["schema_version"] == "1.7"
    host = next(f for f in data["findings"] if f["policy_id"] == "HDS_CERT_001")
    assert host["subject"] == "host" and host["source_kind"] == "registry"
    assert host["covers"] == {
        "count": 7,
        "resource_ids": [f"aws_s3_bucket.b{i}" for i in range(7)],
        "projects": [str(tmp_path)] * 7,
    }
    assert host["host"] == {
        "scope": "hds-host:aws",
        "name": "Amazon Web Services",
        "provider": "aws",
    }
    assert all("subject" not in f for f in data["findings"] if f["policy_id"] == "HDS_ENC_001")

    with write_csv(report, tmp_path / "report.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert {r["covers"] for r in rows if r["policy_id"] == "HDS_CERT_001"} == {"7"}
    assert {r["covers"] for r in rows if r["policy_id"] == "HDS_ENC_001"} == {""}

    sarif = json.loads(write_sarif(report, tmp_path / "r.sarif").read_text(encoding="utf-8"))
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "HDS_CERT_001")
    assert result["properties"]["covers"] == 7
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "hds-host:aws"

    junit = ET.parse(write_junit(report, tmp_path / "r.xml"))
    case = next(c for c in junit.iter("testcase") if c.get("classname") == "HDS_CERT_001")
    failure = case.find("failure")
    assert failure is not None and "Covers: 7 resources" in (failure.text or "")

    assert "Amazon Web Services (host: 7 resources)" in render_markdown(report)


def test_markdown_gives_a_resource_read_from_its_plan_and_state_one_row() -> None:
    """Each failure of the plan and the state of one resource filled a row of its own: the
    25-row table showed 13 problems, each twice."""
    report = scan(FIXTURES / "patient-records")  # plan.json and terraform.tfstate
    text = render_markdown(report)
    row = re.compile(r"^\| (critical|high|medium|low|info) \| (✗ fail|\? unknown|⚠ error) \|")
    rows = [line for line in text.splitlines() if row.match(line)]
    assert len(rows) == len(set(rows)) == 25
    assert any(
        "patient\\_documents\\_replica (terraform-plan + terraform-state) |" in r for r in rows
    )
    shown = sum(2 if "terraform-plan + terraform-state" in r else 1 for r in rows)
    problems = sum(1 for f in report.findings if f.status.value in ("fail", "error", "unknown"))
    assert f"… and {problems - shown:,} more in the full report." in text
    # Counted in words that agree with the number, one level of brackets.
    assert text.startswith(f"## ✗ hds-audit: {len(report.blocking)} blocking findings (threshold")
    assert "(s)" not in text and "((" not in text.splitlines()[0]


def test_markdown_keeps_one_address_in_two_projects_on_two_rows(tmp_path: Path) -> None:
    """Rows are shared by the sources of one resource only: the same address in two
    projects (two folders) is two resources."""
    for project in ("clinic-a", "clinic-b"):
        (tmp_path / project).mkdir()
        state = (FIXTURES / "patient-records" / "terraform.tfstate").read_bytes()
        (tmp_path / project / "terraform.tfstate").write_bytes(state)
    report = scan(tmp_path / "clinic-a", tmp_path / "clinic-b")
    rows = [
        line
        for line in render_markdown(report).splitlines()
        if "HDS\\_RES\\_001 | aws\\_s3\\_bucket.patient\\_documents\\_replica |" in line
    ]
    assert len(rows) == 2


def test_markdown_names_the_critical_residency_failures_first() -> None:
    report = scan(FIXTURES / "patient-records" / "plan.json")
    row = re.compile(r"^\| (critical|high|medium|low|info) \| (✗ fail|\? unknown) \|")
    findings = [line for line in render_markdown(report).splitlines() if row.match(line)]
    statuses = ["fail" if "✗ fail" in r else "unknown" for r in findings]
    assert statuses == sorted(statuses)  # every failure before anything unknown
    first = findings[:5]
    assert all(r.startswith("| critical | ✗ fail | HDS\\_RES\\_001") for r in first[:4])
    assert any("patient\\_documents\\_replica" in r for r in first)
    assert any('exports\\["us"\\]' in r for r in first)


def _legacy(data: dict[str, Any]) -> dict[str, Any]:
    """The same report as schema 1.3 wrote it: certificate findings one per resource."""
    kinds = {r["id"]: r["source"]["kind"] for r in data["resources"]}
    findings = []
    for finding in data["findings"]:
        if finding.get("subject") != "host":
            findings.append(finding)
            continue
        for resource_id in finding["covers"]["resource_ids"]:
            old = {k: v for k, v in finding.items() if k not in ("subject", "host", "covers")}
            findings.append({**old, "resource_id": resource_id, "source_kind": kinds[resource_id]})
    return {**data, "schema_version": "1.3", "findings": findings}


def test_a_1_3_baseline_does_not_call_regrouped_certificates_new_or_fixed(
    tmp_path: Path,
) -> None:
    state = terraform_file(tmp_path, "s.tfstate", _buckets(5))
    data = json.loads(write_json(scan(state), tmp_path / "r.json").read_text(encoding="utf-8"))
    legacy = _legacy(data)
    assert sum(f["policy_id"] == "HDS_CERT_001" for f in legacy["findings"]) == 5
    report = scan(state, baseline=comparison_from_report(legacy, "old.json"))
    assert report.baseline_counts["new"] == 0
    assert report.fixed == []
    assert report.blocking == []


def test_a_host_verdict_that_changes_is_new_and_an_old_problem_it_resolves_is_fixed(
    tmp_path: Path,
) -> None:
    state = terraform_file(tmp_path, "s.tfstate", _buckets(4))
    before = json.loads(write_json(scan(state), tmp_path / "r.json").read_text(encoding="utf-8"))
    comparison = comparison_from_report(_legacy(before), "old.json")
    now = scan(state, baseline=comparison, registry=load_registry(REGISTRY))
    assert {f.policy_id for f in now.fixed} >= {"HDS_CERT_001", "HDS_CERT_002"}
    fixed = [f for f in now.fixed if f.policy_id == "HDS_CERT_001"]
    assert len(fixed) == 4 and {f.status_now for f in fixed} == {"pass"}
    # Against a 1.4 baseline of the same run the identity is the host scope.
    current = json.loads(write_json(now, tmp_path / "n.json").read_text(encoding="utf-8"))
    again = scan(
        state, baseline=comparison_from_report(current, "n.json"), registry=load_registry(REGISTRY)
    )
    assert again.baseline_counts["new"] == 0


def test_a_waiver_names_a_host_scope(tmp_path: Path) -> None:
    waivers = parse_waivers(
        "waivers:\n"
        "  - policy_id: HDS_CERT_001\n"
        "    resource_id: hds-host:aws\n"
        "    reason: certificate requested from the host, expected next week\n"
        "    approved_by: DPO\n"
        "    expires: 2026-12-31\n",
        "waivers.yaml",
    )
    report = scan(terraform_file(tmp_path, "s.tfstate", _buckets(3)), waivers=waivers)
    host = next(f for f in report.findings if f.policy.id == "HDS_CERT_001")
    assert host.status.value == "waived" and host.covers is not None and len(host.covers) == 3


def test_a_customer_registry_extends_the_builtin_one() -> None:
    registry = load_registry(REGISTRY)
    builtin = builtin_registry()
    assert [h.key for h in registry.hosts] == [h.key for h in builtin.hosts]  # none lost
    aws, builtin_aws = registry.host("aws"), builtin.host("aws")
    assert aws is not None and builtin_aws is not None
    assert aws.name == builtin_aws.name and aws.providers == builtin_aws.providers
    assert aws.fact("expires").value == "2028-06-01" and aws.fact("expires").source == "C-AWS"
    # A fact the file does not give keeps its built-in value and source.
    assert aws.fact("legal_entity") == builtin_aws.fact("legal_entity")
    assert registry.host("ovh") == builtin.host("ovh")
    assert "built-in" in registry.version and registry.file == str(REGISTRY)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "extends: builtin\nsources: {S01: {url: x}}\nhosts:\n"
            "  - key: aws\n    facts: {expires: {value: '2028-01-01', source: S01}}\n",
            "source 'S01' is a source of the built-in registry",
        ),
        ("extends: elsewhere\nsources: {}\nhosts: []\n", "'extends' takes only `builtin`"),
        (
            "extends: builtin\nsources: {C1: {url: x}}\nhosts:\n"
            "  - key: newhost\n    providers: [aws]\n    name: New\n    facts: {}\n",
            "missing fact 'legal_entity'",
        ),
    ],
)
def test_a_bad_customer_registry_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load_registry(path)
    assert problem in str(raised.value) and str(path) in str(raised.value)


def test_a_plan_and_a_state_count_once_two_projects_twice(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    specs = _buckets(2)
    paths = [
        terraform_file(one, "terraform.tfstate", specs),
        terraform_file(one, "plan.json", specs, plan=True),
        terraform_file(two, "terraform.tfstate", specs),
    ]
    report = scan(*paths)
    host = next(f for f in report.findings if f.policy.id == "HDS_CERT_001")
    assert host.covers is not None
    assert sorted(host.covers) == sorted(
        Covered(f"aws_s3_bucket.b{i}", str(folder)) for i in range(2) for folder in (one, two)
    )
    # Every format counts distinct resources: 2 buckets in 2 projects, read from 3 files.
    data = json.loads(write_json(report, tmp_path / "r.json").read_text(encoding="utf-8"))
    covers = next(f for f in data["findings"] if f["policy_id"] == "HDS_CERT_001")["covers"]
    assert covers["count"] == 4 and sorted(covers["projects"]) == sorted([str(one), str(two)] * 2)
