"""One date format per language for everything a person reads (``format.date`` in
``i18n/<lang>.yaml``): ``01/12/2026`` in French, ``2026-12-01`` in English."""

from __future__ import annotations

from datetime import date


def format_date(value: date, lang: str) -> str:
    """``value`` (a date, or the date part of a datetime) written the way ``lang`` reads it."""
    from hds_audit.reports.html_report import load_strings  # the strings live with the report

    return value.strftime(load_strings(lang)["format.date"])
