"""``report.csv``: one row per finding, for a spreadsheet or a SIEM import.

UTF-8 with a header row, RFC 4180 quoting. A cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``.
Waived findings are rows like the others, with their status and reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

from hds_audit.baseline import fingerprint, identity
from hds_audit.model import Finding
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import Report

COLUMNS = (
    "policy_id",
    "policy_name",
    "category",
    "severity",
    "status",
    "baseline",
    "resource_id",
    "resource_type",
    "provider",
    "region",
    "country",
    "source_kind",
    "source_file",
    "message",
    "reason",
    "fingerprint",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | None) -> str:
    """The text of a cell, defused against spreadsheet formula injection."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA) else value


def _row(finding: Finding, state: str) -> list[str]:
    meta, resource = finding.policy, finding.resource
    return [
        meta.id,
        safe_cell(meta.name),
        meta.category,
        meta.severity.value,
        finding.status.value,
        state,
        safe_cell(resource.id),
        resource.type,
        resource.provider,
        safe_cell(resource.location.region),
        resource.location.country or "",
        resource.source.kind.value,
        safe_cell(resource.source.file),
        safe_cell(finding_message(finding)),
        safe_cell(finding.reason),
        safe_cell(fingerprint(identity(finding))),
    ]


def write_csv(report: Report, path: Path) -> Path:
    """Write ``report.csv`` atomically; return the path."""
    state = report.baseline.state if report.baseline is not None else None
    with atomic_writer(path) as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(_row(f, state(f) if state is not None else "") for f in report.findings)
    return path
