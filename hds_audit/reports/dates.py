"""One date format per language for everything a person reads: ``1er décembre 2026`` in
French, ``2026-12-01`` in English (the same as ``hds_audit.i18n.format_date`` of the French
messages work; when both are on main, this module becomes an import of that one)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

_MONTHS_FR: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def format_date(value: date, lang: str) -> str:
    """``value`` (a date, or the date of a datetime) as ``lang`` writes it."""
    if isinstance(value, datetime):
        value = value.date()
    if lang == "fr":
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {_MONTHS_FR[value.month - 1]} {value.year}"
    return value.isoformat()
