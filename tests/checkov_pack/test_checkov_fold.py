"""Checkov's built-in checks folded into the report: mapping, file and lines, parse errors."""

from __future__ import annotations

import json
from pathlib import Path

from hds_audit.checkov.runner import CheckovResult, checkov_mapping, run_checkov
from hds_audit.checkov.testing import with_planned_values
from hds_audit.model import Status
from hds_audit.testing import Spec, plan_document, run_cli, write_json

HCL = Path(__file__).parent / "hcl"


def test_every_mapped_id_exists_in_the_installed_checkov() -> None:
    from checkov.common.checks.base_check_registry import BaseCheckRegistry
    from checkov.terraform.runner import Runner

    Runner()  # loads the built-in checks into the registries
    registered = {c.id for c in BaseCheckRegistry.get_all_registered_checks()}
    missing = sorted(set(checkov_mapping()) - registered)
    assert not missing, f"mapping.yaml names checks the installed Checkov lacks: {missing}"


def test_mapping_entries_name_requirements() -> None:
    for check in checkov_mapping().values():
        assert check.category in {"encryption_at_rest", "key_management", "logging"}
        assert check.frameworks.get("gdpr"), check.id
        assert check.frameworks.get("feima"), check.id


def test_folded_findings_carry_mapping_and_lines(aws_run: CheckovResult) -> None:
    folded = {
        (f.policy.id, f.resource.id): f for f in aws_run.findings if f.policy.id.startswith("CKV")
    }
    ebs = folded[("CKV_AWS_3", "aws_ebs_volume.fail_enc")]
    assert ebs.status is Status.FAIL
    assert ebs.policy.category == "encryption_at_rest"
    assert ebs.policy.severity.value == "high"
    assert ebs.policy.frameworks["hds-v2"] == ("EXI 02",)
    assert ebs.resource.source.file == str((HCL / "aws" / "main.tf").resolve())
    assert ebs.resource.attributes["file"] == "/main.tf"
    start, end = ebs.resource.attributes["lines"]
    text = (HCL / "aws" / "main.tf").read_text(encoding="utf-8").splitlines()
    assert text[start - 1] == 'resource "aws_ebs_volume" "fail_enc" {'
    assert end > start
    # the folded finding sits on the same normalised resource as the pack's (region known)
    assert ebs.resource.region == "eu-west-3"
    assert folded[("CKV_AWS_3", "aws_ebs_volume.pass_enc_key")].status is Status.PASS
    assert folded[("CKV_AWS_7", "aws_kms_key.hds")].status is Status.PASS
    meta_ids = {m.id for m in aws_run.policies}
    assert {"CKV_AWS_3", "HDS_ENC_001"} <= meta_ids


def test_azure_builtin_checks_are_folded(azure_run: CheckovResult) -> None:
    ids = {f.policy.id for f in azure_run.findings}
    assert {"CKV_AZURE_2", "CKV_AZURE_93"} <= ids


def test_unparsable_hcl_is_named_under_errors_and_the_rest_audited(
    broken_run: CheckovResult,
) -> None:
    assert len(broken_run.errors) == 1
    error = broken_run.errors[0]
    assert error.source.endswith("broken.tf")
    assert "line 2" in error.message
    assert any(
        f.policy.id == "HDS_ENC_001" and f.resource.id == "aws_ebs_volume.fail_enc"
        for f in broken_run.findings
    )


def test_with_checkov_on_a_plan(tmp_path: Path) -> None:
    specs = [
        Spec("aws_ebs_volume", "plain", {"availability_zone": "eu-west-3a", "encrypted": False}),
        Spec("aws_ebs_volume", "enc", {"availability_zone": "eu-west-3a", "encrypted": True}),
    ]
    plan = write_json(tmp_path / "plan.json", with_planned_values(plan_document(specs)))
    run = run_checkov(str(plan), plan=True)
    verdicts = {(f.policy.id, f.resource.id): f for f in run.findings}
    assert not any(f.policy.id.startswith("HDS") for f in run.findings)  # the engine's job
    assert verdicts[("CKV_AWS_3", "aws_ebs_volume.plain")].status is Status.FAIL
    assert verdicts[("CKV_AWS_3", "aws_ebs_volume.enc")].status is Status.PASS
    assert verdicts[("CKV_AWS_3", "aws_ebs_volume.plain")].resource.region == "eu-west-3"

    out = tmp_path / "out"
    args = ["scan", str(plan), "--with-checkov", "--output", str(out), "--format", "json"]
    result = run_cli([*args, "--no-history", "--quiet"])
    assert result.exit_code == 1, result.output  # violations found
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    statuses = {(f["policy_id"], f["resource_id"]): f["status"] for f in report["findings"]}
    assert statuses[("HDS_ENC_001", "aws_ebs_volume.plain")] == "fail"  # the engine's
    assert statuses[("CKV_AWS_3", "aws_ebs_volume.plain")] == "fail"  # Checkov's, folded


def test_scan_terraform_code_reports_errors_and_folded_findings(tmp_path: Path) -> None:
    result = run_cli(
        [
            "scan",
            "--terraform-code",
            str(HCL / "broken"),
            "--output",
            str(tmp_path),
            "--format",
            "json,sarif",
            "--no-history",
            "--quiet",
        ]
    )
    assert result.exit_code == 2, result.output  # one input could not be read
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [e["source"] for e in report["errors"]] == [str(HCL / "broken" / "broken.tf")]
    ids = {(f["policy_id"], f["resource_id"]) for f in report["findings"]}
    assert ("CKV_AWS_3", "aws_ebs_volume.fail_enc") in ids
    assert ("HDS_ENC_001", "aws_ebs_volume.fail_enc") in ids
    assert "CKV_AWS_3" in {p["id"] for p in report["policies"]}
    ckv = next(
        f
        for f in report["findings"]
        if f["policy_id"] == "CKV_AWS_3" and f["resource_id"] == "aws_ebs_volume.fail_enc"
    )
    assert ckv["source_file"] == str((HCL / "broken" / "main.tf").resolve())
    lines = {e["path"]: e["value"] for e in ckv["evidence"]}["checkov.file_line_range"]
    text = (HCL / "broken" / "main.tf").read_text(encoding="utf-8").splitlines()
    assert text[lines[0] - 1] == 'resource "aws_ebs_volume" "fail_enc" {'
    assert report["summary"]["resources"] > 0


def test_checkov_pack_command_prints_the_pack_directory() -> None:
    result = run_cli(["checkov-pack"])
    assert result.exit_code == 0
    pack = Path(result.output.strip())
    assert (pack / "__init__.py").is_file()
    assert (pack / "hds_pack.py").is_file()
