"""``report.html``: the sovereignty report a DPO reads, prints and hands to the HDS certifier.

One self-contained file: inline CSS, no external URL, no script, no web font, A4 print rules.
French by default, English with ``lang="en"``; the words live in ``i18n/<lang>.yaml``.

This module only prepares plain view data (grouping, ordering, translated words, numbers);
every tag is written by the Jinja2 templates in ``templates/``, with autoescape on for all of
them, so a resource name or an evidence value is always text, never markup.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from hds_audit.geo import GeoTables
from hds_audit.i18n import load_catalogue, messages
from hds_audit.model import PolicyMeta, Severity, Status
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.dates import format_date
from hds_audit.reports.grouping import blocking_units
from hds_audit.reports.html_views import (
    CATEGORY_ORDER,
    LIST_CAP,
    Builder,
    CategoryBlock,
    Places,
    category_key,
    places_view,
)
from hds_audit.reports.messages import STATUS_WORDS, message_html
from hds_audit.reports.model import Report

__all__ = [
    "CATEGORY_ORDER",
    "STATUS_SYMBOLS",
    "SUPPORTED_LANGS",
    "load_strings",
    "render_html",
    "write_html",
]

SUPPORTED_LANGS: Final[tuple[str, ...]] = ("fr", "en")

#: Status is always shown as symbol + word, never by colour alone (prints in grayscale).
STATUS_SYMBOLS: Final[Mapping[str, str]] = MappingProxyType(
    {
        Status.PASS.value: "✓",
        Status.FAIL.value: "✗",
        Status.UNKNOWN.value: "?",
        Status.ERROR.value: "⚠",
        Status.WAIVED.value: "⊘",
        Status.NOT_APPLICABLE.value: "–",
        Status.MANUAL.value: "✎",
    }
)

# --------------------------------------------------------------------------- strings


@functools.cache
def load_strings(lang: str) -> Mapping[str, str]:
    """The report's strings in ``lang`` as flat dotted keys (``summary.heading``)."""
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported language {lang!r} (expected one of {SUPPORTED_LANGS})")
    strings = dict(load_catalogue("hds_audit.reports", f"i18n/{lang}.yaml"))
    # A resource's kind has one set of words: the findings' catalogue's (``kind.*``).
    strings.update((key, text) for key, text in messages(lang).items() if key.startswith("kind."))
    return strings


class _Texts:
    """What the templates call: ``t(key, **values)``, ``tn(key, n)``, ``num(n)``..."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.strings = load_strings(lang)
        self.status_words = STATUS_WORDS[lang]
        self._thousands = self.strings["format.thousands"]

    def t(self, key: str, /, **values: object) -> str:
        text = self.strings[key]
        return text.format(**values) if values else text

    def tn(self, key: str, count: int, /, **values: object) -> str:
        """Plural: French uses ``one`` for 0 and 1, English for 1 only."""
        one = count in (0, 1) if self.lang == "fr" else count == 1
        return self.t(f"{key}.{'one' if one else 'other'}", n=self.num(count), **values)

    def opt(self, group: str, key: str) -> str:
        """A translated word of ``group`` (category, kind...), or ``key`` itself if none."""
        return self.strings.get(f"{group}.{key}", key)

    def num(self, value: int) -> str:
        return f"{value:,}".replace(",", self._thousands)

    def status(self, status: str) -> str:
        return self.status_words.get(status, status)

    def severity(self, severity: str) -> str:
        return self.opt("severity", severity)

    def flag(self, value: bool | None) -> str:
        return self.t("flag.unknown" if value is None else "flag.yes" if value else "flag.no")

    def when(self, moment: datetime) -> str:
        text = self.t(
            "format.datetime",
            date=format_date(moment, self.lang),
            time=moment.strftime(self.strings["format.time"]),
        )
        offset = moment.utcoffset()
        if offset is None:
            return text
        if not offset:
            return f"{text} UTC"
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        return f"{text} UTC{sign}{hours:02d}:{mins:02d}"

    def duration(self, delta: timedelta) -> str:
        seconds = max(0, round(delta.total_seconds()))
        if seconds < 60:
            return self.t("format.seconds", n=seconds)
        minutes, rest = divmod(seconds, 60)
        return self.t("format.minutes", m=self.num(minutes), s=rest)


def _flag_symbol(value: bool | None) -> str:
    return "?" if value is None else "✓" if value else "✗"


# --------------------------------------------------------------------------- view data


@dataclass(frozen=True, slots=True)
class _Matrix:
    """A count table: one row per key, one column per status present, plus a total."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[int, ...], int], ...]  # key, label, counts, total


