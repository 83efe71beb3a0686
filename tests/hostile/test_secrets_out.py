"""No secret reaches an output: reports of every format, stdout and stderr (CI logs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import good_state, policy_text, scan

from hds_audit.testing import Spec, plan_document, state_document, write_json

SECRET = "Hunter2-s3cr3t-Zq9"


def _policies(tmp_path: Path, *attributes: str) -> str:
    """A policy folder with one custom policy reading each attribute (evidence shows it)."""
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    for n, attribute in enumerate(attributes):
        text = policy_text(attribute, "exists", policy_id=f"CUSTOM_{n:03}")
        (folder / f"p{n}.yaml").write_text(text, encoding="utf-8")
    return str(folder)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (f"Server=db;Password={SECRET}\n", ""),
        ("", f"\nexport DB_URL=postgres://admin:{SECRET}@db\n"),
        (f"token: {SECRET}\n", ""),
        ("", f"\n{SECRET}\n"),
    ],
    ids=["wrapper-before", "wrapper-after", "plain-before", "plain-after"],
)
def test_input_errors_never_quote_file_content(tmp_path: Path, before: str, after: str) -> None:
    good = good_state(tmp_path / "in")
    polluted = tmp_path / "in" / "polluted.tfstate"
    polluted.write_text(before + json.dumps(state_document([])) + after, encoding="utf-8")
    run = scan(tmp_path, str(polluted), str(good))
    assert run.exit_code == 2, run.output
    assert SECRET not in run.everything()
    [message] = run.error_messages()
    assert message.startswith(str(polluted))
    assert "at byte" in message


def _state_with(tmp_path: Path, attributes: dict[str, Any], **extra: Any) -> Path:
    document = state_document([Spec("aws_s3_bucket", "b", {"region": "eu-west-3", **attributes})])
    document["resources"][0]["instances"][0].update(extra)
    return write_json(tmp_path / "s.tfstate", document)


def test_connection_string_with_spaces_around_equals_is_redacted(tmp_path: Path) -> None:
    state = _state_with(
        tmp_path, {"tags": {"conn": f"Server = db; User Id = app; Password = {SECRET}"}}
    )
    run = scan(tmp_path, str(state), "--policies", _policies(tmp_path, "attributes.tags"))
    assert "CUSTOM_000" in run.everything()
    assert SECRET not in run.everything()


def test_plan_after_sensitive_true_hides_the_whole_value(tmp_path: Path) -> None:
    document = plan_document(
        [Spec("aws_s3_bucket", "b", {"bucket": SECRET, "tags": {"Name": SECRET}})]
    )
    document["resource_changes"][0]["change"]["after_sensitive"] = True
    plan = write_json(tmp_path / "plan.json", document)
    run = scan(
        tmp_path,
        str(plan),
        "--policies",
        _policies(tmp_path, "attributes.tags", "attributes.bucket"),
    )
    assert "CUSTOM_001" in run.everything()
    assert SECRET not in run.everything()


INDEX_0 = {"type": "index", "value": {"value": 0, "type": "number"}}


@pytest.mark.parametrize(
    ("attributes", "path"),
    [
        ({"hosts": [SECRET, "b"]}, [{"type": "get_attr", "value": "hosts"}, INDEX_0]),
        (
            {"settings": {"owner": SECRET}},
            [
                {"type": "get_attr", "value": "settings"},
                {"type": "index", "value": {"value": "owner", "type": "string"}},
            ],
        ),
        (
            {"rules": [{"note": SECRET}]},
            [
                {"type": "get_attr", "value": "rules"},
                INDEX_0,
                {"type": "get_attr", "value": "note"},
            ],
        ),
    ],
    ids=["list-index", "map-index", "list-then-attribute"],
)
def test_state_sensitive_paths_in_terraform_shape_are_honoured(
    tmp_path: Path, attributes: dict[str, Any], path: list[Any]
) -> None:
    good = good_state(tmp_path / "in")
    state = _state_with(tmp_path, attributes, sensitive_attributes=[path])
    root = next(iter(attributes))
    run = scan(
        tmp_path, str(state), str(good), "--policies", _policies(tmp_path, f"attributes.{root}")
    )
    assert run.exit_code in (0, 1), run.output
    assert "CUSTOM_000" in run.everything()
    assert SECRET not in run.everything()


CONTAINER_DEFINITIONS = json.dumps(
    [
        {
            "name": "app",
            "image": "app:1",
            "environment": [
                {"name": "REGION", "value": "eu-west-3"},
                {"name": "DB_PASSWORD", "value": SECRET},
            ],
        }
    ]
)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("container_definitions", CONTAINER_DEFINITIONS),
        ("environment", [{"name": "API_TOKEN", "value": SECRET}]),
        ("user_data", f"#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY={SECRET}\nrun-app\n"),
        ("user_data_base", f"#!/bin/sh\nDB_PASSWORD: {SECRET}\n"),
        ("notes", f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{SECRET}\n-----END PGP PRIVATE KEY"),
        ("comment", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END"),
        ("json_blob", json.dumps({"outer": json.dumps({"password": SECRET})})),
        ("aws_key", "AKIA" + "Z7Q2" * 4),
    ],
)
def test_secret_shaped_values_in_encoded_strings_are_redacted(
    tmp_path: Path, name: str, value: Any
) -> None:
    state = _state_with(tmp_path, {name: value})
    run = scan(tmp_path, str(state), "--policies", _policies(tmp_path, f"attributes.{name}"))
    everything = run.everything()
    assert "CUSTOM_000" in everything
    assert SECRET not in everything
    assert "AKIAZ7Q2" not in everything


def test_useful_encoded_values_survive_redaction(tmp_path: Path) -> None:
    """Redacting inside JSON-encoded strings keeps what is not secret: policies still read it."""
    from hds_audit.secrets import redact

    out = redact({"container_definitions": CONTAINER_DEFINITIONS}, "aws_ecs_task_definition")
    decoded = json.loads(out["container_definitions"])
    assert decoded[0]["image"] == "app:1"
    assert decoded[0]["environment"][0] == {"name": "REGION", "value": "eu-west-3"}
    assert decoded[0]["environment"][1] == {"name": "DB_PASSWORD", "value": "[REDACTED]"}
