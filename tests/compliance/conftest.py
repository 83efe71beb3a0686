"""Shared fixtures for the compliance tests: the bundled fixtures' report, built once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from compliance_helpers import MAKE_AUDIT

from hds_audit.testing import run_cli


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bundled fixtures audited as `make audit` does: HTML in fr and en, JSON."""
    out = tmp_path_factory.mktemp("bundled")
    result = run_cli([*MAKE_AUDIT, "-o", str(out / "fr"), "--format", "json,html"])
    assert result.exit_code == 1, result.output  # planted violations
    english = run_cli([*MAKE_AUDIT, "-o", str(out / "en"), "--format", "html", "--lang", "en"])
    assert english.exit_code == 1, english.output
    return {
        "dir": out,
        "html_fr": out / "fr" / "report.html",
        "html_en": out / "en" / "report.html",
        "json": json.loads((out / "fr" / "report.json").read_text(encoding="utf-8")),
    }
