"""End to end through the CLI against the moto server: exact findings for a planted estate,
faults at the HTTP boundary, read-only proof, credentials, s3:// states."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from estate import MANAGEMENT, ORG_ROLE, Estate, plant, reset_moto

from hds_audit.cli import main
from hds_audit.collectors.aws.options import AwsRuntime
from hds_audit.collectors.aws.session import CallRecord
from hds_audit.collectors.aws.table import iam_policy, service_table
from hds_audit.collectors.aws.testing import Fault, FaultProxy

REGIONS = "eu-west-3,eu-central-1,us-east-1"


@pytest.fixture(scope="module")
def estate(moto_url: str) -> Estate:
    reset_moto(moto_url)
    return plant(moto_url)


def add_replica(table: str, region: str) -> Fault:
    """moto has no global tables: show one the way DynamoDB would, at the HTTP boundary."""

    def rewrite(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("Table", {}).get("TableName") == table:
            body["Table"]["Replicas"] = [{"RegionName": region, "ReplicaStatus": "ACTIVE"}]
        return body

    return Fault("rewrite", service="dynamodb", operation="DescribeTable", rewrite=rewrite)


def scan(
    url: str,
    out: Path,
    *extra: str,
    runtime: AwsRuntime | None = None,
    env: dict[str, str | None] | None = None,
) -> tuple[int, dict[str, Any] | None, str]:
    args = [
        "scan",
        "--aws-endpoint-url",
        url,
        "--aws-regions",
        REGIONS,
        "--format",
        "json",
        "--output",
        str(out),
        *extra,
    ]
    runtime = runtime or AwsRuntime(max_attempts=2, connect_timeout=1, read_timeout=1)
    result = CliRunner().invoke(main, args, obj=runtime, env=env)
    report_file = out / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return result.exit_code, report, result.output


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """resource id -> {policy id: status}."""
    found: dict[str, dict[str, str]] = {}
    for finding in report["findings"]:
        if finding["category"] == "certified_provider":
            continue  # judged from the host registry, not from what the collector read
        found.setdefault(finding["resource_id"], {})[finding["policy_id"]] = finding["status"]
    return found


# The verdicts every planted resource must get (the four built-in policies).
PASS_DATA = {
    "HDS_RES_001": "pass",
    "HDS_REP_001": "pass",
    "HDS_ENC_001": "pass",
    "HDS_KEY_001": "pass",
}


def expected(estate: Estate) -> dict[str, dict[str, str]]:
    ids = estate.ids
    account = MANAGEMENT
    volume = f"arn:aws:ec2:eu-west-3:{account}:volume/"
    key_pass = {"HDS_RES_001": "pass", "HDS_REP_001": "pass"}
    return {
        ids["key_paris"]: key_pass,
        ids["key_frankfurt"]: key_pass,
        ids["member_key_us"]: {"HDS_RES_001": "fail", "HDS_REP_001": "pass"},
        ids["bucket_pass"]: PASS_DATA,
        ids["bucket_pass_replica"]: PASS_DATA,
        ids["trail_bucket"]: PASS_DATA,
        ids["trail"]: PASS_DATA,
        ids["db_pass"]: PASS_DATA,
        volume + ids["volume_pass"]: PASS_DATA,
        # unencrypted: HDS_KEY_001 does not apply (see HDS_ENC_001)
        volume + ids["volume_plain"]: {
            **PASS_DATA,
            "HDS_ENC_001": "fail",
            "HDS_KEY_001": "not_applicable",
        },
        # SSE-S3 (AWS-held key), replicated to us-east-1
        ids["bucket_fail_replication"]: {**PASS_DATA, "HDS_REP_001": "fail", "HDS_KEY_001": "fail"},
        ids["bucket_fail_us"]: {**PASS_DATA, "HDS_RES_001": "fail", "HDS_KEY_001": "fail"},
        ids["member_bucket_us"]: {**PASS_DATA, "HDS_RES_001": "fail", "HDS_KEY_001": "fail"},
        ids["db_us_plain"]: {
            **PASS_DATA,
            "HDS_RES_001": "fail",
            "HDS_ENC_001": "fail",
            "HDS_KEY_001": "not_applicable",
        },
        # a global table with a replica in us-east-1 (shown at the HTTP boundary)
        ids["table_global"]: {**PASS_DATA, "HDS_REP_001": "fail"},
        # no SSE specification: AWS-owned key
        ids["table_owned_key"]: {**PASS_DATA, "HDS_KEY_001": "fail"},
        # found by the tagging inventory only: encryption and copies not read -> unknown
        ids["queue"]: {
            **PASS_DATA,
            "HDS_ENC_001": "unknown",
            "HDS_REP_001": "unknown",
            "HDS_KEY_001": "unknown",
        },
    }


def test_scan_finds_exactly_the_planted_verdicts(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(add_replica("fail-global-table", "us-east-1"))
    calls: list[CallRecord] = []
    runtime = AwsRuntime(observer=calls.append, max_attempts=2)
    code, report, output = scan(faults.url, tmp_path, "--aws-org-role", ORG_ROLE, runtime=runtime)
    assert report is not None, output
    assert code == 1, output
    assert report["errors"] == []
    assert verdicts(report) == expected(estate)
    accounts = {r["id"]: r["source"] for r in report["resources"]}
    assert len(accounts) == len(expected(estate))
    sources = {s["path"] for s in report["run"]["sources"]}
    assert sources == {f"aws:{MANAGEMENT}", f"aws:{estate.member}"}
    # read-only, provably: every call made is declared in the permissions table
    declared = service_table().declared()
    made = {(c.client, c.operation) for c in calls}
    assert made <= declared, made - declared
    # each KMS key described once for the whole scan
    described = Counter(c.operation for c in calls)["DescribeKey"]
    keys = [r for r in report["resources"] if r["type"] == "aws_kms_key"]
    assert described == len(keys) == 3


def test_access_denied_on_one_service_hides_only_that_scope(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(Fault("deny", service="rds"))
    code, report, output = scan(faults.url, tmp_path)
    assert report is not None, output
    scopes = {e["scope"] for e in report["errors"]}
    assert scopes == {f"aws:{MANAGEMENT}/{r}/rds" for r in REGIONS.split(",")}
    assert all("access denied" in e["message"] for e in report["errors"])
    found = verdicts(report)
    assert estate.ids["db_pass"] not in found
    for scope in scopes:
        assert set(found[scope].values()) == {"unknown"}
    assert found[estate.ids["bucket_pass"]] == PASS_DATA
    assert "access denied" in output
    assert code == 2  # some inputs could not be read; the rest was audited


def test_one_bucket_refusing_one_call_hides_only_what_that_call_feeds(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    bucket = "fail-records-to-virginia"
    faults.faults.append(Fault("deny", service="s3", path=f"/{bucket}?replication"))
    _code, report, output = scan(faults.url, tmp_path)
    assert report is not None, output
    [error] = report["errors"]
    assert error["scope"] == f"aws:{MANAGEMENT}/eu-west-3/s3/{bucket}"
    assert "GetBucketReplication" not in error["message"] or "access denied" in error["message"]
    found = verdicts(report)
    # replication unknown (not the fail it would be), the rest of the bucket still judged
    assert found[estate.ids["bucket_fail_replication"]] == {
        **PASS_DATA,
        "HDS_REP_001": "unknown",
        "HDS_KEY_001": "fail",
    }
    assert found[estate.ids["bucket_pass"]] == PASS_DATA


def test_throttling_past_the_retries_is_an_error_not_a_pass(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(Fault("throttle", service="dynamodb", region="eu-west-3"))
    _code, report, output = scan(faults.url, tmp_path)
    assert report is not None, output
    [error] = report["errors"]
    assert error["scope"] == f"aws:{MANAGEMENT}/eu-west-3/dynamodb"
    assert "throttled" in error["message"]
    assert estate.ids["table_global"] not in verdicts(report)
    assert estate.ids["table_owned_key"] in verdicts(report)


def test_a_region_that_times_out_is_listed_and_the_rest_completes(
    estate: Estate, faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(Fault("hang", region="eu-central-1", seconds=3))
    started = time.monotonic()
    _code, report, output = scan(faults.url, tmp_path)
    elapsed = time.monotonic() - started
    assert report is not None, output
    scopes = {e["scope"] for e in report["errors"]}
    assert scopes == {f"aws:{MANAGEMENT}/eu-central-1/{name}" for name in service_table().services}
    found = verdicts(report)
    assert estate.ids["bucket_pass_replica"] not in found
    assert found[estate.ids["bucket_pass"]]["HDS_RES_001"] == "pass"
    assert elapsed < 30


def test_missing_credentials_is_one_line_and_exit_2(moto_url: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
    }
    code, report, output = scan(moto_url, tmp_path, "--aws", env=env)
    assert code == 2
    assert report is None
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert "AWS credentials missing or invalid" in lines[0]


def test_expired_credentials_is_exit_2_before_any_scan(faults: FaultProxy, tmp_path: Path) -> None:
    faults.faults.append(Fault("deny", service="sts", code="ExpiredToken"))
    code, _report, output = scan(faults.url, tmp_path, "--aws")
    assert code == 2, output
    assert "ExpiredToken" in output
    assert {s.operation for s in faults.seen} == {"GetCallerIdentity"}


def test_terraform_state_read_from_s3(moto_url: str, estate: Estate, tmp_path: Path) -> None:
    state = {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 1,
        "lineage": "x",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "records",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "bucket": "records-from-state",
                            "arn": "arn:aws:s3:::records-from-state",
                            "region": "eu-west-3",
                        },
                    }
                ],
            }
        ],
    }
    # in a region the other scans do not audit, so it never shows up in their findings
    s3 = boto3.client("s3", region_name="eu-north-1", endpoint_url=moto_url)
    s3.create_bucket(
        Bucket="tf-states-paris", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    s3.put_object(Bucket="tf-states-paris", Key="prod/terraform.tfstate", Body=json.dumps(state))
    url = "s3://tf-states-paris/prod/terraform.tfstate"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--terraform",
            url,
            "--aws-endpoint-url",
            moto_url,
            "--format",
            "json",
            "--output",
            str(tmp_path),
        ],
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["id"] for r in report["resources"]] == ["aws_s3_bucket.records"], result.output
    missing = CliRunner().invoke(
        main,
        [
            "scan",
            "--terraform",
            "s3://tf-states-paris/nope",
            "--aws-endpoint-url",
            moto_url,
            "--format",
            "json",
            "--output",
            str(tmp_path),
        ],
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["errors"][0]["scope"] == "s3://tf-states-paris/nope"
    assert "cannot be read from S3" in report["errors"][0]["message"], missing.output


def test_permissions_aws_prints_the_policy_from_the_table() -> None:
    result = CliRunner().invoke(main, ["permissions", "aws"])
    assert result.exit_code == 0
    policy = json.loads(result.output)
    assert policy == iam_policy()
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    for spec in service_table().services.values():
        assert set(spec.actions) <= actions
    assert all(
        a.split(":")[1].startswith(("List", "Describe", "Get")) or a == "sts:AssumeRole"
        for a in actions
    )
