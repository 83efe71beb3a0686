"""Run history: every scan stored in an embedded SQLite database; trend and drift."""

from __future__ import annotations

from hds_audit.history.store import HistoryError, HistoryStore, RunRow
from hds_audit.history.trend import drift_for
from hds_audit.reports.model import Drift

__all__ = ["Drift", "HistoryError", "HistoryStore", "RunRow", "drift_for"]
