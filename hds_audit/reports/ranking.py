"""The order in which problems are shown to people: one rule for every summary.

Failures before what could not be established, the most severe first, where the data is
(residency, then where its copies go) before how it is kept. The Markdown pull-request
summary and the command's own summary both follow it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any, Final

from hds_audit.model import Finding, Status
from hds_audit.reports.grouping import resource_key

STATUS_RANK: Final = {Status.FAIL: 0, Status.ERROR: 1, Status.UNKNOWN: 2}
CATEGORY_RANK: Final = {
    "residency": 0,
    "replication_residency": 1,
    "certified_provider": 2,
    "encryption_at_rest": 3,
    "key_management": 4,
}


def problem_rank(finding: Finding) -> tuple[int, int, int, str, str]:
    """The sort key of a problem: status, severity, category, then policy and resource."""
    return (
        STATUS_RANK.get(finding.status, len(STATUS_RANK)),
        -finding.policy.severity.rank,
        CATEGORY_RANK.get(finding.policy.category, len(CATEGORY_RANK)),
        finding.policy.id,
        finding.resource.id,
    )


def problem_lines(findings: Iterable[Finding], first: int) -> tuple[list[list[Finding]], int]:
    """The ``first`` lines of problems and how many lines there are: one line per policy,
    status and distinct resource (a plan and a state of one resource are one line), its
    findings in :func:`problem_rank` order, the lines in the order of their first finding.

    What sorting every finding and grouping them in that order gives, without the sort (a
    large run has 100,000 problems to show ten of): lines are grouped in one pass, and only
    the first are picked out and put in order."""
    lines: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], int, Finding]]] = {}
    for index, finding in enumerate(findings):
        key = (finding.policy.id, finding.status.value, resource_key(finding.resource))
        # (rank, index) is unique: findings are never compared
        lines.setdefault(key, []).append((problem_rank(finding), index, finding))
    shown = heapq.nsmallest(first, lines.values(), key=min)
    return [[finding for _, _, finding in sorted(line)] for line in shown], len(lines)
