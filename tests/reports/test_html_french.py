"""The French report is French: no sentence of the English message catalogue, few English
words, and quotations of English sources labelled as such (issue 12, part 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_helpers import EnglishWords, english_vocabulary, english_words

from hds_audit.engine import builtin_policies
from hds_audit.i18n import messages
from hds_audit.model import REPLICA_KINDS
from hds_audit.reports.html_report import load_strings
from hds_audit.testing import run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "terraform_fixtures"

#: English words in the French report of the bundled fixtures, by ``english_words``, outside
#: labelled quotations. Before messages had keys: 9,931 in the text and 40 in Terraform
#: examples (issue 12 counted 5,740 another way). After: 5 in the text (a Terraform attribute
#: name, a registry source's title) and 10 in code (HCL values such as a key description).
MAX_ENGLISH_WORDS = 10
MAX_ENGLISH_CODE_WORDS = 15


_SCAN = (
    "scan",
    str(FIXTURES / "patient-records"),
    str(FIXTURES / "compliant"),
    "--attestations",
    str(FIXTURES / "attestations.yaml"),
    "--audit-date",
    "2026-12-01",
    "--no-history",
)


def _catalogue_texts(lang: str) -> list[str]:
    texts = list(load_strings(lang).values()) + list(messages(lang).values())
    for policy in builtin_policies():
        texts.extend(
            policy.meta.text(field, lang) for field in ("name", "rationale", "remediation")
        )
    return texts


@pytest.fixture(scope="module")
def french_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("fr")
    result = run_cli([*_SCAN, "--format", "html", "-o", str(out)])
    assert result.exit_code == 1, result.output
    return (out / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def merged_french_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The French HTML that ``hds-audit merge`` writes from two shards' report.json."""
    out = tmp_path_factory.mktemp("shards")
    for index in (1, 2):
        run_cli([*_SCAN, "--shard", f"{index}/2", "--format", "json", "-o", str(out / f"s{index}")])
    merged = out / "merged"
    shards = (str(out / "s1"), str(out / "s2"))
    result = run_cli(["merge", *shards, "--format", "html", "--lang", "fr", "-o", str(merged)])
    assert result.exit_code == 1, result.output
    return (merged / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def measured(french_html: str) -> EnglishWords:
    vocabulary = english_vocabulary(_catalogue_texts("en"), _catalogue_texts("fr"))
    return english_words(french_html, vocabulary)


def _fragments(template: str) -> list[str]:
    """The literal runs of ``template`` between its placeholders, of three words or more."""
    runs = re.split(r"\{[^{}]*\}", template)
    out = []
    for run in runs:
        run = re.sub(r"\s+", " ", run).strip(" :;,()[]'")
        if len(run.split()) >= 3:
            out.append(run)
    return out


def _english_messages_in(html: str) -> list[str]:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    text = text.replace("&#39;", "'").replace("&#34;", '"')
    fragments = {f for template in messages("en").values() for f in _fragments(template)}
    assert len(fragments) > 30  # the check has something to find
    return sorted(f for f in fragments if f in text)


def test_no_english_message_in_the_french_report(french_html: str) -> None:
    assert _english_messages_in(french_html) == []


def test_a_merged_report_stays_french(merged_french_html: str) -> None:
    """Shards' report.json carry each message's key (schema 1.5 ``messages``): the merged
    French report is as French as a direct one."""
    assert _english_messages_in(merged_french_html) == []
    vocabulary = english_vocabulary(_catalogue_texts("en"), _catalogue_texts("fr"))
    assert len(english_words(merged_french_html, vocabulary).prose) <= MAX_ENGLISH_WORDS


def test_few_english_words_in_the_french_report(measured: EnglishWords) -> None:
    print(
        f"\nEnglish words left in the French HTML: {len(measured.prose)} in the text, "
        f"{len(measured.code)} in code (Terraform examples), "
        f"{len(measured.quoted)} in labelled quotations of English sources"
    )
    assert len(measured.prose) <= MAX_ENGLISH_WORDS, sorted(set(measured.prose))[:50]
    assert len(measured.code) <= MAX_ENGLISH_CODE_WORDS, sorted(set(measured.code))[:50]


def test_english_sources_are_quoted_and_labelled(french_html: str) -> None:
    quotes = re.findall(r"« <span lang=\"en\">([^<]*)</span> »([^<]{0,40})", french_html)
    assert quotes, "no quotation of an English source"
    # Each quotation says it is one: in a message ("citée en anglais : « … »") or after it.
    for match in re.finditer(r"(.{0,40})« <span lang=\"en\">[^<]*</span> »(.{0,30})", french_html):
        before, after = match.groups()
        assert "anglais" in before or "anglais" in after, match.group(0)


def test_every_kind_of_copy_is_named_in_words(french_html: str) -> None:
    """A copy's kind was shown as its code ("geo_location → eastus") when the catalogue had
    no words for it: every kind collectors record has words in both languages."""
    for lang in ("fr", "en"):
        strings = load_strings(lang)
        assert sorted(k for k in REPLICA_KINDS if f"replica.{k}" not in strings) == []
        assert {k.split(".", 1)[1] for k in strings if k.startswith("replica.")} == REPLICA_KINDS
    assert "geo_location" not in french_html
    assert "région de réplication → eastus" in french_html  # the Cosmos DB account's region


_RECORDED_KIND = re.compile(r'(?:add_replica|paired_copy)\((?:[^()"]*?,\s*)?"(\w+)"')


def test_every_kind_of_copy_a_collector_records_is_declared() -> None:
    """The kinds written in the collectors' code, read from their source (``add_replica``
    also asserts it when it runs)."""
    package = ROOT / "hds_audit"
    written = {
        kind
        for path in package.rglob("*.py")
        for kind in _RECORDED_KIND.findall(path.read_text(encoding="utf-8"))
    }
    assert len(written) > 20  # the pattern finds them
    assert written - REPLICA_KINDS == set()
