"""The service table is data that the guard, the permissions and the botocore models agree on."""

from __future__ import annotations

import io
from typing import Any

import boto3
import botocore.session
import pytest

from hds_audit.collectors.aws.normalise import NORMALISERS, inventory_type
from hds_audit.collectors.aws.progress import LiveProgress, LogProgress
from hds_audit.collectors.aws.session import (
    AwsSettings,
    Connector,
    ReadOnlyViolation,
    classify,
)
from hds_audit.collectors.aws.table import TableError, iam_policy, parse_table, service_table
from hds_audit.collectors.aws.testing import FaultProxy
from hds_audit.collectors.terraform.normalise import type_table
from hds_audit.errors import UsageError

_BOTOCORE = botocore.session.get_session()


def _model(client: str) -> Any:
    return _BOTOCORE.get_service_model(client)


def test_every_declared_operation_exists_in_the_botocore_model() -> None:
    for client, operation in service_table().declared():
        assert operation in _model(client).operation_names, f"{client}.{operation}"


def test_every_service_has_a_normaliser_actions_and_read_only_calls() -> None:
    table = service_table()
    for spec in table.services.values():
        assert spec.normaliser in NORMALISERS
        assert spec.actions
        for operation in spec.operations():
            assert table.is_read_only(operation)
        prefixes = {a.split(":")[0] for a in spec.actions}
        assert len(prefixes) == 1, spec.name


def test_the_table_refuses_a_write_operation() -> None:
    data = {
        "services": {
            "bad": {
                "client": "s3",
                "lists": [{"key": "b", "operation": "DeleteBucket", "path": "x"}],
                "normaliser": "s3_bucket",
                "actions": ["s3:DeleteBucket"],
            }
        }
    }
    with pytest.raises(TableError, match="not a read-only operation"):
        parse_table(data)


def test_the_policy_is_read_only_and_narrows_get_object() -> None:
    statements = iam_policy()["Statement"]
    broad = next(s for s in statements if s["Resource"] == "*")
    assert "s3:GetObject" not in broad["Action"]
    narrow = next(s for s in statements if s["Resource"] != "*")
    assert narrow["Action"] == ["s3:GetObject"]


def test_the_guard_refuses_a_write_before_it_is_sent(faults: FaultProxy) -> None:
    connector = Connector(AwsSettings(endpoint_url=faults.url), service_table())
    s3 = connector.new_client(boto3.session.Session(), "eu-west-3", "s3")
    with pytest.raises(ReadOnlyViolation, match="s3:CreateBucket"):
        s3.create_bucket(Bucket="never-created")
    assert faults.seen == []
    assert classify(ReadOnlyViolation("x"))[0] == "read_only_guard"


def test_inventory_types_come_from_the_terraform_table() -> None:
    types = service_table().inventory_types
    assert inventory_type("arn:aws:sqs:eu-west-3:123456789012:q", types) == "aws_sqs_queue"
    assert (
        inventory_type("arn:aws:logs:eu-west-3:123456789012:log-group:/app", types)
        == "aws_cloudwatch_log_group"
    )
    assert inventory_type("arn:aws:glue:eu-west-3:1:job/x", types) == "aws_glue_job"
    for rtype in types.values():
        assert rtype in type_table().specs or rtype.startswith("aws_"), rtype


def test_regions_option() -> None:
    assert AwsSettings.parse_regions("all") is None
    assert AwsSettings.parse_regions(None) is None
    assert AwsSettings.parse_regions("eu-west-3, eu-central-1,eu-west-3") == (
        "eu-west-3",
        "eu-central-1",
    )
    with pytest.raises(UsageError):
        AwsSettings.parse_regions("all,eu-west-3")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_progress_redraws_one_line_per_account() -> None:
    stream = _Terminal()
    ticks = iter(range(100))
    live = LiveProgress(stream, clock=lambda: float(next(ticks)))
    live.planned("111122223333", 4)
    live.planned("444455556666", 2)
    live.task_done("111122223333", "eu-west-3", "s3", 3, None)
    live.task_done("111122223333", "eu-west-3", "rds", 0, "access denied")
    live.finished()
    screen = stream.getvalue()
    assert "\x1b[2F" in screen  # cursor back up over the two account lines
    last = screen.rsplit("\x1b[2F\x1b[J", 1)[-1]
    assert "aws 111122223333: 2/4 tasks, 1 regions, 3 resources, 1 errors" in last
    assert "aws 444455556666: 0/2 tasks" in last


def test_log_progress_prints_plain_lines() -> None:
    stream = io.StringIO()
    log = LogProgress(stream)
    log.task_done("111122223333", "eu-west-3", "s3", 3, None)
    log.task_done("111122223333", "eu-west-3", "rds", 0, "access denied")
    assert stream.getvalue().splitlines() == [
        "aws: 111122223333/eu-west-3/s3: 3 resources",
        "aws: 111122223333/eu-west-3/rds: ERROR access denied",
    ]
