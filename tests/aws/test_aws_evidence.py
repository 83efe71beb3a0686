"""The evidence a live AWS scan records (issue 19): the identity and the regions read, and
the bytes of a state pulled from S3 — against the moto server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3
from click.testing import CliRunner

from hds_audit.cli import main
from hds_audit.collectors.aws.options import AwsRuntime


def _scan(args: list[str], out: Path) -> dict[str, object]:
    runtime = AwsRuntime(max_attempts=2, connect_timeout=1, read_timeout=2)
    full = ["scan", *args, "--format", "json", "--output", str(out), "--no-history"]
    result = CliRunner().invoke(main, full, obj=runtime)
    assert result.exit_code in (0, 1), result.output
    run: dict[str, object] = json.loads((out / "report.json").read_text())["run"]
    return run


def test_an_account_source_names_the_identity_and_regions(moto_url: str, tmp_path: Path) -> None:
    sts = boto3.client("sts", region_name="eu-west-3", endpoint_url=moto_url)
    identity = sts.get_caller_identity()
    run = _scan(
        ["--aws-endpoint-url", moto_url, "--aws-regions", "eu-west-3,eu-central-1"], tmp_path
    )
    [source] = run["sources"]  # type: ignore[misc]
    assert source["path"] == f"aws:{identity['Account']}"
    assert source["identity"] == identity["Arn"]
    assert source["regions"] == ["eu-central-1", "eu-west-3"]
    assert "testing" not in json.dumps(run)  # the dummy secret key never shows
    assert run["inputs"] == []  # no file was read


def test_a_state_pulled_from_s3_is_an_input_with_its_hash(moto_url: str, tmp_path: Path) -> None:
    body = json.dumps({"version": 4, "terraform_version": "1.9.0", "resources": []}).encode()
    s3 = boto3.client("s3", region_name="eu-west-3", endpoint_url=moto_url)
    s3.create_bucket(
        Bucket="evidence-states", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    s3.put_object(Bucket="evidence-states", Key="prod.tfstate", Body=body)
    url = "s3://evidence-states/prod.tfstate"
    run = _scan(["--terraform", url, "--aws-endpoint-url", moto_url], tmp_path)
    assert run["inputs"] == [
        {
            "path": url,
            "kind": "terraform-state",
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    ]
