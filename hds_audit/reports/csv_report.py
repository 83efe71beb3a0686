"""``report.csv``: one row per finding, for a spreadsheet or a SIEM import.

UTF-8 with a header row, RFC 4180 quoting. A cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``.
Waived findings are rows like the others, with their status and reason.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from hds_audit.baseline import fingerprint, identity
from hds_audit.model import Finding, PolicyMeta, Resource
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.memo import Memo
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
    "covers",  # host-level findings: how many resources the verdict covers (schema 1.4)
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | None) -> str:
    """The text of a cell, defused against spreadsheet formula injection."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA) else value


def _policy_cells(meta: PolicyMeta) -> list[str]:
    return [meta.id, safe_cell(meta.name), meta.category, meta.severity.value]


def _resource_cells(resource: Resource) -> list[str]:
    return [
        safe_cell(resource.id),
        resource.type,
        resource.provider,
        safe_cell(resource.location.region),
        resource.location.country or "",
        resource.source.kind.value,
        safe_cell(resource.source.file),
    ]


def _message_cells(finding: Finding) -> list[str]:
    return [safe_cell(finding_message(finding)), safe_cell(finding.reason)]


class _Rows:
    """Rows of the CSV; the parts a policy, a resource or a message share are built once."""

    def __init__(self, report: Report) -> None:
        self.state = report.baseline.state if report.baseline is not None else None
        self.policies: dict[str, list[str]] = {}
        self.messages = Memo(_message_cells)
        self.resource: Resource | None = None
        self.resource_cells: list[str] = []

    def __call__(self, finding: Finding) -> list[str]:
        meta = finding.policy
        head = self.policies.get(meta.id)
        if head is None:
            head = self.policies[meta.id] = _policy_cells(meta)
        if finding.resource is not self.resource:
            self.resource = finding.resource
            self.resource_cells = _resource_cells(finding.resource)
        state = self.state(finding) if self.state is not None else ""
        return [
            *head,
            finding.status.value,
            state,
            *self.resource_cells,
            *self.messages(finding),
            safe_cell(fingerprint(identity(finding))),
            "" if finding.covers is None else str(len(finding.covers)),
        ]


def write_csv(report: Report, path: Path) -> Path:
    """Write ``report.csv`` atomically; return the path."""
    rows = map(_Rows(report), report.findings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    with atomic_writer(path) as stream:
        while True:  # rows are encoded in memory by the thousand, written in one call each
            writer.writerows(itertools.islice(rows, 5000))
            if not buffer.tell():
                break
            stream.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    return path
