"""The HTML sovereignty report: escaping, self-containment, languages, content and order."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pytest
import yaml
from report_helpers import Page

from hds_audit.geo import GeoTables
from hds_audit.model import Evidence, Finding, Status
from hds_audit.reports.html_report import _Texts, load_strings, render_html, write_html
from hds_audit.reports.html_views import Places
from hds_audit.reports.model import Report

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def html_fr(report: Report) -> str:
    return render_html(report)


@pytest.fixture
def html_en(report: Report) -> str:
    return render_html(report, lang="en")


# --------------------------------------------------------------------------- escaping


def test_hostile_name_and_evidence_are_escaped(html_fr: str, html_en: str) -> None:
    for html in (html_fr, html_en):
        assert HOSTILE_NAME not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE_VALUE not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        page = Page(html)
        assert "script" not in page.tags
        assert "img" not in page.tags
        # The hostile strings survive as text: the reader sees exactly what was in the state.
        assert HOSTILE_NAME in page.text("findings")
        assert HOSTILE_VALUE in page.text("findings")


def test_hostile_policy_text_is_escaped(report: Report) -> None:
    policy = dataclasses.replace(
        report.findings[0].policy,
        remediation_terraform='resource "x" { name = "</pre><script>alert(2)</script>" }',
        translations={"fr": {"name": "<b onmouseover=alert(3)>policy</b>"}},
    )
    uk_fail = report.findings[1]._replace(policy=policy)
    hostile = dataclasses.replace(report, findings=[uk_fail], policies=[policy])
    html = render_html(hostile)
    assert "<script>alert(2)" not in html
    assert "<b onmouseover" not in html
    assert "&lt;b onmouseover=alert(3)&gt;policy&lt;/b&gt;" in html
    assert "script" not in Page(html).tags


# --------------------------------------------------------------------------- self-contained


def test_report_is_self_contained(html_fr: str, html_en: str) -> None:
    for html in (html_fr, html_en):
        assert not re.search(r"<script", html, re.IGNORECASE)
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
        assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
        assert not re.search(r"@import|@font-face|<link\b|<iframe|<object|<embed", html, re.I)
        page = Page(html)
        for tag, name, value in page.attrs:
            if name in ("src", "href"):
                assert value is not None and value.startswith("#"), (tag, name, value)
            assert not name.startswith("on"), (tag, name)
        assert page.tags.count("style") == 1


def test_content_security_policy_forbids_scripts(html_fr: str) -> None:
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html_fr)
    assert match is not None
    assert "default-src 'none'" in match.group(1)
    assert "script-src" not in match.group(1)


def test_print_rules_are_inline(html_fr: str) -> None:
    assert "@media print" in html_fr
    assert "size: A4" in html_fr
    assert "break-before: page" in html_fr
    assert "break-inside: avoid" in html_fr


# --------------------------------------------------------------------------- languages


FRENCH_HEADINGS = (
    "Rapport de souveraineté des données de santé",
    "Synthèse",
    "Erreurs de collecte",
    "Où sont les données",
    "Constats par catégorie",
    "Annexe — catalogue des politiques",
    "Sources auditées",
    "Annexe technique — exécution de l'audit",
)
ENGLISH_HEADINGS = (
    "Health-data sovereignty report",
    "Summary",
    "Collection errors",
    "Where the data sits",
    "Findings by category",
    "Appendix — policy catalogue",
    "Sources audited",
    "Technical annex — how the audit ran",
)


def test_french_by_default(html_fr: str) -> None:
    assert '<html lang="fr">' in html_fr
    page = Page(html_fr)
    text = page.text()
    for heading in FRENCH_HEADINGS:
        assert heading in text
    for heading in ("Health-data sovereignty report", "Where the data sits", "Summary"):
        assert heading not in text
    # Status words, categories and policy texts follow the language.
    assert "non conforme" in page.text("summary")
    assert "indéterminé" in page.text("summary")
    assert "Localisation des ressources" in page.text("findings")
    assert "La ressource qui stocke des données est hébergée dans la zone autorisée" in text
    assert "Recréer la ressource dans une région autorisée." in page.text("findings")


def test_english_on_request(html_en: str) -> None:
    assert '<html lang="en">' in html_en
    page = Page(html_en)
    text = page.text()
    for heading in ENGLISH_HEADINGS:
        assert heading in text
    for heading in ("Rapport de souveraineté", "Où sont les données", "Synthèse"):
        assert heading not in text
    assert "Data-holding resource is stored in the allowed area" in text
    assert "United Kingdom (GB)" in page.text("places")
    assert "United States" in page.text("places")
    assert "Audit date: 2025-03-14" in page.text("top")
    assert "2025-03-14 at 09:30:05 UTC" in page.text("annex")


def test_unsupported_language_is_refused(report: Report) -> None:
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        render_html(report, lang="de")


def _flat_keys(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, Mapping):
            keys |= _flat_keys(value, f"{prefix}{key}.")
        else:
            assert isinstance(value, str), f"{prefix}{key} is not a string"
            keys.add(f"{prefix}{key}")
    return keys


def _i18n_file(lang: str) -> dict[str, Any]:
    root = package_files.files("hds_audit.reports").joinpath("i18n")
    data = yaml.safe_load(root.joinpath(f"{lang}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_i18n_files_have_the_same_keys() -> None:
    fr, en = _flat_keys(_i18n_file("fr")), _flat_keys(_i18n_file("en"))
    assert fr - en == set(), "keys only in fr.yaml"
    assert en - fr == set(), "keys only in en.yaml"
    assert len(fr) > 100


def test_placeholders_match_between_languages() -> None:
    fr, en = load_strings("fr"), load_strings("en")
    for key, text in fr.items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_key_the_templates_use_exists() -> None:
    root = package_files.files("hds_audit.reports").joinpath("templates")
    used: set[str] = set()
    for entry in root.iterdir():
        text = entry.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([\w.\-]+)["']""", text))
        for key in re.findall(r"""\btn\(\s*["']([\w.\-]+)["']""", text):
            used |= {f"{key}.one", f"{key}.other"}
    assert len(used) > 50
    for lang in ("fr", "en"):
        missing = used - set(load_strings(lang))
        assert missing == set(), f"{lang}.yaml lacks {sorted(missing)}"


