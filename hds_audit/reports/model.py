"""One report model for every writer; the summary and the exit code are computed here once."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import TYPE_CHECKING, Any

from hds_audit.engine.paths import EEA_NOTE
from hds_audit.evidence.inputs import InputFile
from hds_audit.frameworks.compliance import CountKey, FindingCounts
from hds_audit.geo import AllowedArea
from hds_audit.model import (
    CollectedSource,
    CollectionError,
    Evidence,
    Finding,
    PolicyMeta,
    Resource,
    Severity,
    Status,
)
from hds_audit.sharding import Shard

if TYPE_CHECKING:
    from hds_audit.baseline import Comparison, Fixed
    from hds_audit.frameworks.compliance import Compliance
    from hds_audit.waivers import WaiverOutcome

SCHEMA_VERSION = "1.7"
# Statuses that gate (exit code 1) when at or above the threshold.
_FAILING = {Status.FAIL, Status.ERROR}


_STATUS = attrgetter("status")


def _eea_noted(evidence: tuple[Evidence, ...], seen: dict[tuple[Evidence, ...], bool]) -> bool:
    """Whether a piece of ``evidence`` notes that the EEA rule would accept it."""
    try:
        return seen[evidence]
    except KeyError:
        noted = seen[evidence] = any(e.note and e.note.endswith(EEA_NOTE) for e in evidence)
        return noted
    except TypeError:  # an unhashable value
        return any(e.note and e.note.endswith(EEA_NOTE) for e in evidence)


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


@dataclass(frozen=True, slots=True)
class MergedInput:
    """One report a merged report was built from (``hds-audit merge``)."""

    path: str
    shard: Shard | None
    started_at: datetime
    finished_at: datetime
    tool_version: str = ""
    manifest_sha256: str | None = None  # of the shard's manifest.json, when it had one


@dataclass(frozen=True, slots=True)
class Seal:
    """How a signed report can be matched to its manifest (``scan --sign-key``).

    The HTML report is itself listed in the manifest, so it shows what does not depend on
    it: the sha256 of ``report.json`` (written first) and the signing key's fingerprint.
    """

    report_sha256: str
    key_fingerprint: str


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
    # --shard I/N: the slice of the accounts, subscriptions and files this run audited.
    shard: Shard | None = None
    # sha256 of the policy set's content (engine.policy_set_digest); None when not known.
    policy_digest: str | None = None
    # A merged report: the reports it was built from, in shard order.
    merged_from: list[MergedInput] | None = None
    # Every file read (Terraform files, states pulled, registry, attestations, waivers,
    # baseline, configuration): path as given, kind, size, sha256 of the bytes read.
    inputs: list[InputFile] = field(default_factory=list)
    # sha256 of the certified-host registry's and the framework mappings' files.
    registry_digest: str | None = None
    frameworks_digest: str | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One run on the chart; ``run_id`` is ``None`` for the current, unrecorded run."""

    run_id: int | None
    started_at: datetime
    by_status: dict[str, int]
    exit_code: int


@dataclass(frozen=True, slots=True)
class Drift:
    """The last runs (oldest first, the current one last) and the change since the previous."""

    points: tuple[TrendPoint, ...]
    previous: str | None  # label of the previous run
    new: tuple[Finding, ...]
    fixed: tuple[Fixed, ...]


