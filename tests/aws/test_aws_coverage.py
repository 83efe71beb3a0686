"""Issue 15 live: Kinesis streams, ECR repositories, SSM parameters, OpenSearch domains and
launch templates read from the moto server, with the verdicts their Terraform twins get."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from estate import Planter, reset_moto, session_for

from hds_audit.cli import main
from hds_audit.collectors.aws.options import AwsRuntime
from hds_audit.collectors.aws.session import CallRecord
from hds_audit.collectors.aws.table import iam_policy, service_table
from hds_audit.collectors.aws.testing import Fault, FaultProxy

REGION = "eu-west-3"


@pytest.fixture(scope="module")
def planted(moto_url: str) -> dict[str, str]:
    reset_moto(moto_url)
    m = Planter(moto_url, session_for(moto_url))
    key = m.key(REGION, "health data")
    ids: dict[str, str] = {"key": key}
    kinesis = m.client("kinesis", REGION)
    for name in ("pass-stream", "fail-plain-stream"):
        kinesis.create_stream(StreamName=name, ShardCount=1)
        ids[name] = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
    kinesis.start_stream_encryption(StreamName="pass-stream", EncryptionType="KMS", KeyId=key)
    ecr = m.client("ecr", REGION)
    ids["pass-repo"] = ecr.create_repository(
        repositoryName="pass-repo", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key}
    )["repository"]["repositoryArn"]
    ids["default-repo"] = ecr.create_repository(repositoryName="default-repo")["repository"][
        "repositoryArn"
    ]
    ssm = m.client("ssm", REGION)
    ssm.put_parameter(Name="/app/secret", Value="s3cr3t-value", Type="SecureString", KeyId=key)
    ssm.put_parameter(Name="/app/plain", Value="plain-value", Type="String")
    search = m.client("opensearch", REGION)
    ids["pass-search"] = search.create_domain(
        DomainName="pass-search", EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": key}
    )["DomainStatus"]["ARN"]
    ids["fail-search"] = search.create_domain(DomainName="fail-search")["DomainStatus"]["ARN"]
    ec2 = m.client("ec2", REGION)
    ids["template"] = ec2.create_launch_template(
        LaunchTemplateName="app",
        LaunchTemplateData={
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "KmsKeyId": key}},
                {"DeviceName": "/dev/sdf", "Ebs": {"Encrypted": False, "VolumeSize": 8}},
                {"DeviceName": "/dev/sdg", "Ebs": {"VolumeSize": 8}},
            ]
        },
    )["LaunchTemplate"]["LaunchTemplateId"]
    return ids


def _scan(url: str, out: Path, calls: list[CallRecord] | None = None) -> dict[str, Any]:
    runtime = AwsRuntime(
        observer=calls.append if calls is not None else None,
        max_attempts=2,
        connect_timeout=1,
        read_timeout=1,
    )
    args = ["scan", "--aws-endpoint-url", url, "--aws-regions", REGION]
    args += ["--format", "json", "--output", str(out)]
    result = CliRunner().invoke(main, args, obj=runtime)
    report_file = out / "report.json"
    assert report_file.exists(), result.output
    report: dict[str, Any] = json.loads(report_file.read_text())
    return report


def _verdicts(report: dict[str, Any], policy: str) -> dict[str, str]:
    return {f["resource_id"]: f["status"] for f in report["findings"] if f["policy_id"] == policy}


def test_live_streams_repositories_parameters_domains_templates(
    moto_url: str, planted: dict[str, str], tmp_path: Path
) -> None:
    calls: list[CallRecord] = []
    report = _scan(moto_url, tmp_path, calls)
    assert report["errors"] == []
    enc, key = _verdicts(report, "HDS_ENC_001"), _verdicts(report, "HDS_KEY_001")
    account = planted["key"].split(":")[4]
    parameter = f"arn:aws:ssm:{REGION}:{account}:parameter"
    template = f"arn:aws:ec2:{REGION}:{account}:launch-template/{planted['template']}"
    assert (enc[planted["pass-stream"]], key[planted["pass-stream"]]) == ("pass", "pass")
    assert enc[planted["fail-plain-stream"]] == "fail"
    assert (enc[planted["pass-repo"]], key[planted["pass-repo"]]) == ("pass", "pass")
    assert (enc[planted["default-repo"]], key[planted["default-repo"]]) == ("pass", "fail")
    assert (enc[f"{parameter}/app/secret"], key[f"{parameter}/app/secret"]) == ("pass", "pass")
    assert enc[f"{parameter}/app/plain"] == "fail"
    assert (enc[planted["pass-search"]], key[planted["pass-search"]]) == ("pass", "pass")
    assert enc[planted["fail-search"]] == "fail"
    assert enc[f"{template}//dev/xvda"] == "pass"
    assert enc[f"{template}//dev/sdf"] == "fail"
    assert enc[f"{template}//dev/sdg"] == "unknown"
    types = {r["id"]: r["type"] for r in report["resources"]}
    assert types[template] == "aws_launch_template"
    # No parameter value is ever read, let alone written to the report.
    text = (tmp_path / "report.json").read_text()
    assert "s3cr3t-value" not in text and "plain-value" not in text
    made = {(c.client, c.operation) for c in calls}
    assert made <= service_table().declared()
    assert {("ssm", "GetParameter"), ("ssm", "GetParameters")}.isdisjoint(made)


def test_denied_stream_description_hides_only_its_encryption(
    planted: dict[str, str], faults: FaultProxy, tmp_path: Path
) -> None:
    faults.faults.append(Fault("deny", service="kinesis", operation="DescribeStreamSummary"))
    report = _scan(faults.url, tmp_path)
    enc = _verdicts(report, "HDS_ENC_001")
    assert enc[planted["pass-stream"]] == "unknown"
    assert enc[planted["fail-plain-stream"]] == "unknown"
    assert enc[planted["pass-repo"]] == "pass"
    assert any("kinesis" in e["scope"] for e in report["errors"])


def test_permissions_name_the_new_read_actions() -> None:
    actions = {a for s in iam_policy(service_table())["Statement"] for a in s["Action"]}
    assert {
        "kinesis:DescribeStreamSummary",
        "ecr:DescribeRepositories",
        "ssm:DescribeParameters",
        "es:DescribeDomain",
        "ec2:DescribeLaunchTemplateVersions",
    } <= actions
    assert "ssm:GetParameter" not in actions


@pytest.mark.parametrize(
    ("arn", "rtype"),
    [
        ("arn:aws:kafka:eu-west-3:1:cluster/records/0b1c", "aws_msk_cluster"),
        ("arn:aws:timestream:eu-west-3:1:database/vitals", "aws_timestreamwrite_database"),
        ("arn:aws:rds:eu-west-3:1:snapshot:nightly", "aws_db_snapshot"),
        ("arn:aws:memorydb:eu-west-3:1:cluster/sessions", "aws_memorydb_cluster"),
    ],
)
def test_inventory_only_types_are_data_stores_with_unknown_encryption(arn: str, rtype: str) -> None:
    from hds_audit.collectors.aws.normalise import inventory_type
    from hds_audit.collectors.terraform.normalise import type_table
    from hds_audit.model import DATA_KINDS

    assert inventory_type(arn, service_table().inventory_types) == rtype
    # A data kind: the inventory marks its encryption unknown ("not read yet"), never silent.
    assert type_table().spec(rtype).kind in DATA_KINDS


def test_live_ebs_default_decides_a_plans_implicit_root_volume(
    moto_url: str, planted: dict[str, str], tmp_path: Path
) -> None:
    from hds_audit.testing import Spec, plan_document, write_json

    m = Planter(moto_url, session_for(moto_url))
    ec2 = m.client("ec2", REGION)
    ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)  # carries the region's reading
    plan = write_json(
        tmp_path / "plan.json",
        plan_document(
            [Spec("aws_instance", "app", {"ami": "ami-1"}, unknown=["root_block_device", "arn"])],
            provider_regions={"aws": REGION},
        ),
    )
    root = "aws_instance.app.root_block_device[implicit]"

    def root_verdict(out: Path) -> tuple[str, str | None]:
        args = ["scan", "--terraform", str(plan), "--aws-endpoint-url", moto_url]
        args += ["--aws-regions", REGION, "--format", "json", "--output", str(out)]
        CliRunner().invoke(main, args, obj=AwsRuntime(max_attempts=2))
        report = json.loads((out / "report.json").read_text())
        [finding] = [
            f
            for f in report["findings"]
            if f["resource_id"] == root and f["policy_id"] == "HDS_ENC_001"
        ]
        return finding["status"], finding["evidence"][0]["note"]

    ec2.disable_ebs_encryption_by_default()
    status, note = root_verdict(tmp_path / "off")
    assert status == "unknown" and "is off for account" in (note or "")
    ec2.enable_ebs_encryption_by_default()
    try:
        status, note = root_verdict(tmp_path / "on")
    finally:
        ec2.disable_ebs_encryption_by_default()
    assert status == "pass" and "is on for account" in (note or "")
    # Without the live source the plan alone cannot tell.
    alone = tmp_path / "alone"
    CliRunner().invoke(
        main, ["scan", "--terraform", str(plan), "--format", "json", "--output", str(alone)]
    )
    findings = json.loads((alone / "report.json").read_text())["findings"]
    [finding] = [
        f for f in findings if f["resource_id"] == root and f["policy_id"] == "HDS_ENC_001"
    ]
    assert finding["status"] == "unknown"
    assert "EBS encryption-by-default" in finding["evidence"][0]["note"]