# --------------------------------------------------------------------------- header


def test_header_states_the_verdict_and_the_annex_the_run(html_fr: str) -> None:
    page = Page(html_fr)
    top = page.text("top")
    # The first screen: the date judged, the area, the verdict in plain words.
    assert "Date de l'audit : 14 mars 2025" in top
    assert "Union européenne (UE-27)" in top
    assert "Audit incomplet" in top
    assert "1 source n'a pas pu être lue" in top
    # Run metadata and exit code are for the engineer: the technical annex, at the end.
    for technical in ("Code de sortie", "09:30:05", "hds-audit 0.1.0", "states/prod.tfstate"):
        assert technical not in top, technical
    annex = page.text("annex")
    assert "Date de l'audit 14 mars 2025" in annex
    assert "Généré le 14 mars 2025 à 09:30:05 UTC" in annex
    assert "durée 1 min 12 s" in annex
    assert "hds-audit 0.1.0" in annex
    assert "Union européenne (UE-27)" in annex
    # Sources: path, kind, count and the reader's notes.
    assert "states/prod.tfstate état Terraform 5 1.7.5" in annex
    assert "decoded as UTF-16-LE (no byte-order mark)" in annex
    assert "sub-1234/uksouth API Azure 1" in annex
    # The gate and the exit code in plain words.
    assert "Échec à partir de la sévérité « faible »" in annex
    assert "Les constats indéterminés comptent comme des échecs." in annex
    assert "Code de sortie : 2 (une entrée est inutilisable)" in annex
    assert html_fr.index('id="annex"') > html_fr.index('id="catalogue"')


def test_eu_mode_notes_exi_28_and_counts_eea_passes(html_fr: str, html_en: str) -> None:
    annex = Page(html_fr).text("annex")
    assert "HDS v2 (exigence EXI 28) impose le stockage dans l'Espace économique" in annex
    assert "1 constat non conforme serait accepté par la seule règle EEE" in annex
    assert "1 constat non conforme serait accepté" in Page(html_fr).text("top")
    assert "1 failed finding would be accepted by the EEA rule" in Page(html_en).text("annex")


