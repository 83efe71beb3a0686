"""Short human messages for findings, in the report's language."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup, escape

from hds_audit.i18n import Style, render
from hds_audit.model import Finding, Status

#: HTML rendering of a message: text escaped, a quotation of an English source marked
#: ``lang="en"`` (screen readers and hyphenation then read it as English).
HTML_STYLE = Style(text=escape, quote=lambda text: Markup('<span lang="en">{}</span>').format(text))

STATUS_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "pass": "pass",
        "fail": "fail",
        "unknown": "unknown",
        "error": "error",
        "waived": "waived",
        "not_applicable": "not applicable",
        "manual": "manual",
    },
    "fr": {
        "pass": "conforme",
        "fail": "non conforme",
        "unknown": "indéterminé",
        "error": "erreur",
        "waived": "dérogation",
        "not_applicable": "non applicable",
        "manual": "vérification manuelle",
    },
}


_WORDS = {None: "null", True: "true", False: "false"}  # what json.dumps writes


def show_value(value: Any) -> str:
    """A compact rendering of an evidence value."""
    if isinstance(value, str):
        return value
    if value is None or value is True or value is False:
        return _WORDS[value]
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def message_html(value: object, lang: str) -> Markup:
    """A reason or note (a ``Msg`` or plain text) in ``lang``, as escaped HTML."""
    return Markup(render(value, lang, HTML_STYLE))


def finding_message(finding: Finding, lang: str = "en", style: Style | None = None) -> str:
    """``<policy title>: <verdict> (<what decided it>)``, reasons and notes in ``lang``
    (``style=HTML_STYLE``: as escaped HTML, quotations of English sources marked)."""
    text = style.text if style is not None else str
    words = STATUS_WORDS.get(lang, STATUS_WORDS["en"])
    title = finding.policy.text("name", lang)
    verdict = words[finding.status.value]
    detail = ""
    if finding.status is Status.FAIL:
        decisive = [e for e in finding.evidence if e.value is not None and e.value is not True]
        shown = decisive[:3] or list(finding.evidence[:1])
        detail = text(", ").join(
            text(f"{e.path} = {show_value(e.value)}")
            + (text(" [") + render(e.note, lang, style) + text("]") if e.note else text(""))
            for e in shown
        )
    elif finding.reason:
        detail = render(finding.reason, lang, style)
    colon = " : " if lang == "fr" else ": "  # French puts a space before the colon
    head = text(f"{title}{colon}{verdict}")
    return head + text(" (") + detail + text(")") if detail else head
