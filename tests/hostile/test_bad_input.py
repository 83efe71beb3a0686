"""One bad input never aborts the run: it is named with its problem, exit 2, the rest audited."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import (
    CERTIFIED,
    deep_json,
    good_state,
    policy_text,
    scan,
    scan_subprocess,
)

from hds_audit.testing import Spec, run_cli, state_document, write_json

GOOD_ID = "aws_s3_bucket.good"


def _bad_state(tmp_path: Path, mutate: Any) -> Path:
    document = state_document(
        [Spec("aws_s3_bucket", "bad", {"bucket": "bad", "region": "eu-west-3"})]
    )
    mutate(document["resources"][0]["instances"][0])
    return write_json(tmp_path / "bad.tfstate", document)


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda i: i.update(attributes=[1, 2]), "attributes are a list, not an object"),
        (lambda i: i.update(attributes="x=1"), "attributes are a text, not an object"),
        (lambda i: i["attributes"].update(region=3), "'region' is a number, not a text"),
        (lambda i: i["attributes"].update(region=["eu-west-3"]), "'region' is a list, not a text"),
    ],
    ids=["attributes-list", "attributes-string", "numeric-region", "list-region"],
)
def test_ill_shaped_state_is_an_input_error(
    tmp_path: Path, mutate: Any, problem: str | None
) -> None:
    good = good_state(tmp_path / "in")
    bad = _bad_state(tmp_path, mutate)
    run = scan(tmp_path, str(bad), str(good))
    assert run.exit_code == 2, run.output
    assert "internal error" not in run.output
    assert GOOD_ID in run.resource_ids()
    [message] = run.error_messages()
    assert message.startswith(f"{bad}: ")
    assert "aws_s3_bucket.bad" in message and problem in message


def test_location_of_wrong_type_in_azure_is_an_input_error(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    spec = Spec("azurerm_storage_account", "sa", {"name": "sa", "location": 44})
    bad = write_json(tmp_path / "bad.tfstate", state_document([spec]))
    run = scan(tmp_path, str(bad), str(good))
    assert run.exit_code == 2, run.output
    assert GOOD_ID in run.resource_ids()
    [message] = run.error_messages()
    assert message == (
        f"{bad}: has an unexpected shape: azurerm_storage_account.sa: 'location' is a number, "
        "not a text"
    )


def test_deep_nesting_in_a_state_is_an_input_error(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    text = json.dumps(state_document([Spec("aws_s3_bucket", "d", {"region": "eu-west-3"})]))
    bad = tmp_path / "deep.tfstate"
    bad.write_text(text.replace('"region"', f'"deep": {deep_json(10_000)}, "region"'), "utf-8")
    run = scan(tmp_path, str(bad), str(good))
    assert run.exit_code == 2, run.output
    assert GOOD_ID in run.resource_ids()
    [message] = run.error_messages()
    assert message.startswith(f"{bad}: nests values deeper than")


def test_moderately_deep_attributes_are_an_input_error_not_a_crash(tmp_path: Path) -> None:
    """Deep enough to pass the JSON decoder, too deep for the walks after it."""
    good = good_state(tmp_path / "in")
    deep = '{"k": ' * 960 + '"leaf"' + "}" * 960
    text = json.dumps(state_document([Spec("aws_s3_bucket", "d", {"region": "eu-west-3"})]))
    bad = tmp_path / "deep.tfstate"
    bad.write_text(text.replace('"region"', f'"deep": {deep}, "region"'), "utf-8")
    run = scan(tmp_path, str(bad), str(good), "--policies", _policy_folder(tmp_path))
    assert run.exit_code == 2, run.output
    assert GOOD_ID in run.resource_ids()
    [message] = run.error_messages()
    assert "nests values deeper than" in message


def _policy_folder(tmp_path: Path, text: str | None = None) -> str:
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(text or policy_text("attributes.deep"), encoding="utf-8")
    return str(folder)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (policy_text("attributes.bucket") + "extra: " + deep_json(10_000) + "\n", "nests"),
        (policy_text("attributes.bucket", "regex_match", "'(['"), "regular expression"),
        (
            policy_text("attributes.bucket") + "scope:\n  providers: [[aws]]\n",
            "'providers' must be a list of texts",
        ),
        (
            policy_text("attributes.bucket") + "scope:\n  types: [{a: 1}]\n",
            "'types' must be a list of texts",
        ),
        (policy_text("attributes.bucket", "subset", "[{a: [1]}]"), None),
    ],
    ids=["deep", "invalid-regex", "nested-providers", "mapping-types", "odd-value"],
)
def test_bad_policy_is_named_with_exit_2(tmp_path: Path, text: str, problem: str | None) -> None:
    good = good_state(tmp_path / "in")
    run = scan(tmp_path, str(good), "--policies", _policy_folder(tmp_path, text))
    assert "internal error" not in run.output
    if problem is None:  # a value the operator can still judge: the run goes on
        assert run.exit_code in (0, 1), run.output
        return
    assert run.exit_code == 2, run.output
    assert "p.yaml" in run.output and problem in run.output


def _baseline(tmp_path: Path, text: str) -> str:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _finding(**changes: Any) -> dict[str, Any]:
    finding = {
        "policy_id": "HDS_ENC_001",
        "resource_id": "x",
        "status": "fail",
        "severity": "high",
        "category": "encryption_at_rest",
    }
    return {**finding, **changes}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"schema_version": "1.0", "findings": ' + deep_json(10_000) + "}", "nests"),
        (
            json.dumps({"schema_version": "1.0", "findings": [_finding(status=["fail"])]}),
            "finding 0 has an unknown status",
        ),
        (
            json.dumps({"schema_version": "1.0", "findings": [_finding(policy_id={"a": 1})]}),
            "finding 0",
        ),
    ],
    ids=["deep", "status-list", "policy-id-mapping"],
)
def test_bad_baseline_is_named_with_exit_2(tmp_path: Path, text: str, problem: str) -> None:
    good = good_state(tmp_path / "in")
    run = scan(tmp_path, str(good), "--baseline", _baseline(tmp_path, text))
    assert run.exit_code == 2, run.output
    assert "internal error" not in run.output
    assert "baseline.json" in run.output and problem in run.output


def test_unreadable_sub_folder_is_named_and_the_rest_audited(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_state(folder)
    locked = folder / "locked"
    locked.mkdir()
    write_json(locked / "hidden.tfstate", state_document([]))
    locked.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads every folder: drop the capabilities that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: no folder is unreadable")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    try:
        run = scan_subprocess(tmp_path, str(folder), prefix=prefix)
    finally:
        locked.chmod(0o755)
    assert run.exit_code == 2, run.output
    assert f"{locked}: cannot be read: Permission denied" in run.output
    assert GOOD_ID in run.resource_ids()


def _history_with_a_run(tmp_path: Path) -> Path:
    good = good_state(tmp_path / "in")
    db = tmp_path / "history.sqlite"
    run = scan(tmp_path, str(good), "--history", str(db))
    assert run.exit_code in (0, 1), run.output
    return db


@pytest.mark.parametrize(
    ("column", "value"),
    [("sources", "not json"), ("by_status", "[1"), ("started_at", "yesterday")],
)
def test_tampered_history_row_is_named(tmp_path: Path, column: str, value: str) -> None:
    db = _history_with_a_run(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE runs SET {column} = ?", (value,))
    conn.close()
    listed = run_cli(["history", "list", "--history", str(db)])
    assert listed.exit_code == 2, listed.output
    assert f"{db}: run 1 is damaged" in listed.output
    good = good_state(tmp_path / "in")
    again = scan(tmp_path, str(good), "--history", str(db))
    assert "internal error" not in again.output
    assert again.exit_code == 2, again.output
    assert f"{db}: run 1 is damaged" in again.output


def test_registry_lacking_a_host_that_resources_use(tmp_path: Path) -> None:
    text = Path(CERTIFIED).read_text(encoding="utf-8")
    azure_only = text[: text.index("  - key: test-aws")] + text[text.index("  - key: test-azure") :]
    registry = tmp_path / "registry.yaml"
    registry.write_text(azure_only, encoding="utf-8")
    good = good_state(tmp_path / "in")
    out = tmp_path / "out"
    result = run_cli(
        ["scan", str(good), "-o", str(out), "--format", "json,html", "--registry", str(registry)]
    )
    assert "internal error" not in result.output
    assert result.exit_code in (1, 2), result.output
    assert (out / "report.html").is_file()
    assert (out / "report.json").is_file()