def test_eea_mode_has_no_eu_note(make_report: Callable[..., Report]) -> None:
    page = Page(render_html(make_report(area="eea")))
    assert "exigence HDS EXI 28" in page.text("annex")  # the area's own description
    assert "serait accepté par la seule règle EEE" not in page.text()


def test_verdict_follows_the_exit_code(clean_report: Report) -> None:
    assert clean_report.exit_code == 1
    page = Page(render_html(clean_report))
    top = page.text("top")
    assert "Constats bloquants" in top
    # 8 blocking findings on 5 distinct resources (policy x resource: 8 problems).
    assert len(clean_report.blocking) == 8
    assert "8 problèmes atteignent le seuil d'échec" in top
    assert "Ils concernent 5 ressources distinctes" in top
    assert "Code de sortie : 1" in page.text("annex") and "Code de sortie" not in top
    passing = dataclasses.replace(
        clean_report, findings=[f for f in clean_report.findings if f.status is Status.PASS]
    )
    assert passing.exit_code == 0
    page = Page(render_html(passing))
    assert "Aucun constat bloquant" in page.text("top")
    assert "Code de sortie : 0" in page.text("annex")


def test_first_screen_ranks_problems_fail_first_then_severity(clean_report: Report) -> None:
    page = Page(render_html(clean_report))
    table = page.text("top")[page.text("top").index("Problèmes prioritaires") :]
    order = ["HDS_RES_001", "HDS_REP_001", "HDS_ENC_001", "HDS_KEY_001"]
    positions = [table.index(p) for p in order]
    assert positions == sorted(positions)
    # Fail (critical first) before error before unknown, each with what to do.
    fails = table.index("✗ non conforme critique HDS_RES_001")
    error = table.index("⚠ erreur élevée HDS_KEY_001")
    unknown = table.index("? indéterminé critique HDS_RES_001")
    assert fails < error < unknown
    assert "Recréer la ressource dans une région autorisée." in table
    assert "Total 8" in table  # the rows add up to the verdict's 8 problems


# --------------------------------------------------------------------------- summary


def test_summary_counts_and_banners(report: Report, html_fr: str) -> None:
    page = Page(html_fr)
    summary = page.text("summary")
    assert "1 source n'a pas pu être lue — l'audit est incomplet." in summary
    assert "3 constats sont indéterminés." in summary
    assert "n'est jamais une conformité" in summary
    by_status = report.by_status
    assert by_status["fail"] == 4 and by_status["unknown"] == 3
    assert "✗ non conforme 4" in summary
    assert "? indéterminé 3" in summary
    assert "✓ conforme 5" in summary
    assert "– non applicable 1" in summary
    assert "Total 16" in summary
    # By severity and by category, as tables.
    assert "critique 3 3 2 0 0 0 0 8" in summary
    assert "Localisation des ressources 2 2 1 0 0 0 0 5" in summary
    assert "Journalisation 0 0 0 0 0 0 1 1" in summary


def test_no_banner_when_nothing_is_wrong(clean_report: Report) -> None:
    only_pass = dataclasses.replace(
        clean_report, findings=[f for f in clean_report.findings if f.status is Status.PASS]
    )
    page = Page(render_html(only_pass))
    assert "l'audit est incomplet" not in page.text()
    assert "indéterminés" not in page.text("summary")
    assert not page.has_id("errors")


def test_errors_section(html_fr: str, clean_report: Report) -> None:
    errors = Page(html_fr).text("errors")
    assert "states/broken.tfstate" in errors
    assert "not JSON: unexpected end of data at line 12" in errors
    assert "entrée illisible" in errors  # the error's kind (input), in words
    assert not Page(render_html(clean_report)).has_id("errors")


# --------------------------------------------------------------------------- where the data sits


