"""The text of ``hds-audit history list`` and ``hds-audit history diff``."""

from __future__ import annotations

from collections.abc import Sequence

from hds_audit.baseline import PROBLEMS
from hds_audit.history.store import HistoryStore, RunRow
from hds_audit.model import Severity

_COUNTED = ("fail", "error", "unknown", "waived", "pass")
_RANK = {s.value: s.rank for s in Severity}


def runs_table(rows: Sequence[RunRow]) -> list[str]:
    """One line per run, oldest first, with a header."""
    if not rows:
        return ["No run recorded yet."]
    lines = [
        f"{'run':>5}  {'started (UTC offset)':25}  exit  {'resources':>9}  "
        + "  ".join(f"{c:>7}" for c in _COUNTED)
        + "  sources"
    ]
    for row in rows:
        sources = ", ".join(row.sources)
        lines.append(
            f"{row.id:>5}  {row.started_at.isoformat(timespec='seconds'):25}  {row.exit_code:>4}  "
            f"{row.resources:>9}  "
            + "  ".join(f"{row.by_status.get(c, 0):>7}" for c in _COUNTED)
            + f"  {sources}"
        )
    return lines


def diff_lines(store: HistoryStore, run_a: int, run_b: int) -> list[str]:
    """New problems, fixed problems and other status changes from ``run_a`` to ``run_b``."""
    a, b = store.run(run_a), store.run(run_b)
    before = store.comparison(run_a).earlier
    after = store.comparison(run_b).earlier
    new, fixed, changed = [], [], []
    for key, now in after.items():
        old = before.get(key)
        if old is None or old.status == now.status:
            if old is None and now.status in PROBLEMS:
                new.append((now.severity, key, "", now.status))
            continue
        if now.status in PROBLEMS and old.status not in PROBLEMS:
            new.append((now.severity, key, old.status, now.status))
        else:
            changed.append((now.severity, key, old.status, now.status))
    for key, old in before.items():
        if old.status in PROBLEMS and key not in after:
            fixed.append((old.severity, key, old.status, ""))
    lines = [
        f"Run {a.id} ({a.started_at.isoformat(timespec='seconds')}) -> "
        f"run {b.id} ({b.started_at.isoformat(timespec='seconds')}): "
        f"{len(new)} new, {len(fixed)} fixed, {len(changed)} changed."
    ]
    for title, items in (("New", new), ("Fixed", fixed), ("Changed", changed)):
        if not items:
            continue
        lines.append(f"{title} ({len(items)}):")
        items.sort(key=lambda item: (-_RANK.get(item[0], -1), item[1]))
        for severity, (policy_id, resource_id, source_kind), was, is_now in items:
            if was and is_now:
                move = f"{was} -> {is_now}"
            else:
                move = is_now or f"{was} -> pass/not applicable/gone"
            lines.append(f"  {severity:8} {policy_id:12} {resource_id}  [{source_kind}]  {move}")
    return lines
