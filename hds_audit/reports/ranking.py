"""The order in which problems are shown to people: one rule for every summary.

Failures before what could not be established, the most severe first, where the data is
(residency, then where its copies go) before how it is kept. The Markdown pull-request
summary and the command's own summary both follow it.
"""

from __future__ import annotations

from typing import Final

from hds_audit.model import Finding, Status

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
