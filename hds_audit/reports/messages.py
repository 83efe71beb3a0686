"""Short human messages for findings, in the report's language."""

from __future__ import annotations

import json
from typing import Any

from hds_audit.model import Finding, Status

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


def show_value(value: Any) -> str:
    """A compact rendering of an evidence value."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def finding_message(finding: Finding, lang: str = "en") -> str:
    """``<policy title>: <verdict> (<what decided it>)``."""
    words = STATUS_WORDS.get(lang, STATUS_WORDS["en"])
    title = finding.policy.text("name", lang)
    verdict = words[finding.status.value]
    detail = ""
    if finding.status is Status.FAIL:
        decisive = [e for e in finding.evidence if e.value is not None and e.value is not True]
        shown = decisive[:3] or list(finding.evidence[:1])
        detail = ", ".join(
            f"{e.path} = {show_value(e.value)}" + (f" [{e.note}]" if e.note else "") for e in shown
        )
    elif finding.reason:
        detail = finding.reason
    return f"{title}: {verdict} ({detail})" if detail else f"{title}: {verdict}"