@dataclass(frozen=True, slots=True)
class _CatalogueRow:
    id: str
    name: str
    category_key: str
    category: str
    severity: str
    frameworks: tuple[tuple[str, str], ...]
    rationale: str
    remediation: str


def _matrix(
    table: Mapping[str, Mapping[str, int]],
    keys: Iterable[str],
    label: Callable[[str], str],
    columns: tuple[str, ...],
) -> _Matrix:
    rows = []
    for key in keys:
        counts = table.get(key)
        if not counts:
            continue
        values = tuple(counts.get(column, 0) for column in columns)
        rows.append((key, label(key), values, sum(counts.values())))
    return _Matrix(columns, tuple(rows))


def _catalogue(policies: Iterable[PolicyMeta], texts: _Texts) -> list[_CatalogueRow]:
    lang = texts.lang
    rows = [
        _CatalogueRow(
            id=p.id,
            name=p.text("name", lang),
            category_key=p.category,
            category=texts.opt("category", p.category),
            severity=p.severity.value,
            frameworks=tuple((fw, ", ".join(refs)) for fw, refs in p.frameworks.items()),
            rationale=p.text("rationale", lang),
            remediation=p.text("remediation", lang),
        )
        for p in policies
    ]
    return sorted(rows, key=lambda r: (category_key(r.category_key), r.id))


def _verdict(report: Report, texts: _Texts) -> dict[str, Any]:
    """The verdict in words a compliance officer acts on; the exit code is for the annex."""
    code = report.exit_code
    problems, resources = blocking_units(report.blocking)
    unreadable = len({e.source for e in report.errors})
    lines = []
    if code == 2:
        kind, symbol = "incomplete", "⚠"
        lines.append(texts.tn("verdict.incomplete_text", unreadable))
        if problems:
            lines.append(texts.tn("verdict.blocking_too", problems))
    elif code == 1:
        kind, symbol = "fail", "✗"
        lines.append(texts.tn("verdict.fail_text", problems))
    else:
        kind, symbol = "pass", "✓"
        lines.append(texts.t("verdict.pass_text"))
    if problems:
        lines.append(texts.tn("grouped.verdict_resources", resources))
    meaning = texts.strings.get(f"verdict.exit_{code}", "")
    return {
        "kind": kind,
        "symbol": symbol,
        "title": texts.t(f"verdict.{kind}"),
        "lines": lines,
        "problems": problems,
        "exit_code": texts.t("verdict.exit_code", code=code) + (f" ({meaning})" if meaning else ""),
    }


def _gate_text(report: Report, texts: _Texts) -> list[str]:
    gate = report.gate
    if gate.fail_on is None:
        return [texts.t("run.gate_none")]
    return [
        texts.t("run.gate_threshold", threshold=texts.severity(gate.fail_on.value)),
        texts.t("run.gate_unknown_counts" if gate.fail_on_unknown else "run.gate_unknown_ignored"),
    ]


def _tally_tables(
    tallies: Mapping[tuple[str, str, str], int], texts: _Texts
) -> tuple[dict[str, int], _Matrix, _Matrix]:
    """By status, by severity and by category, counting distinct resources."""
    by_status: Counter[str] = Counter()
    by_severity: dict[str, Counter[str]] = defaultdict(Counter)
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for (severity, category, status), n in tallies.items():
        by_status[status] += n
        by_severity[severity][status] += n
        by_category[category][status] += n
    statuses = tuple(s.value for s in Status if by_status.get(s.value))
    severities = [s.value for s in Severity if s.value in by_severity]
    return (
        {s.value: by_status.get(s.value, 0) for s in Status},
        _matrix(by_severity, severities, texts.severity, statuses),
        _matrix(
            by_category,
            sorted(by_category, key=category_key),
            lambda c: texts.opt("category", c),
            statuses,
        ),
    )


