"""Accounts (roles, organisation) and regions (enabled, disabled), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from estate import MANAGEMENT, Estate, plant, reset_moto

from hds_audit.cli import main
from hds_audit.collectors.aws.options import AwsRuntime
from hds_audit.collectors.aws.testing import Fault, FaultProxy


@pytest.fixture(scope="module")
def estate(moto_url: str) -> Estate:
    reset_moto(moto_url)
    return plant(moto_url)


def run(args: list[str], out: Path, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    runner = CliRunner()
    runtime = AwsRuntime(max_attempts=2, connect_timeout=1, read_timeout=2)
    full = [*args, "--format", "json", "--output", str(out)]
    result = runner.invoke(main, full, obj=runtime)
    return result.exit_code, json.loads((out / "report.json").read_text()), result.output


def test_one_role_per_account(estate: Estate, moto_url: str, tmp_path: Path) -> None:
    role = f"arn:aws:iam::{estate.member}:role/hds-audit-reader"
    _code, report, output = run(
        [
            "scan",
            "--aws-endpoint-url",
            moto_url,
            "--aws-regions",
            "us-east-1",
            "--aws-role-arn",
            role,
        ],
        tmp_path,
    )
    assert {r["id"] for r in report["resources"]} == {
        estate.ids["member_bucket_us"],
        estate.ids["member_key_us"],
    }, output
    [source] = report["run"]["sources"]
    assert source["path"] == f"aws:{estate.member}"
    assert f"reached with role {role}" in source["notes"]


def test_a_role_that_cannot_be_assumed_is_an_error_on_that_account(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(Fault("deny", service="sts", operation="AssumeRole"))
    code, report, _output = run(
        [
            "scan",
            "--aws-endpoint-url",
            faults.url,
            "--aws-regions",
            "eu-west-3",
            "--aws-org-role",
            "OrganizationAccountAccessRole",
        ],
        tmp_path,
    )
    assert [e["scope"] for e in report["errors"]] == [f"aws:{estate.member}"]
    assert "sts:AssumeRole" in report["errors"][0]["message"]
    # the management account (the current credentials) is still audited
    assert estate.ids["bucket_pass"] in {r["id"] for r in report["resources"]}
    assert code == 2


def test_disabled_regions_are_reported_not_errors(
    estate: Estate, moto_url: str, tmp_path: Path
) -> None:
    _code, report, _output = run(
        ["scan", "--aws-endpoint-url", moto_url, "--aws-regions", "eu-west-3,ap-east-1"],
        tmp_path,
    )
    assert report["errors"] == []
    [source] = report["run"]["sources"]
    assert "requested regions not enabled in this account: ap-east-1" in source["notes"]
    assert "regions audited: eu-west-3" in source["notes"]


def test_every_enabled_region_by_default(estate: Estate, moto_url: str, tmp_path: Path) -> None:
    _code, report, output = run(
        ["scan", "--aws", "--aws-endpoint-url", moto_url, "--aws-workers", "32"], tmp_path
    )
    assert report["errors"] == [], output
    [source] = report["run"]["sources"]
    disabled = next(n for n in source["notes"] if n.startswith("regions not enabled"))
    assert "ap-east-1" in disabled
    audited = next(n for n in source["notes"] if n.startswith("regions audited"))
    assert "eu-west-3" in audited and "ap-east-1" not in audited
    regions = {r["region"] for r in report["resources"]}
    assert {"eu-west-3", "eu-central-1", "us-east-1"} <= regions
    # progress lines when not on a terminal
    assert f"aws: {MANAGEMENT}/eu-west-3/s3: " in output


def test_settings_from_the_configuration_file(
    estate: Estate, moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        f"aws:\n  regions: [us-east-1]\n  endpoint_url: {moto_url}\n"
        f"  role_arns: ['arn:aws:iam::{estate.member}:role/reader']\n  max_workers: 4\n"
    )
    monkeypatch.chdir(tmp_path)
    _code, report, output = run(["scan", "--quiet"], tmp_path / "out")
    assert {r["id"] for r in report["resources"]} == {
        estate.ids["member_bucket_us"],
        estate.ids["member_key_us"],
    }, output
    assert "aws: " not in output  # --quiet: no progress


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("aws: {regions: 3}", "aws.regions"),
        ("aws: {max_workers: 0}", "aws.max_workers"),
        ("aws: {colour: blue}", "unknown aws setting colour"),
        ("aws: [1]", "'aws' must be"),
    ],
)
def test_bad_aws_settings_are_usage_errors(tmp_path: Path, text: str, problem: str) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(text + "\n")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2
    assert problem in result.output


def test_bad_role_arn_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", "--aws-role-arn", "not-an-arn"])
    assert result.exit_code == 2
    assert "--aws-role-arn" in result.output
