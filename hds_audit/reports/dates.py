"""One date format per language for everything a person reads: ``1er décembre 2026`` in
French, ``2026-12-01`` in English. The format lives in :func:`hds_audit.i18n.format_date`
(messages render their dates with it too); this module keeps the reports' import path."""

from __future__ import annotations

from hds_audit.i18n import format_date

__all__ = ["format_date"]
