"""The sovereignty report in a real browser: Debian's headless chromium driven over the
DevTools protocol (``--remote-debugging-pipe``; no Playwright, no browser download).

Fails (never skips) when chromium is missing, unless HDS_AUDIT_SKIP_BROWSER=1.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from compliance_helpers import FIXTURES, MAKE_AUDIT, chromium_binary

from hds_audit.testing import run_cli

pytestmark = pytest.mark.browser

SECTIONS = {
    "fr": {
        "#executive": ["Synthèse pour la direction", "Attestations dues", "Charte FEIMA"],
        "#fw-feima": [
            "Conformité au RGPD",
            "Messagerie Sécurisée de Santé",
            "Non conforme",
            "Conforme",
        ],
        "#fw-hds-v2": ["EXI 28", "Stockage des données de santé exclusivement", "Non conforme"],
        "#fw-gdpr": ["Art. 44", "Principe général applicable aux transferts"],
        "#hosts": ["Hébergeurs et certificats HDS", "Amazon Web Services", "Non établi", "inconnu"],
        "#attestations": ["Attestations dues", "feima:7", "Attestation expirée"],
        "#places": ["Où sont les données", "Ressources de données par pays"],
    },
    "en": {
        "#executive": ["Executive summary", "Attestations owed", "FEIMA charter"],
        "#fw-feima": [
            "Conformité au RGPD",
            "Compliance with the GDPR",
            "Non-compliant",
            "Compliant",
        ],
        "#fw-hds-v2": ["EXI 28", "Health data stored exclusively in the European Economic Area"],
        "#fw-gdpr": ["Art. 44", "General principle for transfers"],
        "#hosts": [
            "Hosts and HDS certificates",
            "Amazon Web Services",
            "Not established",
            "unknown",
        ],
        "#attestations": ["Attestations owed", "feima:7", "Attestation expired"],
        "#places": ["Where the data sits", "Data resources by country"],
    },
}


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("HDS_AUDIT_SKIP_BROWSER") == "1":
            pytest.skip("chromium is not installed and HDS_AUDIT_SKIP_BROWSER=1")
        pytest.fail(
            "/usr/bin/chromium is missing: apt-get install -y chromium (as `make test` does)"
        )
    return binary


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_in_chromium(
    chromium: str, bundled: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    report = bundled[f"html_{lang}"]
    with Browser(chromium, tmp_path / "profile") as browser:
        page = browser.open(report.as_uri(), width=1200, height=1600)
        for selector, expected in SECTIONS[lang].items():
            text = page.text(selector).casefold()  # innerText applies text-transform
            for words in expected:
                assert words.casefold() in text, (lang, selector, words)
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.evaluate("document.querySelectorAll('svg').length") >= 3
        png = page.screenshot()
        (tmp_path / f"report-{lang}.png").write_bytes(png)
        assert _png_size(png) == (1200, 1600)
        if lang == "en":  # printing is slow: the French report is printed once, below
            assert page.problems() == []
            assert page.requests() == [report.as_uri()]
            return
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF")
        # A4 portrait, and long enough to hold every section (each starts on a new page).
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes)
        # A document of bounded size (issue 12): it was 203 pages before grouping.
        assert 8 <= _pages(pdf) <= 30, _pages(pdf)
        assert page.problems() == []
        assert page.requests() == [report.as_uri()]  # the file itself, nothing else


def test_format_pdf_writes_the_same_report(chromium: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        [
            "scan",
            str(FIXTURES / "compliant"),
            "--format",
            "html,pdf",
            "--audit-date",
            "2026-11-29",
            "--no-history",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code in (0, 1), result.output
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) >= 5


def test_bundled_fixtures_print_on_at_most_30_pages(chromium: str, tmp_path: Path) -> None:
    """``--format pdf`` on what `make audit` audits: a document, not 203 pages (issue 12)."""
    out = tmp_path / "out"
    result = run_cli([*MAKE_AUDIT, "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 1, result.output  # planted violations
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert 8 <= _pages(pdf) <= 30, _pages(pdf)


# A4 at 96 px per inch, less the 14 mm side margins of the print style: 182 mm.
A4_CONTENT_WIDTH = 688

# Every cell of every row of the tables a reader prints, and what each cell shows (badges,
# ids, names, links, codes): the boxes of one cell must not meet those of another cell.
_OVERLAPS = """
(() => {
  const tables = '#top table, #executive table, #summary table, #places table, '
    + '#hosts table, #findings table';
  const shown = '.st, .sev, .vd, .flag, .id, .rname, .region, .count, .muted, .src, .note, '
    + 'code, a, strong, span, p, li';
  const found = [];
  let rows = 0;
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
    && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (const row of document.querySelectorAll(tables.split(', ').map(t => t + ' tr').join(', '))) {
    const cells = [...row.children];
    const boxes = [];
    cells.forEach((cell, index) => {
      const edge = cell.getBoundingClientRect();
      for (const element of [cell, ...cell.querySelectorAll(shown)]) {
        const box = element.getBoundingClientRect();
        if (!box.width || !box.height) continue;  // closed <details>, hidden
        boxes.push({index, box, what: element.className || element.tagName});
        if (element !== cell && (box.right > edge.right + 0.5 || box.left < edge.left - 0.5)) {
          found.push(`${row.closest('[id]').id}: ${element.className || element.tagName} `
            + `spills out of cell ${index}: ${element.textContent.trim().slice(0, 40)}`);
        }
      }
    });
    rows += 1;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.index !== b.index && meet(a.box, b.box)) {
          found.push(`${row.closest('[id]').id}: ${a.what} (cell ${a.index}) meets `
            + `${b.what} (cell ${b.index})`);
        }
      }
    }
  }
  return {rows, found};
})()
"""


def test_printed_rows_do_not_overlap(
    chromium: str, bundled: dict[str, Any], tmp_path: Path
) -> None:
    """In print (A4 width, print media), no badge, id or text of one cell meets another cell's
    (the status badge used to overlap the resource id on every finding row)."""
    with Browser(chromium, tmp_path / "profile") as browser:
        page = browser.open(bundled["html_fr"].as_uri(), width=A4_CONTENT_WIDTH, height=1100)
        page.emulate_media("print")
        result = page.evaluate(_OVERLAPS)
    assert result["rows"] > 50  # the priorities, summary, places, hosts and findings rows
    assert result["found"] == []
