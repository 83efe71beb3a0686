"""The lines of problems a summary shows are those of sorting every problem and grouping
them in that order, whatever the findings: the reference below is that plain way."""

from __future__ import annotations

import random

from hds_audit.geo import GeoTables
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
from hds_audit.reports.grouping import resource_key
from hds_audit.reports.ranking import problem_lines, problem_rank

_GEO = GeoTables.default()
_SOURCES = [
    Source(SourceKind.TERRAFORM_PLAN, file="projects/a/plan.json"),
    Source(SourceKind.TERRAFORM_STATE, file="projects/a/terraform.tfstate"),
    Source(SourceKind.TERRAFORM_STATE, file="projects/b/terraform.tfstate"),
]
_CATEGORIES = ["residency", "replication_residency", "encryption_at_rest", "key_management", "x"]


def _policy(rng: random.Random) -> PolicyMeta:
    # Few ids, each met with any severity and category: a policy id may come with several.
    return PolicyMeta(
        f"HDS_{rng.randrange(4)}",
        "name",
        rng.choice(_CATEGORIES),
        rng.choice(list(Severity)),
        "rationale",
        "remediation",
    )


def _finding(rng: random.Random) -> Finding:
    resource = Resource(
        id=f"aws_s3_bucket.b{rng.randrange(6)}",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("aws", "eu-west-3"),
        source=rng.choice(_SOURCES),
        replicas=(),
        name="b",
    )
    status = rng.choice([Status.FAIL, Status.UNKNOWN, Status.ERROR])
    return Finding(_policy(rng), resource, status, (Evidence("in_area", False, "x"),))


def _sorted_then_grouped(findings: list[Finding], first: int) -> tuple[list[list[Finding]], int]:
    lines: dict[tuple[object, ...], list[Finding]] = {}
    for finding in sorted(findings, key=problem_rank):
        key = (finding.policy.id, finding.status.value, resource_key(finding.resource))
        lines.setdefault(key, []).append(finding)
    return list(lines.values())[:first], len(lines)


def _assert_lines_of_the_plain_sort(findings: list[Finding], first: int, seed: int) -> None:
    shown, count = problem_lines(findings, first)
    expected, expected_count = _sorted_then_grouped(findings, first)
    assert count == expected_count, seed
    # By identity: equal findings of two sources are still two findings, in order.
    assert [[id(f) for f in line] for line in shown] == [
        [id(f) for f in line] for line in expected
    ], seed


def test_the_lines_shown_are_those_of_sorting_every_problem() -> None:
    for seed in range(300):
        rng = random.Random(seed)
        findings = [_finding(rng) for _ in range(rng.randrange(0, 60))]
        _assert_lines_of_the_plain_sort(findings, rng.choice([1, 3, 10]), seed)


def test_the_same_policies_and_resources_met_again_give_the_same_lines() -> None:
    """A run's findings share their policy and resource objects, a resource's findings one
    after another: what ``problem_lines`` keeps per policy and per run of a resource gives
    the lines of the plain sort, policies of one id with several severities included."""
    for seed in range(300):
        rng = random.Random(seed)
        policies = [_policy(rng) for _ in range(rng.randrange(1, 6))]
        resources = [_finding(rng).resource for _ in range(rng.randrange(1, 8))]
        findings = []
        for _ in range(rng.randrange(0, 15)):  # a resource's findings, one after another
            resource = rng.choice(resources)
            for _ in range(rng.randrange(1, 5)):
                status = rng.choice([Status.FAIL, Status.UNKNOWN, Status.ERROR])
                evidence = (Evidence("in_area", False, "x"),)
                findings.append(Finding(rng.choice(policies), resource, status, evidence))
        _assert_lines_of_the_plain_sort(findings, rng.choice([1, 3, 10]), seed)