def test_where_the_data_sits(html_fr: str) -> None:
    places = Page(html_fr).text("places")
    assert "5 ressources stockent des données" in places
    assert "aws_instance.web" not in places  # compute holds no data
    # Countries in French, out-of-area places first, flags in words.
    order = [places.index(name) for name in ("Norvège (NO)", "Royaume-Uni (GB)", "France (FR)")]
    assert order == sorted(order)
    assert "Norvège (NO) · UE ✗ non · EEE ✓ oui" in places
    assert "France (FR) · UE ✓ oui · EEE ✓ oui · 2 ressources" in places
    # Replicas: their region and country, and whether the copy is allowed.
    assert "✗ non réplication → us-east-1 — US East (N. Virginia), États-Unis" in places
    assert "arn:aws:s3:::records-dr-us" in places
    assert "? non établies" in places  # replicas None: never shown as "none"
    assert "Pays inconnu" in places


@pytest.mark.parametrize(
    ("lang", "alone", "in_a_sentence"),
    [("fr", "Pays inconnu", "pays inconnu"), ("en", "Unknown country", "unknown country")],
)
def test_a_place_label_in_a_sentence_has_no_capital(
    lang: str, alone: str, in_a_sentence: str
) -> None:
    """ "région inconnue, Pays inconnu" read as a typo: a label (not a country's name) starts
    in lower case after the region; a country keeps its capital."""
    geo = GeoTables.default()
    places = Places(_Texts(lang), geo)
    unknown = places(geo.locate("aws", None))
    assert (unknown.country, unknown.country_inline) == (alone, in_a_sentence)
    paris = places(geo.locate("aws", "eu-west-3"))
    assert paris.country == paris.country_inline == "France"
    assert places(geo.locate("aws", "aws-global")).country_inline[0].islower()


# --------------------------------------------------------------------------- findings


def test_categories_in_contract_order(html_fr: str) -> None:
    categories = ["residency", "replication_residency", "encryption_at_rest", "key_management"]
    positions = [html_fr.index(f'id="cat-{c}"') for c in [*categories, "logging"]]
    assert positions == sorted(positions)


def test_failures_then_unknowns_with_evidence_and_reason(html_fr: str) -> None:
    residency = Page(html_fr).text("cat-residency")
    uk = residency.index("storageAccounts/ukrecords")
    oslo = residency.index("azurerm_storage_account.oslo")
    pending = residency.index("aws_db_instance.pending")
    assert uk < pending and oslo < pending
    assert "✗ non conforme critique" in residency
    assert "in_area = false — uksouth (GB)" in residency
    assert "uksouth — UK South, Royaume-Uni" in residency
    assert "sub-1234 : API Azure (uksouth)" in residency  # the source of the resource
    assert "Raison : region known after apply" in residency
    keys = Page(html_fr).text("cat-key_management")
    assert "⚠ erreur" in keys and "policy evaluation failed" in keys
    assert "⊘ dérogation" in keys and "waiver W-12: migration planned" in keys


def test_passing_findings_are_collapsed(html_fr: str) -> None:
    residency = html_fr[html_fr.index('id="cat-residency"') : html_fr.index('id="cat-replica')]
    assert 'class="row-pass"' not in html_fr
    details = residency[residency.index("<details") : residency.index("</details>")]
    assert "2 ressources conformes" in details
    assert "aws_s3_bucket.records" in details
    # The passing bucket appears in this category only inside the collapsed list.
    assert residency.count("aws_s3_bucket.records") == 1
    assert "1 ressource non concernée" in Page(html_fr).text("cat-key_management")


def test_remediation_snippet_once_per_policy_and_repeats_grouped(report: Report) -> None:
    uk_fail = report.findings[1]
    assert uk_fail.status is Status.FAIL
    many = [
        uk_fail._replace(
            resource=dataclasses.replace(uk_fail.resource, id=f"bucket-{i}"),
            status=Status.FAIL if i % 3 else Status.PASS,
            evidence=(Evidence("in_area", False, f"n{i % 2}"),),
        )
        for i in range(300)
    ]
    html = render_html(dataclasses.replace(report, findings=many))
    assert html.count("<pre>") == 1
    assert html.count("region = &#34;eu-west-3&#34; # Paris") == 1
    # 200 failures for two reasons: two rows of 100 resources, each list capped.
    rows = html[html.index('id="findings"') :]
    assert rows.count('class="row-fail"') == 2
    findings = Page(html).text("findings")
    assert findings.count("100 ressources afficher la liste") == 2
    assert "… et 60 autres : liste complète dans report.json et report.csv." in findings
    assert "100 ressources conformes" in findings


