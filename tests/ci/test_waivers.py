"""Waivers: validated before any scan (file and line), applied with the run's clock, expired
and stale ones reported, waived findings visible in every format."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import (
    ENCRYPTED,
    ENCRYPTION_POLICY,
    HOSTILE,
    PLAIN,
    cli,
    read_json,
    scan,
    terraform_file,
)

from hds_audit.errors import UsageError
from hds_audit.model import Status
from hds_audit.waivers import glob_regex, load_waivers, parse_waivers

ENTRY = """  - policy_id: {policy}
    resource_id: '{resource}'
    reason: {reason}
    approved_by: Jeanne Martin (DPO)
    expires: {expires}
"""


def waivers_text(*entries: tuple[str, str, str]) -> str:
    body = "".join(
        ENTRY.format(policy=p, resource=r, reason="accepted risk", expires=e) for p, r, e in entries
    )
    return "waivers:\n" + body


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("waivers: [\n  {policy_id: X,\n", ":3:", "invalid YAML"),
        ("waivers: 3\n", ":1:", "'waivers' must be a list"),
        ("rules: []\n", ":1:", "unknown key rules"),
        ("waivers:\n  - just text\n", ":2:", "a waiver must be a mapping"),
        (
            waivers_text(("P", "r", "2027-01-01")).replace("reason: accepted risk", "reason: ''"),
            ":4:",
            "waiver needs 'reason'",
        ),
        (waivers_text(("P", "r", "2027-13-01")), ":6:", "'expires' must be a date YYYY-MM-DD"),
        (
            waivers_text(("P", "r", "2027-01-01")) + "    owner: me\n",
            ":7:",
            "unknown waiver field owner",
        ),
        (
            waivers_text(("P", "r", "2027-01-01")).replace("    expires: 2027-01-01\n", ""),
            ":2:",
            "waiver needs 'expires'",
        ),
        (
            waivers_text(("P", "r", "2027-01-01"), ("", "r", "2027-01-01")),
            ":7:",
            "waiver needs 'policy_id'",
        ),
    ],
)
def test_malformed_waivers_name_the_file_and_line(text: str, where: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_waivers(text, "waivers.yaml")
    message = str(caught.value)
    assert message.startswith("waivers.yaml" + where), message
    assert problem in message and "\n" not in message


def test_malformed_waivers_exit_2_before_any_scan(tmp_path: Path) -> None:
    bad = tmp_path / "waivers.yaml"
    bad.write_text(waivers_text(("P", "r", "someday")), encoding="utf-8")
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    out = tmp_path / "out"
    result = cli("scan", str(state), "-o", str(out), "--waivers", str(bad))
    assert result.exit_code == 2
    assert (
        result.stderr == f"hds-audit: error: {bad}:6: waiver 'expires' must be a date "
        "YYYY-MM-DD, got 'someday'\n"
    )
    assert not out.exists(), "no report, no history: nothing ran"
    missing = cli("scan", str(state), "-o", str(out), "--waivers", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "waivers file not found" in missing.stderr


def test_glob_wildcards_are_only_star_and_question_mark() -> None:
    assert glob_regex('module.db.aws_db_instance.main["*"]').fullmatch(
        'module.db.aws_db_instance.main["eu"]'
    )
    assert glob_regex("aws_ebs_volume.v[0]").fullmatch("aws_ebs_volume.v[0]")
    assert not glob_regex("aws_ebs_volume.v[0]").fullmatch("aws_ebs_volume.v0")
    assert glob_regex("arn:aws:s3:::records-?").fullmatch("arn:aws:s3:::records-1")
    assert not glob_regex("aws_s3_bucket.*").fullmatch("module.x.aws_s3_bucket.a")


def test_active_expired_and_stale_waivers(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [ENCRYPTED, PLAIN, HOSTILE])
    waivers = parse_waivers(
        waivers_text(
            (ENCRYPTION_POLICY, "aws_ebs_volume.plain", "2027-03-31"),  # applies
            (ENCRYPTION_POLICY, "aws_ebs_volume.odd*", "2026-01-31"),  # expired
            (ENCRYPTION_POLICY, "aws_ebs_volume.sealed", "2027-03-31"),  # passes: stale
            ("HDS_NOPE_001", "*", "2027-03-31"),  # no such policy: stale
        ),
        "waivers.yaml",
    )
    report = scan(state, waivers=waivers, now=datetime(2026, 11, 29, tzinfo=UTC))
    enc = {f.resource.id: f for f in report.findings if f.policy.id == ENCRYPTION_POLICY}
    assert enc["aws_ebs_volume.plain"].status is Status.WAIVED
    assert "waived until 2027-03-31 by Jeanne Martin (DPO): accepted risk" in str(
        enc["aws_ebs_volume.plain"].reason
    )
    assert enc[HOSTILE.address].status is Status.FAIL, "an expired waiver no longer applies"
    outcome = report.waivers
    assert outcome is not None and outcome.waived == 1
    assert [(w.line, n) for w, n in outcome.expired] == [(7, 1)]
    assert [w.line for w in outcome.stale] == [12, 17]
    warnings = outcome.warnings()
    assert warnings[0].startswith("waivers.yaml:7: waiver for HDS_ENC_001 on aws_ebs_volume.odd*")
    assert "expired on 2026-01-31" in warnings[0]
    assert warnings[1].endswith("matches no failing finding (stale)")


def test_waived_stays_visible_in_every_format(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [ENCRYPTED, PLAIN])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        waivers_text(
            (ENCRYPTION_POLICY, "aws_ebs_volume.plain", "2099-12-31"),
            (ENCRYPTION_POLICY, "aws_ebs_volume.gone", "2099-12-31"),
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli(
        "scan", str(state), "-o", str(out), "--waivers", str(waivers), "--lang", "en",
        "--format", "json,html,sarif,junit,csv,markdown", "--fail-on", "high",
        "--no-fail-on-unknown", "--no-history",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert "matches no failing finding (stale)" in result.stderr
    assert "Waivers: 1 finding(s) waived; 0 expired, 1 stale." in result.output
    data = read_json(out / "report.json")
    assert [f["resource_id"] for f in data["findings"] if f["status"] == "waived"] == [
        "aws_ebs_volume.plain"
    ]
    assert data["waivers"]["stale"][0]["resource_id"] == "aws_ebs_volume.gone"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "accepted risk" in html and "Jeanne Martin (DPO)" in html
    sarif = read_json(out / "report.sarif")
    assert any(r.get("suppressions") for r in sarif["runs"][0]["results"])
    junit = ET.parse(out / "report.junit.xml").getroot()
    assert any("waived" in (s.get("message") or "") for s in junit.iter("skipped"))
    with (out / "report.csv").open(encoding="utf-8", newline="") as f:
        assert any(row["status"] == "waived" for row in csv.DictReader(f))
    assert "Waived findings (1)" in (out / "report.md").read_text(encoding="utf-8")


def test_example_waivers_file_is_valid() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "waivers.yaml"
    waivers = load_waivers(examples)
    assert waivers.waivers and all(w.expires > date(2026, 1, 1) for w in waivers.waivers)
