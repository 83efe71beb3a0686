"""``report.pdf``: the HTML sovereignty report printed by headless chromium.

The same document as ``report.html`` (same template, same language), printed to A4 with
Debian's chromium (``--print-to-pdf``), offline, with a throwaway profile. No browser is
downloaded: without chromium the run stops with exit 2 before anything is scanned.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from hds_audit.errors import AuditIncomplete, UsageError
from hds_audit.reports.html_report import write_html
from hds_audit.reports.model import Report

CHROMIUM_CANDIDATES: Final = ("/usr/bin/chromium", "chromium", "chromium-browser")
_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-pdf-header-footer",
)


def find_chromium() -> str:
    """The chromium binary (``HDS_AUDIT_CHROMIUM`` overrides), or exit 2 with the fix."""
    explicit = os.environ.get("HDS_AUDIT_CHROMIUM")
    candidates = (explicit,) if explicit else CHROMIUM_CANDIDATES
    for candidate in candidates:
        if candidate and (found := shutil.which(candidate)):
            return found
    raise UsageError(
        f"--format pdf needs chromium ({explicit or '/usr/bin/chromium'} not found): "
        "install it (apt-get install chromium) or drop pdf from --format"
    )


def write_pdf(report: Report, path: Path, lang: str = "fr", chromium: str | None = None) -> Path:
    """Render the HTML report and print it to ``path`` with headless chromium."""
    binary = chromium or find_chromium()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hds-audit-pdf-") as work:
        folder = Path(work)
        html = write_html(report, folder / "report.html", lang)
        partial = folder / "report.pdf"
        profile = folder / "profile"
        command = [
            binary,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={partial}",
            html.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise AuditIncomplete(f"{path}: chromium could not print the report: {error}") from None
        if done.returncode != 0 or not partial.exists() or partial.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise AuditIncomplete(
                f"{path}: chromium could not print the report (exit {done.returncode}): {tail[0]}"
            )
        shutil.move(str(partial), path)
    return path
