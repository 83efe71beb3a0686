"""The sovereignty report of the bundled fixtures (what `make audit` writes)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any

import jsonschema
from compliance_helpers import FIXTURES, MAKE_AUDIT

from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.reports.html_report import load_strings
from hds_audit.reports.json_report import schema_text
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.testing import run_cli

VERDICT_WORDS = {
    "fr": {"compliant": "✓ Conforme", "non_compliant": "✗ Non conforme", "owed": "Attestation due"},
    "en": {
        "compliant": "✓ Compliant",
        "non_compliant": "✗ Non-compliant",
        "owed": "Attestation owed",
    },
}


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _section(html: str, element_id: str) -> str:
    start = html.index(f'<section class="framework" id="{element_id}">')
    return _text(html[start : html.index("</section>", start)])


def _requirement_verdicts(html: str, framework: str) -> list[str]:
    start = html.index(f'<section class="framework" id="fw-{framework}">')
    end = html.index("</section>", start)
    return re.findall(r'<tr class="req req-(\w+)"', html[start:end])


def test_every_framework_view_shows_compliant_and_non_compliant(bundled: dict[str, Any]) -> None:
    for lang in ("fr", "en"):
        html = bundled[f"html_{lang}"].read_text(encoding="utf-8")
        frameworks = re.findall(r'<section class="framework" id="fw-([\w-]+)">', html)
        assert frameworks[:3] == ["feima", "hds-v2", "gdpr"]  # FEIMA first, then HDS v2, GDPR
        for framework in frameworks:
            verdicts = _requirement_verdicts(html, framework)
            assert "non_compliant" in verdicts, (lang, framework)
            assert "compliant" in verdicts, (lang, framework)
            text = _section(html, f"fw-{framework}")
            assert VERDICT_WORDS[lang]["compliant"] in text
            assert VERDICT_WORDS[lang]["non_compliant"] in text


def test_owed_attestations_are_listed(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    owed = _text(
        html[html.index('<h3 id="owed">') : html.index("</table>", html.index('<h3 id="owed">'))]
    )
    assert "feima:7" in owed
    assert "Attestation expirée — à renouveler" in owed and "feima:9" in owed  # 2025-06-30
    assert "expirée le 2026-06-30" in owed
    data = bundled["json"]["compliance"]
    assert "feima:7" in data["owed"] and "feima:5" not in data["owed"]


def test_hosts_table_shows_unknown_certificates_as_unknown(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    hosts = _text(
        html[html.index('id="hosts"') : html.index("</section>", html.index('id="hosts"'))]
    )
    assert "Amazon Web Services" in hosts and "Microsoft Azure" in hosts
    assert "? Non établi" in hosts
    assert "✓ Valide" not in hosts
    assert "https://aws.amazon.com/compliance/hds/" in hosts  # the source, next to the data
    data = bundled["json"]["compliance"]
    assert {h["provider"]: h["certificate"] for h in data["hosts"]} == {
        "aws": "unknown",
        "azure": "unknown",
    }
    statuses = {
        f["status"] for f in bundled["json"]["findings"] if f["policy_id"] == "HDS_CERT_001"
    }
    assert statuses == {"unknown"}  # never pass on unknown facts


def test_report_metadata_and_charts(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    top = html[html.index('id="top"') : html.index("</header>")]
    assert "2026-11-29" in top  # audit date
    assert "hds_audit/providers/data/hosts.yaml" in top
    assert "attestations.yaml" in top
    assert html.count("<svg") >= 3  # frameworks, data by country, copies
    assert "Synthèse pour la direction" in html
    assert not re.search(r"""(?:src|href)=["']https?:""", html)  # self-contained
    assert "<script" not in html


def test_json_compliance_section_validates(bundled: dict[str, Any]) -> None:
    data = bundled["json"]
    jsonschema.validate(data, json.loads(schema_text()))
    assert data["schema_version"] == "1.6"
    feima = data["compliance"]["frameworks"][0]
    assert feima["id"] == "feima" and len(feima["requirements"]) == 12
    assert data["compliance"]["audit_date"] == "2026-11-29"


def test_audit_date_makes_runs_reproducible(tmp_path: Path) -> None:
    def compliance(out: Path) -> Any:
        result = run_cli([*MAKE_AUDIT, "-o", str(out), "--format", "json"])
        assert result.exit_code == 1
        return json.loads((out / "report.json").read_text(encoding="utf-8"))["compliance"]

    assert compliance(tmp_path / "a") == compliance(tmp_path / "b")


def test_default_audit_date_comes_from_the_injected_clock() -> None:
    def clock() -> datetime:
        return datetime(2027, 1, 11, 8, 0, tzinfo=UTC)

    options = ScanOptions(collectors=[TerraformCollector((str(FIXTURES / "compliant"),))])
    report = run_scan(options, clock=clock)
    assert report.compliance is not None
    assert report.compliance.audit_date == date(2027, 1, 11)


def test_compliance_words_exist_in_both_languages() -> None:
    keys = [
        *(
            f"compliance.verdict.{v}"
            for v in ("compliant", "non_compliant", "unknown", "attestation_owed", "not_evaluated")
        ),
        *(f"compliance.mode.{m}" for m in ("automated", "partial", "manual")),
        *(f"compliance.attestation_state.{s}" for s in ("valid", "expired", "future", "missing")),
        *(
            f"compliance.cert.{c}"
            for c in ("valid", "expiring", "expired", "not_yet_valid", "missing", "unknown")
        ),
    ]
    for lang in ("fr", "en"):
        strings = load_strings(lang)
        assert [k for k in keys if k not in strings] == []
    compliance_keys = {
        lang: {k for k in load_strings(lang) if k.startswith("compliance.")}
        for lang in ("fr", "en")
    }
    assert compliance_keys["fr"] == compliance_keys["en"]


def test_pdf_without_chromium_exits_2_before_scanning(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("HDS_AUDIT_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "out"
    result = run_cli(
        ["scan", str(FIXTURES / "compliant"), "--format", "pdf", "-o", str(out), "--no-history"]
    )
    assert result.exit_code == 2
    assert "--format pdf needs chromium" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(out.glob("report.*"))
