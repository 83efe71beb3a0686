"""Helpers for the evidence tests: a key pair and a signed scan of bundled fixtures, made
with the real CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import Result

from hds_audit.testing import run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "terraform_fixtures"
AUDIT_DATE = "2026-11-29"
#: Inputs of the signed scan: a plan, a state, a UTF-16 state, attestations, waivers.
PLAN = FIXTURES / "compliant" / "plan.json"
STATE = FIXTURES / "patient-records" / "terraform.tfstate"
UTF16 = FIXTURES / "broken" / "utf16-bom.tfstate"
ATTESTATIONS = FIXTURES / "attestations.yaml"
WAIVERS = ROOT / "examples" / "waivers.yaml"
#: Every format whose file lands in the report folder (pdf needs chromium: left out).
FORMATS = "json,html,sarif,junit,csv,markdown"
REPORT_FILES = (
    "report.csv",
    "report.html",
    "report.json",
    "report.junit.xml",
    "report.md",
    "report.sarif",
)


@dataclass(frozen=True)
class Keys:
    private: Path
    public: Path
    output: Result  # what keygen printed


@dataclass(frozen=True)
class Signed:
    folder: Path
    keys: Keys
    result: Result  # what scan printed


def keygen(folder: Path) -> Keys:
    result = run_cli(["keygen", str(folder)])
    assert result.exit_code == 0, result.stderr
    return Keys(folder / "hds-audit-signing.key.pem", folder / "hds-audit-signing.pub.pem", result)


def signed_scan(
    out: Path, keys: Keys, inputs: Sequence[Path | str], *extra: str, formats: str = FORMATS
) -> Result:
    return run_cli(
        [
            "scan",
            *map(str, inputs),
            "--output",
            str(out),
            "--format",
            formats,
            "--no-history",
            "--audit-date",
            AUDIT_DATE,
            "--sign-key",
            str(keys.private),
            *extra,
        ]
    )


def verify(folder: Path, public: Path, *extra: str) -> Result:
    return run_cli(["verify", str(folder), "--public-key", str(public), *extra])
