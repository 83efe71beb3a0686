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
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import load_catalogue
from hds_audit.model import Finding, PolicyMeta, Resource, Status
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.messages import (
    HTML_STYLE,
    STATUS_WORDS,
    finding_message,
    message_html,
    show_value,
)
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

#: Categories shown first, in this order; any other category follows, alphabetically.
CATEGORY_ORDER: Final[tuple[str, ...]] = (
    "residency",
    "replication_residency",
    "encryption_at_rest",
    "key_management",
)

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

# Listed finding by finding, in this order; the other statuses are collapsed per policy.
_LISTED_ORDER: Final[Mapping[Status, int]] = MappingProxyType(
    {Status.FAIL: 0, Status.ERROR: 1, Status.UNKNOWN: 2, Status.WAIVED: 3, Status.MANUAL: 4}
)
_COLLAPSED: Final[tuple[Status, ...]] = (Status.PASS, Status.NOT_APPLICABLE)
# Statuses that need someone's attention (they put a policy block first in its category).
_ACTIONABLE: Final[frozenset[Status]] = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN})


# --------------------------------------------------------------------------- strings


@functools.cache
def load_strings(lang: str) -> Mapping[str, str]:
    """The report's strings in ``lang`` as flat dotted keys (``summary.heading``)."""
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported language {lang!r} (expected one of {SUPPORTED_LANGS})")
    return load_catalogue("hds_audit.reports", f"i18n/{lang}.yaml")


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
        text = moment.strftime(self.strings["format.datetime"])
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
class _Place:
    region: str
    country: str
    eu: bool | None
    eea: bool | None


@dataclass(frozen=True, slots=True)
class _EvidenceView:
    path: str
    value: str
    note: str | None