@dataclass
class Report:
    """Everything a writer needs. Writers are pure functions of this object."""

    run: RunInfo
    resources: Sequence[Resource]
    findings: Sequence[Finding]
    errors: Sequence[CollectionError]
    policies: Sequence[PolicyMeta]
    gate: Gate = field(default_factory=Gate)
    # --baseline: each finding new / unchanged; only new findings gate (see ``blocking``).
    baseline: Comparison | None = None
    # What the waivers file did (applied, expired, stale); None without a waivers file.
    waivers: WaiverOutcome | None = None
    # History: the trend of the last runs and what changed since the previous one.
    drift: Drift | None = None
    # Audit date, certified-host registry, framework verdicts, attestations (issue 5).
    compliance: Compliance | None = None
    # Signed runs: report.json's sha256 and the key's fingerprint, for the HTML annex.
    seal: Seal | None = None

    @cached_property
    def _counts(self) -> Mapping[CountKey, int]:
        """(policy id, severity, category, status) -> count: those the compliance verdicts
        were made from when they counted these very findings, else one pass over them."""
        counted = self.compliance.counted if self.compliance is not None else None
        if counted is None or not counted.counted(self.findings):
            counted = FindingCounts.of(self.findings)
        return counted.counts

    @cached_property
    def _tallies(self) -> Counter[tuple[str, str, str]]:
        """(severity, category, status) -> count."""
        tallies: Counter[tuple[str, str, str]] = Counter()
        for (_, severity, category, status), n in self._counts.items():
            tallies[severity, category, status] += n
        return tallies

    @cached_property
    def by_status(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, _, status), n in self._tallies.items():
            counts[status] += n
        return {status.value: counts.get(status, 0) for status in Status}

    @cached_property
    def by_severity(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for (severity, _, status), n in self._tallies.items():
            table[severity][status] += n
        return {
            sev.value: {str(k): v for k, v in table[sev].items()}
            for sev in Severity
            if sev in table
        }

    @cached_property
    def by_category(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for (_, category, status), n in self._tallies.items():
            table[category][status] += n
        return {c: {str(k): v for k, v in counts.items()} for c, counts in sorted(table.items())}

    def _gating(self) -> tuple[set[Status], set[Severity]]:
        """The statuses and severities that gate (none without a threshold)."""
        gate = self.gate
        if gate.fail_on is None:
            return set(), set()
        statuses = {Status.FAIL, Status.ERROR} | (
            {Status.UNKNOWN} if gate.fail_on_unknown else set()
        )
        return statuses, {s for s in Severity if s.rank >= gate.fail_on.rank}

    @cached_property
    def blocking(self) -> list[Finding]:
        statuses, severities = self._gating()
        if not self._gating_count(statuses, severities):
            return []
        blocking = [
            f for f in self.findings if f.status in statuses and f.policy.severity in severities
        ]
        if self.baseline is not None:  # only new findings gate
            state = self.baseline.state
            blocking = [f for f in blocking if state(f) == "new"]
        return blocking

    @cached_property
    def blocking_count(self) -> int:
        """``len(self.blocking)``, from the counts when no baseline filters the findings."""
        if self.baseline is not None:
            return len(self.blocking)
        return self._gating_count(*self._gating())

    def _gating_count(self, statuses: set[Status], severities: set[Severity]) -> int:
        return sum(
            n for (sev, _, st), n in self._tallies.items() if st in statuses and sev in severities
        )

    @cached_property
    def fixed(self) -> list[Fixed]:
        """With a baseline: its problems that now pass, no longer apply, or are gone."""
        return [] if self.baseline is None else self.baseline.fixed(self.findings)

    @cached_property
    def baseline_counts(self) -> dict[str, int]:
        """With a baseline: how many findings are new and unchanged."""
        return {} if self.baseline is None else self.baseline.counts(self.findings)

    @property
    def input_errors(self) -> bool:
        return bool(self.errors)

    @property
    def exit_code(self) -> int:
        """2 when an input was unusable, 1 when a finding gates, else 0 (design.md)."""
        if self.input_errors:
            return 2
        return 1 if self.blocking_count else 0

    @cached_property
    def eea_would_pass(self) -> list[Finding]:
        """In ``eu`` mode: failures that HDS's own EEA rule (EXI 28) would accept."""
        if self.run.area.mode != "eu" or not self.by_status[Status.FAIL.value]:
            return []
        findings = self.findings
        failed = compress(findings, map(is_, map(_STATUS, findings), repeat(Status.FAIL)))
        seen: dict[tuple[Evidence, ...], bool] = {}  # evidence is shared: judged once
        return [f for f in failed if _eea_noted(f.evidence, seen)]

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
                "blocking": self.blocking_count,
                "exit_code": self.exit_code,
                "new_only": self.baseline is not None,
            },
            "eea_would_pass": len(self.eea_would_pass),
        }
