"""The CI formats by name: ``sarif``, ``junit``, ``csv``, ``markdown``."""

from __future__ import annotations

from pathlib import Path

from hds_audit.reports.model import Report


def write_ci_format(name: str, report: Report, path: Path, html_url: str | None = None) -> Path:
    """Write ``report`` as ``name`` to ``path`` (atomically); return the path."""
    if name == "sarif":
        from hds_audit.reports.sarif import write_sarif

        return write_sarif(report, path)
    if name == "junit":
        from hds_audit.reports.junit import write_junit

        return write_junit(report, path)
    if name == "csv":
        from hds_audit.reports.csv_report import write_csv

        return write_csv(report, path)
    if name == "markdown":
        from hds_audit.reports.markdown import write_markdown

        return write_markdown(report, path, html_url)
    raise ValueError(f"unknown CI format {name!r}")
