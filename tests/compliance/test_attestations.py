"""Attestations: answers to manual requirements, owed ones, expiry, bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from compliance_helpers import ATTESTATIONS, FIXTURES

from hds_audit.attestations import load_attestations, parse_attestations
from hds_audit.datafile import DataFileError
from hds_audit.frameworks import builtin_frameworks
from hds_audit.frameworks.compliance import build_compliance
from hds_audit.testing import run_cli

GOOD = """\
attestations:
  - requirement: "feima:5"
    statement: MSSanté only.
    by: DPO
    date: "2026-10-02"
    evidence: https://intranet.example/mssante.pdf
"""


def test_bundled_example_answers_some_and_leaves_others_owed() -> None:
    answers = load_attestations(ATTESTATIONS, builtin_frameworks())
    refs = {a.requirement for a in answers.items}
    assert "feima:5" in refs and "feima:9" in refs
    compliance = build_compliance([], date(2026, 11, 29), attestations=answers)
    owed = {r.requirement.ref: r.attestation_state for r in compliance.owed}
    assert owed["feima:9"] == "expired"  # dated 2025-06-30, valid 365 days
    assert owed["feima:7"] == "missing"
    assert "feima:5" not in owed


def test_expiry_follows_the_audit_date() -> None:
    answers = parse_attestations(GOOD, "a.yaml", builtin_frameworks())
    (attestation,) = answers.items
    assert attestation.valid_until == date(2027, 10, 2)
    fresh = build_compliance([], date(2027, 10, 2), attestations=answers)
    assert "feima:5" not in {r.requirement.ref for r in fresh.owed}
    stale = build_compliance([], date(2027, 10, 3), attestations=answers)
    assert {r.requirement.ref: r.attestation_state for r in stale.owed}["feima:5"] == "expired"
    early = build_compliance([], date(2026, 10, 1), attestations=answers)
    assert {r.requirement.ref: r.attestation_state for r in early.owed}["feima:5"] == "future"


BROKEN = [
    ('requirement: "feima:5"', 'requirement: "feima:13"', 2, "unknown requirement 'feima:13'"),
    ('requirement: "feima:5"', 'requirement: "hds-v2:EXI 28"', 2, "hds-v2:EXI 28 is automated"),
    ('date: "2026-10-02"', 'date: "02/10/2026"', 5, "is not a date"),
    ("    by: DPO\n", "", 2, "'by' must be non-empty text"),
    ("    evidence:", "    evidance:", 6, "unknown key 'evidance'"),
    (GOOD, "attestations: nope\n", 1, "'attestations' must be a list"),
]


@pytest.mark.parametrize(("old", "new", "line", "problem"), BROKEN, ids=[b[3][:20] for b in BROKEN])
def test_malformed_attestations_name_file_line_problem(
    old: str, new: str, line: int, problem: str
) -> None:
    assert old in GOOD
    with pytest.raises(DataFileError) as caught:
        parse_attestations(GOOD.replace(old, new, 1), "a.yaml", builtin_frameworks())
    assert str(caught.value).startswith(f"a.yaml:{line}: "), str(caught.value)
    assert problem in str(caught.value)


def test_duplicate_attestation_names_both_lines() -> None:
    text = GOOD + GOOD.split("\n", 1)[1]
    with pytest.raises(DataFileError, match=r"^a\.yaml:7: feima:5 is already attested at line 2"):
        parse_attestations(text, "a.yaml", builtin_frameworks())


def test_scan_with_malformed_attestations_exits_2_before_scanning(tmp_path: Path) -> None:
    bad = tmp_path / "attestations.yaml"
    bad.write_text(GOOD.replace("feima:5", "feima:99"), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        [
            "scan",
            str(FIXTURES / "compliant"),
            "--attestations",
            str(bad),
            "-o",
            str(out),
            "--no-history",
        ]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"hds-audit: error: {bad}:2: unknown requirement 'feima:99' (write framework:id, "
        "e.g. feima:5 or hds-v2:EXI 27; `hds-audit frameworks list` shows them)"
    )
    assert not list(out.glob("report.*"))


def test_bad_audit_date_exits_2(tmp_path: Path) -> None:
    result = run_cli(
        ["scan", str(FIXTURES / "compliant"), "--audit-date", "29/11/2026", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--audit-date: '29/11/2026' is not a date (YYYY-MM-DD)" in result.stderr
