"""The HTML report's integrity annex: what a printed copy is matched to the signed files by."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from evidence_helpers import PLAN, Keys, Signed, signed_scan

from hds_audit.testing import run_cli


def _annex(html: str) -> str:
    start = html.index('<section class="sheet" id="evidence">')
    return html[start : html.index("</section>", start)]


def test_the_annex_shows_report_json_and_key_fingerprints(signed: Signed) -> None:
    annex = _annex((signed.folder / "report.html").read_text(encoding="utf-8"))
    report_sha256 = hashlib.sha256((signed.folder / "report.json").read_bytes()).hexdigest()
    manifest = json.loads((signed.folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert listed["report.json"] == report_sha256  # the printed hash is the signed one
    assert report_sha256 in annex
    assert manifest["signing_key_sha256"] in annex
    assert "Annexe — preuve d&#39;intégrité" in annex  # French by default
    assert "hds-audit verify" in annex and "openssl pkeyutl -verify" in annex
    run = json.loads((signed.folder / "report.json").read_text(encoding="utf-8"))["run"]
    for digest in (run["policy_set"]["digest"], run["registry_digest"], run["frameworks_digest"]):
        assert digest in annex


@pytest.mark.parametrize(
    ("lang", "heading", "unsigned"),
    [
        ("fr", "Annexe — preuve d&#39;intégrité", "Ce rapport n&#39;est pas signé"),
        ("en", "Appendix — integrity evidence", "This report is not signed"),
    ],
)
def test_the_annex_in_both_languages_signed_or_not(
    tmp_path: Path, keys: Keys, lang: str, heading: str, unsigned: str
) -> None:
    signed = tmp_path / "signed"
    assert signed_scan(signed, keys, [PLAN], "--lang", lang, formats="html").exit_code in (0, 1)
    annex = _annex((signed / "report.html").read_text(encoding="utf-8"))
    assert heading in annex and unsigned not in annex
    plain = tmp_path / "plain"
    args = ["scan", str(PLAN), "-o", str(plain), "--format", "html", "--lang", lang]
    assert run_cli([*args, "--no-history"]).exit_code in (0, 1)
    annex = _annex((plain / "report.html").read_text(encoding="utf-8"))
    assert heading in annex and unsigned in annex
    assert "hds-audit verify" not in annex
