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


def test_a_requirement_whose_title_is_its_id_is_named_once(bundled: dict[str, Any]) -> None:
    """PGSSI-S themes are named by their French title: shown once, not twice in a row."""
    html = bundled["html_fr"].read_text(encoding="utf-8")
    cell = html.index("<td>", html.index('id="req-pgssi-s-Chiffrement-des-données-au-repos"'))
    cell = _text(html[cell : html.index("</td>", cell)])
    assert cell == "Chiffrement des données au repos Automatisé"
    english = bundled["html_en"].read_text(encoding="utf-8")
    cell = english.index("<td>", english.index('id="req-pgssi-s-Chiffrement-des-données-au-repos"'))
    cell = _text(english[cell : english.index("</td>", cell)])
    assert cell.count("Chiffrement des données au repos") == 1  # the id, not its « quote »
    assert "Encryption of data at rest" in cell


def test_no_count_is_written_with_a_plural_in_brackets(bundled: dict[str, Any]) -> None:
    """ "2 hébergeur(s) sur 2", "1 ligne(s) ignorée(s)": a certifier's document counts in
    words that agree with the number, or puts the number after a colon."""
    for lang in ("fr", "en"):
        text = _text(bundled[f"html_{lang}"].read_text(encoding="utf-8"))
        assert "(s)" not in text, (lang, text[max(text.index("(s)") - 80, 0) :][:120])
    french = _text(bundled["html_fr"].read_text(encoding="utf-8"))
    assert "ressources de données" in french  # a host's count of resources, in agreement


