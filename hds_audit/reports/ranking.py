"""The order in which problems are shown to people: one rule for every summary.

Failures before what could not be established, the most severe first, where the data is
(residency, then where its copies go) before how it is kept. The Markdown pull-request
summary and the command's own summary both follow it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any, Final

from hds_audit.model import Finding, PolicyMeta, Resource, Status
from hds_audit.reports.grouping import ResourceKey, resource_key

STATUS_RANK: Final = {Status.FAIL: 0, Status.ERROR: 1, Status.UNKNOWN: 2}
CATEGORY_RANK: Final = {
    "residency": 0,
    "replication_residency": 1,
    "certified_provider": 2,
    "encryption_at_rest": 3,
    "key_management": 4,
}


def _rank_head(meta: PolicyMeta, status: Status) -> tuple[int, int, int, str]:
    """What the rank of a problem owes to its policy and status."""
    return (
        STATUS_RANK.get(status, len(STATUS_RANK)),
        -meta.severity.rank,
        CATEGORY_RANK.get(meta.category, len(CATEGORY_RANK)),
        meta.id,
    )


def problem_rank(finding: Finding) -> tuple[int, int, int, str, str]:
    """The sort key of a problem: status, severity, category, then policy and resource."""
    return (*_rank_head(finding.policy, finding.status), finding.resource.id)


def problem_lines(findings: Iterable[Finding], first: int) -> tuple[list[list[Finding]], int]:
    """The ``first`` lines of problems and how many lines there are: one line per policy,
    status and distinct resource (a plan and a state of one resource are one line), its
    findings in :func:`problem_rank` order, the lines in the order of their first finding.

    What sorting every finding and grouping them in that order gives, without the sort (a
    large run has 100,000 problems to show ten of): lines are grouped in one pass, and only
    the first are picked out and put in order. The policy's part of a rank is worked out
    once per policy and status, a resource's key once per run of its findings."""
    lines: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], int, Finding]]] = {}
    # (policy, status) by identity -> (policy, its id, the status's value, its rank's head):
    # the entry holds the policy, so no other object takes its id meanwhile.
    heads: dict[tuple[int, Status], tuple[PolicyMeta, str, str, tuple[Any, ...]]] = {}
    last: Resource | None = None
    rkey: ResourceKey | None = None
    for index, finding in enumerate(findings):
        meta, resource, status = finding.policy, finding.resource, finding.status
        head = heads.get((id(meta), status))
        if head is None:
            head = heads[id(meta), status] = (meta, meta.id, status.value, _rank_head(meta, status))
        if resource is not last:
            last, rkey = resource, resource_key(resource)
        key = (head[1], head[2], rkey)
        # (rank, index) is unique: findings are never compared
        entry = ((*head[3], resource.id), index, finding)
        line = lines.get(key)
        if line is None:
            lines[key] = [entry]
        else:
            line.append(entry)
    shown = heapq.nsmallest(first, lines.values(), key=min)
    return [[finding for _, _, finding in sorted(line)] for line in shown], len(lines)
