"""Constants and helpers of the compliance tests (a unique module name: test folders are
not packages, and every folder has its own conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "terraform_fixtures"
ATTESTATIONS = FIXTURES / "attestations.yaml"
TEST_REGISTRIES = ROOT / "tests" / "fixtures" / "registry"
AUDIT_DATE = "2026-11-29"
# What `make audit` runs, with the audit date pinned so the report is reproducible.
MAKE_AUDIT = [
    "scan",
    str(FIXTURES / "patient-records"),
    str(FIXTURES / "compliant"),
    "--attestations",
    str(ATTESTATIONS),
    "--audit-date",
    AUDIT_DATE,
    "--no-history",
]


def chromium_binary() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
