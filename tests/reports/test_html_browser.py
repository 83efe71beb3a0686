"""The HTML report in a real browser: Debian's headless chromium, offline.

These tests fail (never skip) when chromium is missing, unless HDS_AUDIT_SKIP_BROWSER=1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_helpers import Chromium, Page

from hds_audit.reports.html_report import write_html
from hds_audit.reports.model import Report

pytestmark = pytest.mark.browser

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"


def _dump_dom(chromium: Chromium, report_file: Path) -> str:
    done = chromium.run("--dump-dom", report_file.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode("utf-8")
    assert "</html>" in dom, "chromium returned no document"
    return dom


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_browser_shows_hostile_strings_as_text(
    chromium: Chromium, report: Report, tmp_path: Path, lang: str
) -> None:
    report_file = write_html(report, tmp_path / f"report-{lang}.html", lang=lang)
    dom = Page(_dump_dom(chromium, report_file))
    # Parsed by the browser, the hostile name and evidence are text nodes, not elements.
    assert "script" not in dom.tags
    assert "img" not in dom.tags
    visible = dom.text()
    assert HOSTILE_NAME in visible
    assert HOSTILE_VALUE in visible
    assert not any(name.startswith("on") for _, name, _ in dom.attrs)
    heading = "Rapport de souveraineté" if lang == "fr" else "Health-data sovereignty report"
    assert heading in dom.text("top")


def test_browser_prints_a_pdf(chromium: Chromium, report: Report, tmp_path: Path) -> None:
    report_file = write_html(report, tmp_path / "report.html")
    pdf = tmp_path / "report.pdf"
    done = chromium.run("--no-pdf-header-footer", f"--print-to-pdf={pdf}", report_file.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000
    # A4 pages (595 x 842 pt), and each section starts on a new page.
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes
    assert all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) >= 5
