"""Gating (--fail-on, --fail-on-unknown), baselines (new / unchanged / fixed; only new gate),
finding identity, and the command-line flow a CI job runs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import (
    ENCRYPTED,
    ENCRYPTION_POLICY,
    FIXTURES,
    HOSTILE,
    PLAIN,
    cli,
    read_json,
    scan,
    terraform_file,
)

from hds_audit.baseline import comparison_from_report, identity, load_baseline
from hds_audit.errors import UsageError
from hds_audit.model import Severity
from hds_audit.reports.json_report import schema_text, write_json
from hds_audit.reports.model import Gate

QUIET = ("--no-history", "--quiet")


@pytest.mark.parametrize(
    ("fail_on", "unknown", "code"),
    [
        ("critical", False, 0),  # the encryption failure is high
        ("high", False, 1),
        ("none", True, 0),
        ("low", False, 1),
    ],
)
def test_fail_on_threshold_and_unknown(
    tmp_path: Path, fail_on: str, unknown: bool, code: int
) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [ENCRYPTED, PLAIN])
    flag = "--fail-on-unknown" if unknown else "--no-fail-on-unknown"
    result = cli(
        "scan", str(state), "-o", str(tmp_path / "out"), "--format", "json",
        "--fail-on", fail_on, flag, *QUIET,
    )  # fmt: skip
    assert result.exit_code == code, result.output + result.stderr


def test_unknown_counts_by_default(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [ENCRYPTED])  # passes, some unknown
    report = scan(state, gate=Gate(fail_on=Severity.INFO))
    assert report.by_status["unknown"] and report.by_status["fail"] == 0
    assert report.exit_code == 1
    assert scan(state, gate=Gate(Severity.INFO, fail_on_unknown=False)).exit_code == 0


def test_baseline_marks_new_unchanged_and_fixed(tmp_path: Path) -> None:
    before = terraform_file(tmp_path, "before.tfstate", [ENCRYPTED, PLAIN])
    write_json(scan(before), tmp_path / "main-report.json")
    fixed_plain = ENCRYPTED.__class__(
        "aws_ebs_volume", "plain", {**ENCRYPTED.attributes}
    )  # the plain volume is now encrypted
    after = terraform_file(tmp_path, "after.tfstate", [ENCRYPTED, fixed_plain, HOSTILE])
    baseline = load_baseline(tmp_path / "main-report.json")
    report = scan(after, baseline=baseline, gate=Gate(Severity.HIGH, fail_on_unknown=False))
    states = {
        f.resource.id: baseline.state(f) for f in report.findings if f.policy.id == "HDS_ENC_001"
    }
    assert states == {
        "aws_ebs_volume.sealed": "unchanged",
        "aws_ebs_volume.plain": "new",  # pass now, fail before: a changed verdict
        HOSTILE.address: "new",
    }
    assert [
        (f.policy_id, f.resource_id, f.status_before, f.status_now)
        for f in report.fixed
        if f.policy_id == ENCRYPTION_POLICY
    ] == [(ENCRYPTION_POLICY, "aws_ebs_volume.plain", "fail", "pass")]
    # only the new failure gates
    assert [(f.policy.id, f.resource.id) for f in report.blocking] == [
        (ENCRYPTION_POLICY, HOSTILE.address)
    ]
    data = read_json(write_json(report, tmp_path / "report.json"))
    jsonschema.validate(data, json.loads(schema_text()))
    assert data["baseline"]["new"] >= 2 and data["summary"]["gate"]["new_only"] is True
    assert {"policy_id": ENCRYPTION_POLICY, "resource_id": "aws_ebs_volume.plain"}.items() <= next(
        f for f in data["fixed"] if f["policy_id"] == ENCRYPTION_POLICY
    ).items()
    marks = {
        f["resource_id"]: f["baseline"]
        for f in data["findings"]
        if f["policy_id"] == ENCRYPTION_POLICY
    }
    assert marks[HOSTILE.address] == "new" and marks["aws_ebs_volume.sealed"] == "unchanged"


def test_only_new_findings_gate_on_the_command_line(tmp_path: Path) -> None:
    plan = str(FIXTURES / "patient-records" / "plan.json")
    out = tmp_path / "main"
    first = cli("scan", plan, "-o", str(out), "--format", "json", "--fail-on", "high", *QUIET)
    assert first.exit_code == 1  # the planted violations
    again = cli(
        "scan", plan, "-o", str(tmp_path / "mr"), "--format", "json,sarif,junit,markdown",
        "--fail-on", "high", "--baseline", str(out / "report.json"), "--no-history",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output and "only new findings gate" in again.output
    summary = (tmp_path / "mr" / "report.md").read_text(encoding="utf-8")
    assert "**0 new**" in summary and "✓ hds-audit: nothing blocks" in summary


def test_identity_tells_a_plan_from_a_state(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    plan = terraform_file(tmp_path, "p.json", [PLAIN], plan=True)
    state_findings, plan_findings = scan(state).findings, scan(plan).findings
    from_state = {identity(f) for f in state_findings if not f.host_level}
    from_plan = {identity(f) for f in plan_findings if not f.host_level}
    assert (ENCRYPTION_POLICY, "aws_ebs_volume.plain", "terraform-state") in from_state
    assert (ENCRYPTION_POLICY, "aws_ebs_volume.plain", "terraform-plan") in from_plan
    assert not from_state & from_plan
    # A host's certificate does not depend on where its resources were read from.
    hosts_state = {identity(f) for f in state_findings if f.host_level}
    hosts_plan = {identity(f) for f in plan_findings if f.host_level}
    assert ("HDS_CERT_001", "hds-host:aws", "registry") in hosts_state
    assert hosts_state == hosts_plan


def test_identity_is_stable_across_runs_and_files(tmp_path: Path) -> None:
    one = terraform_file(tmp_path, "a.tfstate", [PLAIN, ENCRYPTED])
    two = terraform_file(tmp_path, "b.tfstate", [ENCRYPTED, PLAIN])  # other file, other order
    assert {identity(f) for f in scan(one).findings} == {identity(f) for f in scan(two).findings}


def test_a_1_0_baseline_without_source_kind_still_works(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    data = read_json(write_json(scan(state), tmp_path / "r.json"))
    data["schema_version"] = "1.0"
    for finding in data["findings"]:
        del finding["source_kind"]
    comparison = comparison_from_report(data, "old.json")
    report = scan(state, baseline=comparison)
    assert report.baseline_counts["new"] == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "baseline report is not valid JSON"),
        ('{"findings": "x"}', "not an hds-audit report.json"),
        ('{"schema_version": "2.0", "findings": []}', "this hds-audit reads 1.x"),
        ('{"schema_version": "1.0", "findings": [{"policy_id": "X"}]}', "finding 0 is missing"),
    ],
)
def test_a_bad_baseline_is_one_line_and_exit_2_before_any_scan(
    tmp_path: Path, content: str, problem: str
) -> None:
    bad = tmp_path / "base.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=problem):
        load_baseline(bad)
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    out = tmp_path / "out"
    result = cli("scan", str(state), "-o", str(out), "--baseline", str(bad))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr
    assert not out.exists(), "nothing written, nothing scanned"


def test_missing_baseline_names_the_file(tmp_path: Path) -> None:
    result = cli(
        "scan", str(FIXTURES / "compliant"), "-o", str(tmp_path), "--baseline", "nope.json"
    )
    assert result.exit_code == 2 and "nope.json: baseline report not found" in result.stderr


def test_same_address_in_two_sources_counts_its_worst_status(tmp_path: Path) -> None:
    """Two workspaces' states with the same address share an identity: the failing copy
    stays a problem (never reported fixed by its passing twin)."""
    fixed_plain = ENCRYPTED.__class__("aws_ebs_volume", "plain", {**ENCRYPTED.attributes})
    prod = terraform_file(tmp_path, "prod.tfstate", [PLAIN])
    staging = terraform_file(tmp_path, "staging.tfstate", [fixed_plain])
    write_json(scan(prod, staging), tmp_path / "base.json")
    for order in ((prod, staging), (staging, prod)):
        report = scan(*order, baseline=load_baseline(tmp_path / "base.json"))
        assert [f for f in report.fixed if f.policy_id == ENCRYPTION_POLICY] == []
        failing = [
            f
            for f in report.findings
            if f.policy.id == ENCRYPTION_POLICY and f.status.value == "fail"
        ]
        assert [report.baseline.state(f) for f in failing] == ["unchanged"]  # type: ignore[union-attr]