def test_rows_of_one_policy_are_capped(report: Report) -> None:
    uk_fail = report.findings[1]
    distinct = [
        uk_fail._replace(
            resource=dataclasses.replace(uk_fail.resource, id=f"bucket-{i}"),
            evidence=(Evidence("in_area", False, f"region-{i}"),),
        )
        for i in range(50)
    ]
    html = render_html(dataclasses.replace(report, findings=distinct))
    assert html[html.index('id="findings"') :].count('class="row-fail"') == 20
    assert "… et 30 autres lignes de constats, sur 30 ressources" in Page(html).text("findings")


def test_catalogue_lists_every_policy(report: Report, html_fr: str) -> None:
    catalogue = Page(html_fr).text("catalogue")
    for policy in report.policies:
        assert policy.id in catalogue
    assert "hds-v2: EXI 28" in catalogue
    assert "gdpr: Art. 44, Art. 46" in catalogue
    assert "L'exigence EXI 28 du référentiel HDS v2 impose l'EEE." in catalogue
    assert catalogue.index("HDS_RES_001") < catalogue.index("HDS_ENC_001")


def test_status_always_has_word_and_symbol(html_fr: str) -> None:
    badge = r'<span class="st st-(\w+)"><span class="sym" aria-hidden="true">(.)</span> ([^<]+)</'
    badges = re.findall(badge, html_fr)
    assert len(badges) == html_fr.count('class="st st-') > 20
    symbols = {"pass": "✓", "fail": "✗", "unknown": "?", "error": "⚠", "waived": "⊘"}
    words = {"pass": "conforme", "fail": "non conforme", "unknown": "indéterminé"}
    for status, symbol, word in badges:
        assert symbol == symbols.get(status, symbol)
        assert word == words.get(status, word)
        assert word.strip()


# --------------------------------------------------------------------------- writing


def test_write_html_is_atomic_and_matches_render(report: Report, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    assert write_html(report, target, lang="en") == target
    assert target.read_text(encoding="utf-8") == render_html(report, lang="en")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_failed_render_leaves_the_old_file(report: Report, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report", encoding="utf-8")
    with pytest.raises(ValueError):
        write_html(report, target, lang="xx")
    assert target.read_text(encoding="utf-8") == "previous report"


def test_findings_outside_the_catalogue_still_render(report: Report) -> None:
    orphan: Finding = report.findings[1]
    html = render_html(dataclasses.replace(report, findings=[orphan], policies=[]))
    assert "storageAccounts/ukrecords" in Page(html).text("findings")
    assert "Aucune politique." in Page(html).text("catalogue")


def test_priorities_rows_and_the_problems_not_listed_add_up_to_the_total(
    tmp_path: Path,
) -> None:
    """More blocking (policy, status) pairs than the first screen lists: the footnote counts
    the problems of the rows left out, so the rows shown and it add up to the total."""
    from hds_audit.collectors.terraform import TerraformCollector
    from hds_audit.scan import ScanOptions, run_scan

    fixtures = Path(__file__).resolve().parents[2] / "terraform_fixtures"
    report = run_scan(ScanOptions(collectors=[TerraformCollector((str(fixtures),))]))
    html = render_html(report)
    table = html[
        html.index('<table class="priorities">') : html.index(
            "</table>", html.index('<table class="priorities">')
        )
    ]
    shown = [
        int(n) for n in re.findall(r'<td class="num"><a href="#policy-[^"]+">(\d+)</a>', table)
    ]
    assert len(shown) == 8  # the screen's cap: some rows are left out
    more = re.search(r"dont (\d+) problèmes? non listés? ici", table)
    total = re.search(r'</th><td class="num">(\d+)</td>', table)
    assert more is not None and total is not None
    assert sum(shown) + int(more.group(1)) == int(total.group(1))
