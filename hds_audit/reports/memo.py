"""Per-run caches the CI writers share: most findings repeat a few messages.

A finding's message depends only on its policy, status, evidence and reason; the engine
interns evidence, so a 360,000-finding report has a few hundred distinct messages. Caching
them keeps every writer a straight linear pass with O(1) work per finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hds_audit.model import Finding
from hds_audit.reports.messages import finding_message


class Memo:
    """``memo(finding)`` is ``render(finding)``, computed once per (policy, status, evidence,
    reason)."""

    def __init__(self, render: Callable[[Finding], Any] = finding_message) -> None:
        self._render = render
        self._cache: dict[tuple[Any, ...], Any] = {}

    def __call__(self, finding: Finding) -> Any:
        key = (finding.policy.id, finding.status, finding.evidence, finding.reason)
        try:
            hit = self._cache.get(key)
        except TypeError:  # an unhashable evidence value: no cache for this one
            return self._render(finding)
        if hit is None:
            hit = self._cache[key] = self._render(finding)
        return hit
