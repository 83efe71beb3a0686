"""Outputs stay well-formed under odd values: strict JSON, defused CSV, a safe terminal."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hostile_helpers import policy_text, scan

from hds_audit.testing import Spec, state_document, write_json


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_give_strict_json(tmp_path: Path, literal: str) -> None:
    document = state_document(
        [Spec("aws_s3_bucket", "b", {"bucket": "b", "region": "eu-west-3", "size": 7})]
    )
    text = json.dumps(document, indent=2).replace('"size": 7', f'"size": {literal}')
    state = tmp_path / "s.tfstate"
    state.write_text(text, encoding="utf-8")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "size.yaml").write_text(
        policy_text("attributes.size", "greater_than", "10"), encoding="utf-8"
    )
    run = scan(tmp_path, str(state), "--policies", str(policies))
    report = run.report()  # refuses NaN / Infinity
    [finding] = [f for f in report["findings"] if f["policy_id"] == "CUSTOM_001"]
    [evidence] = finding["evidence"]
    assert evidence["value"] == literal
    sarif = (run.out / "report.sarif").read_text(encoding="utf-8")
    json.loads(sarif, parse_constant=_refuse)


def _refuse(constant: str) -> None:
    raise ValueError(constant)


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_every_csv_cell_is_defused(tmp_path: Path) -> None:
    specs = [
        Spec(f"{lead}aws_s3_bucket", f"b{n}", {"bucket": "b", "region": lead})
        for n, lead in enumerate(FORMULAS)
    ]
    document = state_document(specs)
    for n, resource in enumerate(document["resources"]):
        resource["provider"] = f'provider["registry.terraform.io/{FORMULAS[n]}"]'
    state = write_json(tmp_path / "s.tfstate", document)
    policies = tmp_path / "policies"
    policies.mkdir()
    for n, lead in enumerate(FORMULAS):
        text = policy_text("attributes.bucket", policy_id=json.dumps(f"{lead}P{n}"))
        (policies / f"p{n}.yaml").write_text(text, encoding="utf-8")
    run = scan(tmp_path, str(state), "--policies", str(policies), formats="csv")
    with (run.out / "report.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'@SUM(A1)P3" in cells  # a policy id
    assert "'=cmd|' /C calc'!A0aws_s3_bucket" in cells  # a resource type
    assert "'\rxP5" in cells
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []


ESCAPE = "\x1b]0;owned\x07\x1b[2J\x9b31m"


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    spec = Spec("aws_ebs_volume", f"evil{ESCAPE}", {"availability_zone": "eu-west-3a"})
    state = write_json(tmp_path / "s.tfstate", state_document([spec]))
    broken = tmp_path / f"broken{ESCAPE}.tfstate"
    broken.write_text("{", encoding="utf-8")
    run = scan(tmp_path, str(state), str(broken), formats="json")
    assert "evil" in run.output and "broken" in run.output
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in run.output)
    assert "evil\\x1b]0;owned\\x07" in run.output  # shown, escaped


def test_strict_encoder_writes_non_finite_numbers_as_text() -> None:
    """Values from API collectors never pass through the Terraform reader: the writers'
    encoder keeps the reports strict JSON all the same."""
    from hds_audit.reports.strict_json import strict_encoder

    encode = strict_encoder()
    assert encode({"a": float("nan"), "b": [float("inf"), 1.5]}) == (
        '{"a": "NaN", "b": ["Infinity", 1.5]}'
    )
    assert encode({"a": 1}) == '{"a": 1}'
