"""Requirement verdicts: findings of each requirement's policies, plus its attestation.

* automated: any fail/error -> non_compliant; else any unknown -> unknown; else any pass ->
  compliant; no finding at all -> not_evaluated.
* partial: as automated for the policies; when they raise nothing, the attestation decides
  (valid -> compliant, missing or expired -> attestation_owed).
* manual: valid attestation -> compliant, else attestation_owed.

Information-severity findings are shown with their requirement but never decide it (EXI 30
asks for a disclosure, not for the absence of exposure). Unknown is never compliant.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, Final

from hds_audit.attestations import Attestation, AttestationSet
from hds_audit.frameworks import Framework, Requirement
from hds_audit.model import Finding, Severity, Status
from hds_audit.providers.registry import Registry

VERDICTS: Final = ("non_compliant", "unknown", "attestation_owed", "compliant", "not_evaluated")
_FAILING: Final = frozenset({Status.FAIL, Status.ERROR})


@dataclass(frozen=True, slots=True)
class PolicyTally:
    policy_id: str
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RequirementResult:
    requirement: Requirement
    verdict: str
    policies: tuple[PolicyTally, ...]
    attestation: Attestation | None
    attestation_state: str | None  # valid | expired | future | missing | None (automated)

    @property
    def owed(self) -> bool:
        return self.attestation_state in ("missing", "expired", "future")


@dataclass(frozen=True, slots=True)
class FrameworkResult:
    framework: Framework
    requirements: tuple[RequirementResult, ...]

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(r.verdict for r in self.requirements)
        return {v: tally.get(v, 0) for v in VERDICTS}


def _policy_state(tallies: Iterable[PolicyTally], decisive: Mapping[str, bool]) -> str:
    failing = unknown = passing = False
    for tally in tallies:
        if not decisive.get(tally.policy_id, True):
            continue
        counts = tally.counts
        failing |= bool(counts.get("fail") or counts.get("error"))
        unknown |= bool(counts.get("unknown"))
        passing |= bool(counts.get("pass"))
    if failing:
        return "non_compliant"
    if unknown:
        return "unknown"
    return "compliant" if passing else "not_evaluated"


def _attestation_state(attestation: Attestation | None, audit_date: date) -> str:
    if attestation is None:
        return "missing"
    if attestation.future(audit_date):
        return "future"
    return "expired" if attestation.expired(audit_date) else "valid"


#: What a finding is counted by: policy id, severity, category, status.
CountKey = tuple[str, Severity, str, Status]
_COUNT_KEY: Final = attrgetter("policy.id", "policy.severity", "policy.category", "status")


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """How many findings have each policy id, severity, category and status, in order of
    first appearance, counted in one pass over ``findings`` (the sequence counted: the
    report's summary reuses the counts for the same findings rather than count again)."""

    findings: Sequence[Finding] = field(repr=False, compare=False)
    size: int
    counts: Mapping[CountKey, int]

    @classmethod
    def of(cls, findings: Sequence[Finding]) -> FindingCounts:
        return cls(findings, len(findings), Counter(map(_COUNT_KEY, findings)))

    def counted(self, findings: Sequence[Finding]) -> bool:
        """Whether these are the counts of ``findings`` (the same sequence, same length)."""
        return findings is self.findings and len(findings) == self.size


def _decisive(counted: FindingCounts) -> dict[str, bool]:
    """Policy id -> whether its findings decide a requirement (information ones do not);
    a policy id found with several severities takes its last finding's."""
    severities: dict[str, set[Severity]] = defaultdict(set)
    for policy_id, severity, _, _ in counted.counts:
        severities[policy_id].add(severity)
    decisive = {p: s.pop() is not Severity.INFO for p, s in severities.items() if len(s) == 1}
    mixed = set(severities) - set(decisive)
    for finding in reversed(counted.findings if mixed else ()):
        meta = finding.policy
        if meta.id in mixed:
            mixed.discard(meta.id)
            decisive[meta.id] = meta.severity is not Severity.INFO
    return decisive


def evaluate_frameworks(
    frameworks: Sequence[Framework],
    findings: Iterable[Finding],
    attestations: AttestationSet,
    audit_date: date,
) -> list[FrameworkResult]:
    """One result per framework, requirement by requirement, in file order."""
    listed = findings if isinstance(findings, Sequence) else list(findings)
    return _evaluate(frameworks, FindingCounts.of(listed), attestations, audit_date)


def _evaluate(
    frameworks: Sequence[Framework],
    counted: FindingCounts,
    attestations: AttestationSet,
    audit_date: date,
) -> list[FrameworkResult]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (policy_id, _, _, status), n in counted.counts.items():
        counts[policy_id][status.value] += n
    decisive = _decisive(counted)
    answered = attestations.by_requirement()
    results = []
    for framework in frameworks:
        rows = []
        for requirement in framework.requirements:
            tallies = tuple(
                PolicyTally(p, dict(counts.get(p, Counter()))) for p in requirement.policies
            )
            state = _policy_state(tallies, decisive)
            attestation = answered.get(requirement.ref)
            attest_state = (
                _attestation_state(attestation, audit_date)
                if requirement.needs_attestation
                else None
            )
            decided = state in ("non_compliant", "unknown")
            if requirement.mode == "automated" or (requirement.mode == "partial" and decided):
                verdict = state
            else:
                verdict = "compliant" if attest_state == "valid" else "attestation_owed"
            rows.append(RequirementResult(requirement, verdict, tallies, attestation, attest_state))
        results.append(FrameworkResult(framework, tuple(rows)))
    return results


def owed(results: Iterable[FrameworkResult]) -> list[RequirementResult]:
    """Requirements whose attestation is missing, expired or dated after the audit."""
    return [r for result in results for r in result.requirements if r.owed]


@dataclass(frozen=True, slots=True)
class Compliance:
    """What the sovereignty report shows beyond findings: the audit date, the host registry,
    the framework verdicts and the attestations."""

    audit_date: date
    registry: Registry
    frameworks: tuple[FrameworkResult, ...]
    attestations: AttestationSet
    # The counts the verdicts were made from (the report's summary reuses them).
    counted: FindingCounts | None = field(default=None, repr=False, compare=False)

    @property
    def owed(self) -> list[RequirementResult]:
        return owed(self.frameworks)


def build_compliance(
    findings: Iterable[Finding],
    audit_date: date,
    *,
    registry: Registry | None = None,
    frameworks: Sequence[Framework] | None = None,
    attestations: AttestationSet | None = None,
) -> Compliance:
    """Framework verdicts for a run (built-in registry and frameworks unless given)."""
    from hds_audit.attestations import EMPTY
    from hds_audit.frameworks import builtin_frameworks
    from hds_audit.providers.registry import builtin_registry

    chosen = tuple(frameworks) if frameworks is not None else builtin_frameworks()
    answers = attestations if attestations is not None else EMPTY
    counted = FindingCounts.of(findings if isinstance(findings, Sequence) else list(findings))
    return Compliance(
        audit_date=audit_date,
        registry=registry if registry is not None else builtin_registry(),
        frameworks=tuple(_evaluate(chosen, counted, answers, audit_date)),
        attestations=answers,
        counted=counted,
    )


def compliance_dict(compliance: Compliance, providers: Iterable[str]) -> dict[str, Any]:
    """The ``compliance`` object of report.json (schema 1.2): plain JSON values."""
    from hds_audit.providers.facts import certificate_verdict

    registry = compliance.registry
    audit = compliance.audit_date
    hosts = []
    seen: set[str] = set()
    for provider in sorted(set(providers)):
        host = registry.by_provider.get(provider)
        if host is not None and host.key in seen:
            continue
        verdict, days = certificate_verdict(host, audit)
        entry: dict[str, Any] = {
            "provider": provider,
            "host": host.key if host else None,
            "name": host.name if host else None,
            "certificate": verdict,
            "days_to_expiry": days,
            "facts": {},
        }
        if host is not None:
            seen.add(host.key)
            entry["facts"] = {
                name: {
                    "value": list(fact.value) if isinstance(fact.value, tuple) else fact.value,
                    "source": fact.source,
                    "source_url": registry.source(fact.source).url,
                    "date": fact.date,
                    "note": fact.note,
                }
                for name, fact in host.facts.items()
            }
        hosts.append(entry)
    return {
        "audit_date": audit.isoformat(),
        "registry": {
            "file": registry.file,
            "version": registry.version,
            "recorded": registry.recorded,
        },
        "attestations_file": compliance.attestations.file or None,
        "frameworks": [
            {
                "id": result.framework.id,
                "name": result.framework.text("name", "en"),
                "counts": result.counts,
                "requirements": [
                    {
                        "id": r.requirement.id,
                        "ref": r.requirement.ref,
                        "mode": r.requirement.mode,
                        "verdict": r.verdict,
                        "policies": [
                            {"id": t.policy_id, "counts": dict(t.counts)} for t in r.policies
                        ],
                        "attestation": None
                        if r.attestation_state is None
                        else {
                            "state": r.attestation_state,
                            "statement": r.attestation.statement if r.attestation else None,
                            "by": r.attestation.by if r.attestation else None,
                            "date": r.attestation.date.isoformat() if r.attestation else None,
                            "valid_until": r.attestation.valid_until.isoformat()
                            if r.attestation
                            else None,
                            "evidence": r.attestation.evidence if r.attestation else None,
                        },
                    }
                    for r in result.requirements
                ],
            }
            for result in compliance.frameworks
        ],
        "owed": [r.requirement.ref for r in compliance.owed],
        "hosts": hosts,
    }