def _anchors(
    categories: Sequence[CategoryBlock], host_rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """What a link may point at: a category's block (or the host verdicts for a category
    judged per host only), a policy's block or its first host row."""
    by_category = {c.key: f"cat-{c.key}" for c in categories}
    for row in host_rows:
        by_category.setdefault(row["category"], "host-findings")
    policies = {p.id for c in categories for p in c.policies}
    policies |= {row["policy_id"] for row in host_rows}
    return {"categories": by_category, "policies": policies}


def _context(report: Report, lang: str) -> dict[str, Any]:
    texts = _Texts(lang)
    places = Places(texts, GeoTables.default())
    builder = Builder(report, texts, places)
    run = report.run
    unreadable = len({e.source for e in report.errors})
    by_status, by_severity, by_category = _tally_tables(builder.tallies(), texts)
    where = places_view(report, texts, places)
    audit_date = report.compliance.audit_date if report.compliance else run.started_at.date()
    categories = builder.categories()
    host_rows = builder.host_rows()
    return {
        "lang": lang,
        "t": texts.t,
        "tn": texts.tn,
        "opt": texts.opt,
        "num": texts.num,
        "status_word": texts.status,
        "severity_word": texts.severity,
        "flag_word": texts.flag,
        "flag_symbol": _flag_symbol,
        "symbols": STATUS_SYMBOLS,
        "all_statuses": tuple(s.value for s in Status),
        "audit_date": format_date(audit_date, lang),
        "run": {
            "started": texts.when(run.started_at),
            "duration": texts.duration(run.finished_at - run.started_at),
            "tool_version": run.tool_version,
            "area": run.area.describe(lang),
            "area_label": run.area.label,
            "eu_mode": run.area.mode == "eu",
            "eea_would_pass": len(report.eea_would_pass),
            "policy_set": run.policy_set,
            "policies": len(report.policies),
            "config_file": run.config_file,
            "gate": _gate_text(report, texts),
            "sources": [
                {
                    "path": s.path,
                    "kind": texts.opt("source_kind", s.kind),
                    "resources": s.resources,
                    "terraform_version": s.terraform_version,
                    "notes": s.notes,
                }
                for s in run.sources
            ],
        },
        "verdict": _verdict(report, texts),
        "priorities": builder.priorities(),
        "totals": {
            "resources": where["distinct"],
            "records": len(report.resources),
            "data_resources": where["total"]["distinct"],
            "findings": sum(by_status.values()),
            "records_findings": len(report.findings),
            "policies": len(report.policies),
            "errors": len(report.errors),
            "unreadable": unreadable,
            "unknown": by_status.get(Status.UNKNOWN.value, 0),
        },
        "by_status": by_status,
        "by_severity": by_severity,
        "by_category": by_category,
        "errors": report.errors,
        "places": where["groups"],
        "places_total": where["total"],
        "categories": categories,
        "host_rows": host_rows,
        "anchors": _anchors(categories, host_rows),
        "list_cap": LIST_CAP,
        "catalogue": _catalogue(report.policies, texts),
        "generated": texts.when(run.finished_at),
        "drift": _drift_context(report, texts.when, lambda d: format_date(d, lang)),
        "compliance": _compliance_context(report, texts, places, where["total"]),
        "evidence": _evidence_context(report),
    }


def _evidence_context(report: Report) -> dict[str, Any]:
    """The integrity annex (``_evidence.html.j2``): the seal of a signed run, the digests."""
    run, seal = report.run, report.seal
    return {
        "signed": seal is not None,
        "report_sha256": seal.report_sha256 if seal else None,
        "key_sha256": seal.key_fingerprint if seal else None,
        "inputs": len(run.inputs),
        "policy_digest": run.policy_digest,
        "registry_digest": run.registry_digest,
        "frameworks_digest": run.frameworks_digest,
    }


def _compliance_context(
    report: Report, texts: _Texts, places: Places, where: Mapping[str, int]
) -> dict[str, Any]:
    """Executive summary, framework views, hosts, attestations (``compliance_view``)."""
    from hds_audit.reports.compliance_view import compliance_context

    return compliance_context(report, texts, places.country_name, where)


def _drift_context(
    report: Report, when: Callable[[datetime], str], day: Callable[[date], str]
) -> dict[str, Any] | None:
    """Trend, baseline and waivers (``_trend.html.j2``), prepared by :mod:`hds_audit.history`."""
    from hds_audit.history.trend import html_context

    return html_context(report, when, day)


@pass_context
def _tr(context: Context, value: object) -> Markup:
    """``{{ reason|tr }}``: a message (reason, evidence note, host fact) in the report's
    language; a plain string as is; a quotation of an English source labelled as such."""
    return message_html(value, context["lang"])


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hds_audit.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["tr"] = _tr
    return env


def _render(report: Report, lang: str) -> Iterator[str]:
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported language {lang!r} (expected one of {SUPPORTED_LANGS})")
    template = _environment().get_template("report.html.j2")
    return template.generate(_context(report, lang))


def render_html(report: Report, lang: str = "fr") -> str:
    """The whole report as one self-contained HTML document, in ``lang`` (``fr`` or ``en``)."""
    return "".join(_render(report, lang))


def write_html(report: Report, path: Path, lang: str = "fr") -> Path:
    """Write the HTML report to ``path`` atomically; return the path.

    The document is streamed to a temporary file and renamed into place: a reader sees the
    previous report or the new one, never half of one, and a failed render leaves no file.
    """
    chunks = _render(report, lang)
    with atomic_writer(path) as stream:
        for chunk in chunks:
            stream.write(chunk)
    return path
