"""The HTML report in a real browser: Debian's headless chromium, offline.

These tests fail (never skip) when chromium is missing, unless HDS_AUDIT_SKIP_BROWSER=1.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from report_helpers import Chromium, Page

from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.reports.html_report import write_html
from hds_audit.reports.model import Report
from hds_audit.scan import ScanOptions, run_scan

pytestmark = pytest.mark.browser

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(1)>"


def _dump_dom(chromium: Chromium, report_file: Path, *options: str) -> str:
    done = chromium.run(*options, "--dump-dom", report_file.as_uri())
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


# A probe appended to a copy of the report: the print rules applied on screen, at the width of
# an A4 page's text (182 mm), each badge of a table cell measured against its cell.
_BADGE_PROBE = """<script>
const over = [];
for (const badge of document.querySelectorAll("td .sev, td .st, td .flag")) {
  const cell = badge.closest("td").getBoundingClientRect();
  if (badge.getBoundingClientRect().right > cell.right + 0.5) {
    over.push(badge.textContent.trim() + " @ " + (badge.closest("tr").id || "?"));
  }
}
document.body.setAttribute("data-overflow", JSON.stringify(over));
</script></body>"""


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_printed_badges_stay_inside_their_cells(
    chromium: Chromium, tmp_path: Path, lang: str
) -> None:
    """The catalogue's severity column was narrower than "INFORMATION" (and "MOYENNE") in
    print: the badge ran over the frameworks next to it."""
    fixtures = Path(__file__).resolve().parents[2] / "terraform_fixtures"
    report = run_scan(ScanOptions(collectors=[TerraformCollector((str(fixtures),))]))
    html = write_html(report, tmp_path / "report.html", lang=lang).read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe = tmp_path / "probe.html"
    probe.write_text(
        html.replace("@media print", "@media all").replace("</body>", _BADGE_PROBE),
        encoding="utf-8",
    )
    dom = _dump_dom(chromium, probe, "--window-size=688,1000")
    found = re.search(r'data-overflow="([^"]*)"', dom)
    assert found, "the probe did not run"
    assert json.loads(unescape(found.group(1))) == []
    assert "catalogue-HDS_CERT_003" in html  # the policy of severity "information" is listed
