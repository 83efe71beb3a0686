"""One report model for every writer; the summary and the exit code are computed here once."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from hds_audit.collectors.base import CollectedSource
from hds_audit.geo import AllowedArea
from hds_audit.model import CollectionError, Finding, PolicyMeta, Resource, Severity, Status

SCHEMA_VERSION = "1.0"
# Statuses that gate (exit code 1) when at or above the threshold.
_FAILING = {Status.FAIL, Status.ERROR}


@dataclass(frozen=True, slots=True)
class Gate:
    """What makes a run fail: a severity threshold and whether unknown counts."""

    fail_on: Severity | None = Severity.LOW
    fail_on_unknown: bool = True

    def blocks(self, finding: Finding) -> bool:
        if self.fail_on is None:
            return False
        if finding.policy.severity.rank < self.fail_on.rank:
            return False
        return finding.status in _FAILING or (
            self.fail_on_unknown and finding.status is Status.UNKNOWN
        )

    @property
    def label(self) -> str:
        return self.fail_on.value if self.fail_on else "none"


@dataclass(slots=True)
class RunInfo:
    """Facts about the run itself."""

    started_at: datetime
    finished_at: datetime
    tool_version: str
    sources: list[CollectedSource]
    area: AllowedArea
    lang: str = "fr"
    policy_set: str = "builtin"
    config_file: str | None = None


@dataclass
class Report:
    """Everything a writer needs. Writers are pure functions of this object."""

    run: RunInfo
    resources: Sequence[Resource]
    findings: Sequence[Finding]
    errors: Sequence[CollectionError]
    policies: Sequence[PolicyMeta]
    gate: Gate = field(default_factory=Gate)

    @cached_property
    def by_status(self) -> dict[str, int]:
        counts = Counter(f.status.value for f in self.findings)
        return {status.value: counts.get(status.value, 0) for status in Status}

    @cached_property
    def by_severity(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for finding in self.findings:
            table[finding.policy.severity.value][finding.status.value] += 1
        return {sev.value: dict(table[sev.value]) for sev in Severity if sev.value in table}

    @cached_property
    def by_category(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for finding in self.findings:
            table[finding.policy.category][finding.status.value] += 1
        return {category: dict(counts) for category, counts in sorted(table.items())}

    @cached_property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if self.gate.blocks(f)]

    @property
    def input_errors(self) -> bool:
        return bool(self.errors)

    @property
    def exit_code(self) -> int:
        """2 when an input was unusable, 1 when a finding gates, else 0 (design.md)."""
        if self.input_errors:
            return 2
        return 1 if self.blocking else 0

    @cached_property
    def eea_would_pass(self) -> list[Finding]:
        """In ``eu`` mode: failures that HDS's own EEA rule (EXI 28) would accept."""
        if self.run.area.mode != "eu":
            return []
        return [
            f
            for f in self.findings
            if f.status is Status.FAIL
            and any(e.note and "EXI 28 (EEA)" in e.note for e in f.evidence)
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "resources": len(self.resources),
            "findings": len(self.findings),
            "errors": len(self.errors),
            "by_status": self.by_status,
            "by_severity": self.by_severity,
            "by_category": self.by_category,
            "gate": {
                "fail_on": self.gate.label,
                "fail_on_unknown": self.gate.fail_on_unknown,
                "blocking": len(self.blocking),
                "exit_code": self.exit_code,
            },
            "eea_would_pass": len(self.eea_would_pass),
        }
