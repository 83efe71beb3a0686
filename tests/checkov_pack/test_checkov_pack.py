"""The HDS pack on HCL: every policy passes and fails where expected, AWS and Azure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hds_audit.checkov.checks import HdsResourceCheck, build_checks, covered_types, pack_policies
from hds_audit.checkov.hcl import instance_from_conf
from hds_audit.checkov.runner import CheckovResult, offline_environment, pack_directory
from hds_audit.model import Status

HCL = Path(__file__).parent / "hcl"
EXPECTED = yaml.safe_load((HCL / "expected.yaml").read_text(encoding="utf-8"))
CASES = [
    (cloud, policy, outcome, address)
    for cloud, policies in EXPECTED.items()
    for policy, outcomes in policies.items()
    for outcome, addresses in outcomes.items()
    for address in addresses
]


def _verdicts(run: CheckovResult) -> dict[tuple[str, str], Status]:
    return {(f.policy.id, f.resource.id): f.status for f in run.findings}


@pytest.mark.parametrize(("cloud", "policy", "outcome", "address"), CASES)
def test_pack_verdicts(
    cloud: str,
    policy: str,
    outcome: str,
    address: str,
    request: pytest.FixtureRequest,
) -> None:
    run: CheckovResult = request.getfixturevalue(f"{cloud}_run")
    assert _verdicts(run)[(policy, address)] is Status(outcome)


def test_every_pack_policy_has_pass_and_fail_fixtures() -> None:
    for policy in pack_policies():
        if policy.meta.id not in EXPECTED["aws"]:
            continue
        assert EXPECTED["aws"][policy.meta.id]["pass"], policy.meta.id
        assert EXPECTED["aws"][policy.meta.id]["fail"], policy.meta.id
        assert EXPECTED["azure"][policy.meta.id]["pass"], policy.meta.id


def test_pack_carries_residency_replication_encryption_and_keys() -> None:
    ids = {p.meta.id for p in pack_policies()}
    assert {"HDS_ENC_001", "HDS_KEY_001", "HDS_RES_001", "HDS_REP_001"} <= ids
    assert all(covered_types(p) for p in pack_policies())


def test_pack_findings_keep_file_and_lines(aws_run: CheckovResult) -> None:
    finding = next(
        f
        for f in aws_run.findings
        if f.policy.id == "HDS_ENC_001" and f.resource.id == "aws_ebs_volume.fail_enc"
    )
    assert finding.resource.source.file == str((HCL / "aws" / "main.tf").resolve())
    text = (HCL / "aws" / "main.tf").read_text(encoding="utf-8").splitlines()
    start, end = finding.resource.attributes["lines"]
    assert text[start - 1].startswith('resource "aws_ebs_volume" "fail_enc"')
    assert text[end - 1] == "}"


def test_region_comes_from_the_aliased_provider_block(aws_run: CheckovResult) -> None:
    regions = {f.resource.id: f.resource.region for f in aws_run.findings}
    assert regions["aws_ebs_volume.fail_res"] == "us-east-1"
    assert regions["aws_efs_file_system.fail_res_efs"] == "us-east-1"
    assert regions["aws_ebs_volume.pass_enc_key"] == "eu-west-3"


def test_hcl_conf_is_unwrapped_and_references_are_unknown() -> None:
    conf: dict[str, Any] = {
        "__address__": "aws_ebs_volume.v",
        "__provider_address__": "aws.us",
        "__start_line__": 1,
        "__end_line__": 5,
        "encrypted": [True],
        "kms_key_id": ["aws_kms_key.hds.arn"],
        "size": ["${var.size}"],
        "tags": [{"Name": "v"}],
        "ebs_block_device": [{"encrypted": [False]}],
        "type": ["db.t3.micro"],
        "snapshot_id": ["module.shared.snapshot_id"],
    }
    inst = instance_from_conf("aws_ebs_volume", conf, {"aws.us": "us-east-1"})
    assert inst.attributes["encrypted"] is True
    assert inst.attributes["tags"] == [{"Name": "v"}]
    assert inst.attributes["ebs_block_device"] == [{"encrypted": False}]
    assert inst.attributes["type"] == "db.t3.micro"  # a literal with dots stays a literal
    assert inst.unknown == {"kms_key_id", "size", "snapshot_id"}
    assert inst.references["kms_key_id"] == ("aws_kms_key.hds.arn",)
    assert inst.provider_key == "aws.us"
    assert inst.provider_region == "us-east-1"


def test_checkov_cli_loads_the_pack_from_its_directory() -> None:
    """What `checkov -d DIR --external-checks-dir $(hds-audit checkov-pack)` does."""
    with offline_environment():
        from checkov.runner_filter import RunnerFilter
        from checkov.terraform.runner import Runner

        report = Runner().run(
            root_folder=str(HCL / "aws"),
            external_checks_dir=[str(pack_directory())],
            runner_filter=RunnerFilter(
                framework=["terraform"], checks=["HDS_ENC_001", "HDS_RES_001"]
            ),
        )
    assert not isinstance(report, list)
    failed = {(r.check_id, r.resource) for r in report.failed_checks}
    passed = {(r.check_id, r.resource) for r in report.passed_checks}
    assert ("HDS_ENC_001", "aws_ebs_volume.fail_enc") in failed
    assert ("HDS_ENC_001", "aws_ebs_volume.pass_enc_key") in passed
    assert ("HDS_RES_001", "aws_ebs_volume.fail_res") in failed
    # the provider check judges the aliased provider block itself
    assert ("HDS_RES_001", "aws.us") in failed
    assert ("HDS_RES_001", "aws.default") in passed


def test_checks_are_built_from_the_policies_not_copied() -> None:
    resource_checks, provider_checks = build_checks()
    ids = {c.id for c in resource_checks}
    assert ids == {p.meta.id for p in pack_policies()}
    assert all(isinstance(c, HdsResourceCheck) for c in resource_checks)
    assert [c.id for c in provider_checks] == ["HDS_RES_001"]