def test_owed_attestations_are_listed(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    owed = _text(
        html[html.index('<h3 id="owed">') : html.index("</table>", html.index('<h3 id="owed">'))]
    )
    assert "feima:7" in owed
    assert "Attestation expirée — à renouveler" in owed and "feima:9" in owed  # 2025-06-30
    assert "expirée le 30 juin 2026" in owed  # one date format in the French report
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
    assert "Date de l&#39;audit : 29 novembre 2026" in top  # the date judged, read first
    annex = html[html.index('id="annex"') : html.index("</section>", html.index('id="annex"'))]
    assert "hds_audit/providers/data/hosts.yaml" in annex  # run metadata: technical annex
    assert "attestations.yaml" in annex
    assert "Code de sortie" in annex and "Code de sortie" not in top
    assert html.count("<svg") >= 3  # frameworks, data by country, copies
    assert "Synthèse pour la direction" in html
    assert not re.search(r"""(?:src|href)=["']https?:""", html)  # self-contained
    assert "<script" not in html


def test_json_compliance_section_validates(bundled: dict[str, Any]) -> None:
    data = bundled["json"]
    jsonschema.validate(data, json.loads(schema_text()))
    assert data["schema_version"] == "1.7"
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


def _element(html: str, element_id: str, tag: str) -> str:
    """Visible text of the first ``<tag ... id="element_id">`` up to its closing tag."""
    start = html.index(f'id="{element_id}"')
    return _text(html[start : html.index(f"</{tag}>", start)])


def _distinct_data_resources(data: dict[str, Any]) -> int:
    """Distinct data resources of report.json: (project directory, id), plan and state once."""
    return len(
        {
            (str(Path(r["source"]["file"]).parent), r["id"])
            for r in data["resources"]
            if r["stores_data"]
        }
    )


def test_executive_figures_match_the_tables_they_link_to(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    data = bundled["json"]
    distinct = _distinct_data_resources(data)
    assert distinct < sum(1 for r in data["resources"] if r["stores_data"])  # plan + state
    executive = html[html.index('id="executive"') : html.index('id="summary"')]
    # Every figure links to a table that exists.
    for anchor in re.findall(r'href="#([\w-]+)"', executive):
        assert f'id="{anchor}"' in html, anchor
    # Data outside the area: the KPI, the sentence and the places table's total agree.
    kpi = re.search(r'#places-overview">(\d+)</a></dd><dd class="sub">sur (\d+) ', executive)
    assert kpi is not None
    outside, of_data = int(kpi.group(1)), int(kpi.group(2))
    assert of_data == distinct
    total = _element(html, "places-total", "tr")
    numbers = [int(n) for n in re.findall(r"(?<![\w.])(\d+)(?![\w.])", total)]
    assert numbers[0] == distinct  # resources
    assert numbers[1:4] == [distinct - outside - numbers[3], outside, numbers[3]]
    assert f"{distinct} ressources stockent des données" in _element(html, "places", "p")
    assert f"{outside} hors zone" in _text(executive)
    # Copies outside the area: the KPI and the total of the copies column.
    copies = re.search(r'Copies hors zone</dt><dd><a href="#places-overview">(\d+)', executive)
    assert copies is not None and int(copies.group(1)) == numbers[5]
    # Hosts: "valid / all" counts the rows of the hosts table.
    hosts = re.search(r'href="#hosts">(\d+) / (\d+)</a>', executive)
    hosts_table = html[html.index('<table class="hosts">') :]
    hosts_table = hosts_table[: hosts_table.index("</table>")]
    assert hosts is not None and int(hosts.group(2)) == hosts_table.count('<tr id="host-')
    # Attestations owed: the KPI, the heading's count and the rows of the owed table.
    owed = re.search(r'href="#owed">(\d+)</a>', executive)
    owed_table = html[html.index('<table class="owed">') :]
    owed_table = owed_table[: owed_table.index("</table>")]
    assert owed is not None and int(owed.group(1)) == owed_table.count('<tr class="owed-')


def test_priorities_add_up_to_the_verdict_and_the_policy_tables(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    top = _element(html, "top", "header")
    problems = int(re.search(r"(\d+) problèmes atteignent le seuil", top).group(1))  # type: ignore[union-attr]
    table = html[
        html.index('id="priorities"') : html.index("</table>", html.index('id="priorities"'))
    ]
    rows = re.findall(
        r'<tr class="row-(\w+)">.*?href="#policy-(\w+)"><code>.*?'
        r'<td class="num"><a href="#[\w-]+">(\d+)</a>',
        table,
        re.S,
    )
    assert rows
    statuses = [status for status, _, _ in rows]
    assert statuses == sorted(statuses, key=["fail", "error", "unknown"].index)  # fail first
    footer = re.search(r'<tfoot>.*?<td class="num">(\d+)</td>', table, re.S)
    assert footer is not None and int(footer.group(1)) == problems
    words = {"fail": "✗ non conforme", "error": "⚠ erreur", "unknown": "? indéterminé"}
    hosts = html[html.index('id="host-findings"') :]
    hosts = hosts[: hosts.index("</table>")]
    for status, policy, count in rows:
        if f'id="policy-{policy}"' in hosts:  # judged per host scope: one row per scope
            scopes = re.findall(
                rf'<tr class="row-{status}"[^>]*>(?:(?!</tr>).)*?<code>{policy}</code>', hosts, re.S
            )
            assert len(scopes) == int(count), (policy, status, count)
            continue
        counts = _element(html, f"policy-{policy}", "ul")
        assert f"{words[status]} {count} " in counts + " ", (policy, status, count)
    # The first screen is for the compliance officer: no exit code, no run metadata.
    assert "Code de sortie" not in top


def test_every_link_of_the_report_leads_somewhere(bundled: dict[str, Any]) -> None:
    for lang in ("fr", "en"):
        html = bundled[f"html_{lang}"].read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        targets = set(re.findall(r'href="#([^"]+)"', html))
        assert targets and targets - ids == set(), (lang, sorted(targets - ids))


def test_one_date_format_per_language(bundled: dict[str, Any]) -> None:
    """Dates read "29 novembre 2026" in French, "2026-11-29" in English; a registry version
    that is a date stays an identifier."""
    patterns = {
        "fr": (
            r"\b\d{1,2}(?:er)? (?:janvier|février|mars|avril|mai|juin|juillet|août|"
            r"septembre|octobre|novembre|décembre) \d{4}\b"
        ),
        "en": r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])",
    }
    for lang, other in (("fr", "en"), ("en", "fr")):
        html = bundled[f"html_{lang}"].read_text(encoding="utf-8")
        # Findings' reasons and evidence notes are the message catalogue's (part 5 of issue
        # 12 renders them per language); every date the report itself writes is checked.
        html = re.sub(r'<(p|span|ul) class="(reason|note|evidence)".*?</\1>', "", html, flags=re.S)
        text = _text(html[html.index("<body") :])
        text = re.sub(r"version [\w.+ -]+?(?=[,)])", "version …", text)  # identifiers
        assert re.search(patterns[lang], text), lang
        assert not re.search(patterns[other], text), (lang, re.search(patterns[other], text))
        assert not re.search(r"\b\d{2}/\d{2}/\d{4}\b", text), lang


def test_audit_date_and_generation_are_two_dates(bundled: dict[str, Any]) -> None:
    html = bundled["html_fr"].read_text(encoding="utf-8")
    annex = _element(html, "annex", "section")
    assert "Date de l'audit 29 novembre 2026" in annex  # --audit-date: the date judged
    assert re.search(r"Généré le \d{1,2}(er)? \w+ \d{4} à \d\d:\d\d:\d\d", annex)  # the run
