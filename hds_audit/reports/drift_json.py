"""The schema-1.1 sections of ``report.json``: ``baseline``, ``fixed`` and ``waivers``."""

from __future__ import annotations

from typing import Any

from hds_audit.baseline import Fixed
from hds_audit.reports.model import Report
from hds_audit.waivers import Waiver


def baseline_dict(report: Report) -> dict[str, Any] | None:
    """``null`` without ``--baseline``; else the file and the new / unchanged / fixed counts."""
    if report.baseline is None:
        return None
    counts = report.baseline_counts
    return {
        "file": report.baseline.label,
        "identity": ["policy_id", "resource_id", "source_kind"],
        "new": counts.get("new", 0),
        "unchanged": counts.get("unchanged", 0),
        "fixed": len(report.fixed),
    }


def fixed_dict(fixed: Fixed) -> dict[str, Any]:
    return {
        "policy_id": fixed.policy_id,
        "resource_id": fixed.resource_id,
        "source_kind": fixed.source_kind,
        "severity": fixed.severity,
        "category": fixed.category,
        "status_before": fixed.status_before,
        "status_now": fixed.status_now,
    }


def waiver_dict(waiver: Waiver) -> dict[str, Any]:
    return {
        "policy_id": waiver.policy_id,
        "resource_id": waiver.resource_id,
        "reason": waiver.reason,
        "approved_by": waiver.approved_by,
        "expires": waiver.expires.isoformat(),
        "line": waiver.line,
    }


def waivers_dict(report: Report) -> dict[str, Any] | None:
    """``null`` without a waivers file; else what each waiver did."""
    outcome = report.waivers
    if outcome is None:
        return None
    return {
        "file": outcome.file,
        "waived": outcome.waived,
        "applied": [{**waiver_dict(w), "findings": n} for w, n in outcome.applied.items()],
        "expired": [{**waiver_dict(w), "would_match": n} for w, n in outcome.expired],
        "stale": [waiver_dict(w) for w in outcome.stale],
    }
