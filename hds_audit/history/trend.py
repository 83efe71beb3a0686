"""What the HTML report shows of the history: the trend of the last runs, new and fixed.

:func:`drift_for` reads the history (before the current run is recorded) and compares the
current run with the previous one; :func:`drift_view` turns that into plain view data for the
``_trend.html.j2`` partial: the inline SVG chart geometry is computed here, not in templates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hds_audit.baseline import NEW, PROBLEMS, Comparison, Fixed, identity
from hds_audit.model import Finding

# Drift and TrendPoint are records of the report model (reports never import history).
from hds_audit.reports.model import Drift, Report, TrendPoint

if TYPE_CHECKING:
    from hds_audit.history.store import HistoryStore

#: Series of the chart: (key, statuses summed). Told apart by a dash pattern, not by colour.
SERIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fail", ("fail", "error")),
    ("unknown", ("unknown",)),
    ("waived", ("waived",)),
)
_LISTED = 50  # new / fixed findings listed in the HTML; the rest are counted


def compare(report: Report, previous: Comparison) -> tuple[list[Finding], list[Fixed]]:
    """Problems that are new since ``previous``, and its problems that are fixed now."""
    state = previous.state
    new = [f for f in report.findings if f.status._value_ in PROBLEMS and state(f) == NEW]
    new.sort(key=lambda f: (-f.policy.severity.rank, f.policy.id, identity(f)))
    return new, previous.fixed(report.findings)


def drift_for(report: Report, store: HistoryStore, runs: int = 10) -> Drift:
    """Read the last ``runs - 1`` runs of ``store`` and compare ``report`` with the latest."""
    stored = store.runs(limit=max(runs - 1, 1)) if store.path.exists() else []
    points = [TrendPoint(r.id, r.started_at, r.by_status, r.exit_code) for r in stored]
    points.append(TrendPoint(None, report.run.started_at, report.by_status, report.exit_code))
    if not stored:
        return Drift(tuple(points), None, (), ())
    previous = store.comparison(stored[-1].id)
    new, fixed = compare(report, previous)
    return Drift(tuple(points), previous.label, tuple(new), tuple(fixed))


def _total(point: TrendPoint, statuses: Sequence[str]) -> int:
    return sum(point.by_status.get(s, 0) for s in statuses)


def drift_view(drift: Drift | None, when: Callable[[datetime], str]) -> dict[str, Any] | None:
    """Plain data for the template: chart geometry, table rows, new and fixed lists."""
    if drift is None:
        return None
    width, height, pad = 640, 180, 36
    points = drift.points
    peak = max([1, *(_total(p, s) for p in points for _, s in SERIES)])
    step = (width - 2 * pad) / (len(points) - 1) if len(points) > 1 else 0.0

    def x(i: int) -> float:
        return round(pad + i * step if len(points) > 1 else width / 2, 1)

    def y(value: int) -> float:
        return round(height - pad - value * (height - 2 * pad) / peak, 1)

    series = [
        {
            "key": key,
            "points": " ".join(f"{x(i)},{y(_total(p, s))}" for i, p in enumerate(points)),
            "dots": [(x(i), y(_total(p, s)), _total(p, s)) for i, p in enumerate(points)],
        }
        for key, s in SERIES
    ]
    rows = [
        {
            "run": p.run_id,
            "when": when(p.started_at),
            "counts": [_total(p, s) for _, s in SERIES],
            "exit_code": p.exit_code,
        }
        for p in points
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "peak": peak,
        "axis": [(y(v), v) for v in sorted({0, peak // 2, peak})],
        "ticks": [(x(i), f"#{p.run_id}" if p.run_id else None) for i, p in enumerate(points)],
        "series": series,
        "rows": rows,
        "previous": drift.previous,
        "new": [
            {
                "status": f.status.value,
                "severity": f.policy.severity.value,
                "policy": f.policy.id,
                "resource": f.resource.id,
            }
            for f in drift.new[:_LISTED]
        ],
        "new_total": len(drift.new),
        "fixed": [
            {
                "severity": f.severity,
                "policy": f.policy_id,
                "resource": f.resource_id,
                "before": f.status_before,
                "now": f.status_now,
            }
            for f in drift.fixed[:_LISTED]
        ],
        "fixed_total": len(drift.fixed),
    }


def html_context(
    report: Report,
    when: Callable[[datetime], str],
    day: Callable[[date], str] = date.isoformat,
) -> dict[str, Any] | None:
    """What ``_trend.html.j2`` shows: the trend, the baseline comparison, the waivers
    (``when`` writes a moment, ``day`` a date, in the report's language)."""
    baseline = None
    if report.baseline is not None:
        counts = report.baseline_counts
        baseline = {
            "label": report.baseline.label,
            "new": counts.get(NEW, 0),
            "unchanged": counts.get("unchanged", 0),
            "fixed": len(report.fixed),
        }
    waivers = None
    if report.waivers is not None:
        outcome = report.waivers
        waivers = {
            "file": outcome.file,
            "waived": outcome.waived,
            "applied": [
                {
                    "where": w.where,
                    "policy": w.policy_id,
                    "resource": w.resource_id,
                    "reason": w.reason,
                    "approved_by": w.approved_by,
                    "expires": day(w.expires),
                    "count": n,
                }
                for w, n in outcome.applied.items()
            ],
            "warnings": outcome.warnings(),
        }
    trend = drift_view(report.drift, when)
    if trend is None and baseline is None and waivers is None:
        return None
    return {"trend": trend, "baseline": baseline, "waivers": waivers}