@dataclass(frozen=True, slots=True)
class _FindingView:
    status: str
    resource_id: str
    resource_name: str | None
    resource_type: str
    place: _Place
    message: str
    evidence: tuple[_EvidenceView, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class _Collapsed:
    status: str
    label: str
    resources: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class _PolicyBlock:
    id: str
    name: str
    severity: str
    counts: tuple[tuple[str, int], ...]
    findings: tuple[_FindingView, ...]
    collapsed: tuple[_Collapsed, ...]
    remediation: str
    terraform: str


@dataclass(frozen=True, slots=True)
class _CategoryBlock:
    key: str
    label: str
    counts: tuple[tuple[str, int], ...]
    policies: tuple[_PolicyBlock, ...]


@dataclass(frozen=True, slots=True)
class _ReplicaView:
    kind: str
    target: str | None
    place: _Place
    allowed: bool | None


@dataclass(frozen=True, slots=True)
class _DataResource:
    id: str
    name: str | None
    type: str
    kind: str
    place: _Place
    allowed: bool | None
    replicas: tuple[_ReplicaView, ...] | None


@dataclass(frozen=True, slots=True)
class _CountryGroup:
    key: str
    label: str
    eu: bool | None
    eea: bool | None
    allowed: tuple[int, int, int]  # resources in / outside / unknown to the allowed area
    copies: tuple[int, int, int]  # their copies in / outside / unknown to the allowed area
    copies_unknown: int  # resources whose copies could not be established
    resources: tuple[_DataResource, ...]


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


class _Places:
    """Location wording, memoised per location (a large estate has few distinct places)."""

    def __init__(self, texts: _Texts, geo: GeoTables) -> None:
        self._texts = texts
        self._geo = geo
        self._cache: dict[Location, _Place] = {}
        self._countries: dict[str, str] = {}

    def country_name(self, code: str) -> str:
        name = self._countries.get(code)
        if name is None:
            name = self._countries[code] = self._geo.country_name(code, self._texts.lang)
        return name

    def country_label(self, location: Location) -> str:
        if location.country is not None:
            return self.country_name(location.country)
        if location.members:
            codes = dict.fromkeys(m.country for m in location.members if m.country)
            return f"{self._texts.t('places.multi_region')} ({', '.join(codes)})"
        if location.non_regional:
            return self._texts.t("places.global")
        return self._texts.t("places.unknown_country")

    def __call__(self, location: Location) -> _Place:
        place = self._cache.get(location)
        if place is None:
            region = location.region or self._texts.t("places.no_region")
            if location.name and location.name != location.region:
                region = f"{region} — {location.name}"
            place = _Place(region, self.country_label(location), location.in_eu, location.in_eea)
            self._cache[location] = place
        return place


def _finding_view(finding: Finding, lang: str, places: _Places) -> _FindingView:
    resource = finding.resource
    return _FindingView(
        status=finding.status.value,
        resource_id=resource.id,
        resource_name=resource.name,
        resource_type=resource.type,
        place=places(resource.location),
        message=finding_message(finding, lang, HTML_STYLE),
        evidence=tuple(
            _EvidenceView(e.path, show_value(e.value), e.note) for e in finding.evidence
        ),
        reason=finding.reason,
    )


def _status_counts(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((s.value, counts[s.value]) for s in Status if counts.get(s.value))


def _category_key(category: str) -> tuple[int, str]:
    try:
        return (CATEGORY_ORDER.index(category), "")
    except ValueError:
        return (len(CATEGORY_ORDER), category)


def _policy_block(
    meta: PolicyMeta, findings: Sequence[Finding], texts: _Texts, places: _Places
) -> _PolicyBlock:
    counts: Counter[str] = Counter(f.status.value for f in findings)
    listed = sorted(
        (f for f in findings if f.status in _LISTED_ORDER),
        key=lambda f: (_LISTED_ORDER[f.status], f.resource.id),
    )
    collapsed = []
    for status in _COLLAPSED:
        members = sorted((f.resource.id, f.resource.name) for f in findings if f.status is status)
        if members:
            label = texts.tn(f"findings.collapsed.{status.value}", len(members))
            collapsed.append(_Collapsed(status.value, label, tuple(members)))
    lang = texts.lang
    return _PolicyBlock(
        id=meta.id,
        name=meta.text("name", lang),
        severity=meta.severity.value,
        counts=_status_counts(counts),
        findings=tuple(_finding_view(f, lang, places) for f in listed),
        collapsed=tuple(collapsed),
        remediation=meta.text("remediation", lang),
        terraform=meta.text("remediation_terraform", lang).strip("\n"),
    )


def _categories(report: Report, texts: _Texts, places: _Places) -> list[_CategoryBlock]:
    by_policy: dict[str, list[Finding]] = defaultdict(list)
    metas: dict[str, PolicyMeta] = {}
    for finding in report.findings:
        meta = finding.policy
        by_policy[meta.id].append(finding)
        metas.setdefault(meta.id, meta)

    by_category: dict[str, list[_PolicyBlock]] = defaultdict(list)
    order: dict[str, tuple[int, int, str]] = {}
    for policy_id, findings in by_policy.items():
        meta = metas[policy_id]
        actionable = any(f.status in _ACTIONABLE for f in findings)
        order[policy_id] = (0 if actionable else 1, -meta.severity.rank, policy_id)
        by_category[meta.category].append(_policy_block(meta, findings, texts, places))

    blocks = []
    for category in sorted(by_category, key=_category_key):
        policies = sorted(by_category[category], key=lambda p: order[p.id])
        blocks.append(
            _CategoryBlock(
                key=category,
                label=texts.opt("category", category),
                counts=_status_counts(report.by_category.get(category, {})),
                policies=tuple(policies),
            )
        )
    return blocks


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


def _data_resource(
    resource: Resource, report: Report, places: _Places, texts: _Texts
) -> _DataResource:
    area = report.run.area
    replicas: tuple[_ReplicaView, ...] | None = None
    if resource.replicas is not None:
        replicas = tuple(
            _ReplicaView(
                kind=texts.opt("replica", r.kind),
                target=r.target,
                place=places(r.location),
                allowed=area.allows(r.location),
            )
            for r in resource.replicas
        )
    return _DataResource(
        id=resource.id,
        name=resource.name,
        type=resource.type,
        kind=texts.opt("kind", resource.kind.value),
        place=places(resource.location),
        allowed=area.allows(resource.location),
        replicas=replicas,
    )


def _group_key(location: Location) -> str:
    if location.country is not None:
        return location.country
    if location.members:
        return f"~multi:{location.provider}:{location.region}"
    return "~global" if location.non_regional else "~unknown"


def _places_groups(report: Report, texts: _Texts, places: _Places) -> list[_CountryGroup]:
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for resource in report.resources:
        if resource.stores_data:
            grouped[_group_key(resource.location)].append(resource)

    groups = []
    for key, members in grouped.items():
        views = sorted(
            (_data_resource(r, report, places, texts) for r in members), key=lambda v: v.id
        )
        allowed = Counter(v.allowed for v in views)
        copies = Counter(c.allowed for v in views for c in v.replicas or ())
        first = members[0].location
        groups.append(
            _CountryGroup(
                key=key,
                label=places.country_label(first)
                + (f" ({first.country})" if first.country else ""),
                eu=first.in_eu,
                eea=first.in_eea,
                allowed=(allowed[True], allowed[False], allowed[None]),
                copies=(copies[True], copies[False], copies[None]),
                copies_unknown=sum(1 for v in views if v.replicas is None),
                resources=tuple(views),
            )
        )

    def rank(group: _CountryGroup) -> tuple[int, str]:
        _, outside, unknown = group.allowed
        _, copies_outside, copies_unknown = group.copies
        if outside:
            first = 0
        elif unknown:
            first = 1
        elif copies_outside or copies_unknown or group.copies_unknown:
            first = 2
        else:
            first = 3
        return (first, group.label.casefold())

    return sorted(groups, key=rank)


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
    return sorted(rows, key=lambda r: (_category_key(r.category_key), r.id))


def _verdict(report: Report, texts: _Texts) -> dict[str, Any]:
    code = report.exit_code
    blocking = len(report.blocking)
    unreadable = len({e.source for e in report.errors})
    lines = []
    if code == 2:
        kind, symbol = "incomplete", "⚠"
        lines.append(texts.tn("verdict.incomplete_text", unreadable))
        if blocking:
            lines.append(texts.tn("verdict.blocking_too", blocking))
    elif code == 1:
        kind, symbol = "fail", "✗"
        lines.append(texts.tn("verdict.fail_text", blocking))
    else:
        kind, symbol = "pass", "✓"
        lines.append(texts.t("verdict.pass_text"))
    meaning = texts.strings.get(f"verdict.exit_{code}", "")
    return {
        "kind": kind,
        "symbol": symbol,
        "title": texts.t(f"verdict.{kind}"),
        "lines": lines,
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


def _context(report: Report, lang: str) -> dict[str, Any]:
    texts = _Texts(lang)
    places = _Places(texts, GeoTables.default())
    run = report.run
    statuses = tuple(s.value for s in Status if report.by_status.get(s.value))
    unreadable = len({e.source for e in report.errors})
    return {
        "lang": lang,
        "t": texts.t,
        "tn": texts.tn,
        "num": texts.num,
        "status_word": texts.status,
        "severity_word": texts.severity,
        "flag_word": texts.flag,
        "flag_symbol": _flag_symbol,
        "symbols": STATUS_SYMBOLS,
        "all_statuses": tuple(s.value for s in Status),
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
        "totals": {
            "resources": len(report.resources),
            "data_resources": sum(1 for r in report.resources if r.stores_data),
            "findings": len(report.findings),
            "policies": len(report.policies),
            "errors": len(report.errors),
            "unreadable": unreadable,
            "unknown": report.by_status.get(Status.UNKNOWN.value, 0),
        },
        "by_status": report.by_status,
        "by_severity": _matrix(
            report.by_severity, report.by_severity.keys(), texts.severity, statuses
        ),
        "by_category": _matrix(
            report.by_category,
            sorted(report.by_category, key=_category_key),
            lambda c: texts.opt("category", c),
            statuses,
        ),
        "errors": report.errors,
        "places": _places_groups(report, texts, places),
        "categories": _categories(report, texts, places),
        "catalogue": _catalogue(report.policies, texts),
        "generated": texts.when(run.finished_at),
        "drift": _drift_context(report, texts.when),
        "compliance": _compliance_context(report, texts, places),
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


def _compliance_context(report: Report, texts: _Texts, places: _Places) -> dict[str, Any]:
    """Executive summary, framework views, hosts, attestations (``compliance_view``)."""
    from hds_audit.reports.compliance_view import compliance_context

    return compliance_context(report, texts, places.country_name)


def _drift_context(report: Report, when: Callable[[datetime], str]) -> dict[str, Any] | None:
    """Trend, baseline and waivers (``_trend.html.j2``), prepared by :mod:`hds_audit.history`."""
    from hds_audit.history.trend import html_context

    return html_context(report, when)


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
