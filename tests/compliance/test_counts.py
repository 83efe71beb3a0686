"""Findings are counted once for the framework verdicts and the report's summary; the
summary reuses those counts only when they were made from the report's own findings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from hds_audit.attestations import EMPTY
from hds_audit.frameworks import Framework, Requirement
from hds_audit.frameworks.compliance import FindingCounts, build_compliance, evaluate_frameworks
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import (
    Evidence,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports.model import Gate, Report, RunInfo

DAY = date(2026, 12, 1)
HIGH = PolicyMeta("P_1", "Encrypted", "encryption_at_rest", Severity.HIGH, "", "")
INFO = dataclasses.replace(HIGH, severity=Severity.INFO)  # the same id, disclosed only
OTHER = PolicyMeta("P_2", "In the area", "residency", Severity.CRITICAL, "", "")
FRAMEWORK = Framework(
    id="fw",
    order=1,
    name={"en": "Framework"},
    source={},
    requirements=(Requirement("fw", "1", {"en": "Encrypted"}, "automated", ("P_1",)),),
)
VOLUME = Resource(
    id="aws_ebs_volume.v",
    provider="aws",
    type="aws_ebs_volume",
    kind=Kind.BLOCK_STORAGE,
    location=GeoTables.default().locate("aws", "eu-west-3"),
    source=Source(SourceKind.TERRAFORM_STATE, file="s.tfstate"),
)


def _finding(policy: PolicyMeta, status: Status) -> Finding:
    return Finding(policy, VOLUME, status, (Evidence("encryption.at_rest", False),))


def _verdict(findings: list[Finding]) -> str:
    [result] = evaluate_frameworks([FRAMEWORK], findings, EMPTY, DAY)
    return result.requirements[0].verdict


def test_a_policy_found_with_two_severities_is_decided_by_its_last_finding() -> None:
    # As before the counts: information findings never decide, and the last one seen wins.
    assert _verdict([_finding(HIGH, Status.FAIL), _finding(INFO, Status.FAIL)]) == ("not_evaluated")
    assert _verdict([_finding(INFO, Status.FAIL), _finding(HIGH, Status.FAIL)]) == ("non_compliant")
    assert _verdict(iter([_finding(HIGH, Status.PASS)])) == "compliant"  # any iterable


def test_policy_counts_keep_the_order_statuses_appear_in() -> None:
    findings = [_finding(HIGH, s) for s in (Status.FAIL, Status.PASS, Status.FAIL)]
    compliance = build_compliance(findings, DAY, frameworks=[FRAMEWORK])
    tally = compliance.frameworks[0].requirements[0].policies[0]
    assert list(tally.counts.items()) == [("fail", 2), ("pass", 1)]


def _report(findings: list[Finding], counted: list[Finding]) -> Report:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    return Report(
        run=RunInfo(moment, moment, "0", [], AllowedArea.parse("eu")),
        resources=[VOLUME],
        findings=findings,
        errors=[],
        policies=[HIGH, OTHER],
        compliance=build_compliance(counted, DAY, frameworks=[FRAMEWORK]),
    )


def test_the_summary_counts_its_own_findings() -> None:
    every = [_finding(HIGH, Status.FAIL), _finding(OTHER, Status.PASS)]
    same = _report(every, every)
    assert same.summary()["by_status"]["fail"] == 1
    assert same.summary()["by_category"] == {
        "encryption_at_rest": {"fail": 1},
        "residency": {"pass": 1},
    }
    assert same.exit_code == 1
    # A report whose findings are not those the verdicts counted (filtered, or grown
    # since) counts its own.
    fewer = _report(every[1:], every)
    assert fewer.summary()["by_status"]["fail"] == 0
    assert fewer.summary()["gate"]["blocking"] == 0 and fewer.exit_code == 0
    grown = list(every)
    later = _report(grown, grown)
    grown.append(_finding(OTHER, Status.UNKNOWN))
    assert later.summary()["by_severity"]["critical"] == {"pass": 1, "unknown": 1}
    assert later.blocking == [grown[0], grown[2]]


@pytest.mark.parametrize(
    "gate",
    [Gate(), Gate(Severity.CRITICAL), Gate(Severity.LOW, fail_on_unknown=False), Gate(None)],
)
def test_the_blocking_count_is_the_blocking_list(gate: Gate) -> None:
    findings = [
        _finding(HIGH, Status.FAIL),
        _finding(OTHER, Status.UNKNOWN),
        _finding(OTHER, Status.PASS),
        _finding(INFO, Status.ERROR),
    ]
    report = dataclasses.replace(_report(findings, findings), gate=gate)
    gating = {Status.FAIL, Status.ERROR} | ({Status.UNKNOWN} if gate.fail_on_unknown else set())
    rank = gate.fail_on.rank if gate.fail_on is not None else 99
    blocking = [f for f in findings if f.status in gating and f.policy.severity.rank >= rank]
    assert report.summary()["gate"]["blocking"] == len(blocking) == len(report.blocking)
    assert report.blocking == blocking
    assert report.exit_code == (1 if blocking else 0)


def test_counts_are_by_what_each_policy_says_in_order_of_first_appearance() -> None:
    """Equal policies that are other objects count together; different severities of one id
    apart; each key where its first finding stands."""
    twin = dataclasses.replace(HIGH)  # equal, another object
    statuses = (Status.FAIL, Status.PASS, Status.UNKNOWN)
    findings = [
        _finding(policy, statuses[n % 3])
        for n, policy in enumerate([OTHER, HIGH, twin, INFO, twin, HIGH, OTHER, INFO] * 5)
    ]
    counted = FindingCounts.of(findings)
    expected: dict[tuple[object, ...], int] = {}
    for f in findings:
        key = (f.policy.id, f.policy.severity, f.policy.category, f.status)
        expected[key] = expected.get(key, 0) + 1
    assert list(counted.counts.items()) == list(expected.items())
    assert twin is not HIGH and counted.size == len(findings) == 40
