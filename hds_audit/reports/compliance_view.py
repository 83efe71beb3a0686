"""View data for the compliance sections of ``report.html``: executive summary, framework
views, host certificates, attestations, inline SVG charts.

Plain data only (numbers, words, geometry); the templates write every tag with autoescape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol

from hds_audit.frameworks.compliance import (
    VERDICTS,
    Compliance,
    FrameworkResult,
    RequirementResult,
    build_compliance,
)
from hds_audit.geo import Location
from hds_audit.i18n import Quote
from hds_audit.model import Kind, Resource, Status
from hds_audit.providers.facts import certificate_verdict
from hds_audit.providers.registry import Host, Registry
from hds_audit.reports.dates import format_date
from hds_audit.reports.grouping import distinct_resources, unit_counts
from hds_audit.reports.html_views import data_records
from hds_audit.reports.model import Report

#: Requirement verdicts: symbol + word, never colour alone.
VERDICT_SYMBOLS: Final[Mapping[str, str]] = {
    "compliant": "✓",
    "non_compliant": "✗",
    "unknown": "?",
    "attestation_owed": "✎",
    "not_evaluated": "–",
}
CERT_SYMBOLS: Final[Mapping[str, str]] = {
    "valid": "✓",
    "expiring": "!",
    "expired": "✗",
    "not_yet_valid": "✗",
    "missing": "✗",
    "unknown": "?",
}


_KINDS: Final = frozenset(k.value for k in Kind)


class Texts(Protocol):
    lang: str

    def t(self, key: str, /, **values: object) -> str: ...

    def num(self, value: int) -> str: ...


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a horizontal bar chart; segments are (css class, value, x, width)."""

    label: str
    y: int
    segments: tuple[tuple[str, int, float, float], ...]
    total: int


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]  # (css class, word)


_ROW: Final = 26
_CHART_WIDTH: Final = 640
_LABEL_WIDTH: Final = 200


def _chart(
    title: str,
    rows: Iterable[tuple[str, Mapping[str, int]]],
    order: tuple[str, ...],
    legend: Mapping[str, str],
) -> Chart:
    rows = list(rows)
    peak = max((sum(values.values()) for _, values in rows), default=0) or 1
    span = _CHART_WIDTH - _LABEL_WIDTH - 50
    bars = []
    for index, (label, values) in enumerate(rows):
        x = float(_LABEL_WIDTH)
        segments = []
        for key in order:
            value = values.get(key, 0)
            if value:
                width = max(2.0, span * value / peak)
                segments.append((key, value, round(x, 1), round(width, 1)))
                x += width
        bars.append(Bar(label, 8 + index * _ROW, tuple(segments), sum(values.values())))
    present = [k for k in order if any(v.get(k) for _, v in rows)]
    return Chart(
        title=title,
        width=_CHART_WIDTH,
        height=16 + max(1, len(bars)) * _ROW,
        label_width=_LABEL_WIDTH,
        bars=tuple(bars),
        legend=tuple((k, legend[k]) for k in present),
    )


def _country(location: Location, country_name: Callable[[str], str], texts: Texts) -> str:
    if location.country:
        return f"{country_name(location.country)} ({location.country})"
    if location.non_regional:
        return texts.t("places.global")
    return texts.t("places.unknown_country")


def _code(location: Location) -> str:
    return location.country or ("*" if location.non_regional else "?")


def _area_key(value: bool | None) -> str:
    return "inside" if value else "unknown" if value is None else "outside"


def _place_charts(report: Report, texts: Texts, country_name: Callable[[str], str]) -> list[Chart]:
    area = report.run.area
    stored: dict[str, Counter[str]] = {}
    copies: dict[str, Counter[str]] = {}
    # What each place says, by identity (resources share their locations; each entry holds
    # its location, so no other object can take its id meanwhile): label, code, area key.
    seen: dict[int, tuple[Location, str, str, str]] = {}

    def place(location: Location) -> tuple[Location, str, str, str]:
        known = seen.get(id(location))
        if known is None:
            label = _country(location, country_name, texts)
            known = seen[id(location)] = (
                location,
                label,
                _code(location),
                _area_key(area.allows(location)),
            )
        return known

    for resource, _ in data_records(distinct_resources(report.resources)):
        _, label, code, key = place(resource.location)
        stored.setdefault(label, Counter())[key] += 1
        for replica in resource.replicas or ():
            _, _, target, allowed = place(replica.location)
            copies.setdefault(f"{code} → {target}", Counter())[allowed] += 1
    words = {
        "inside": texts.t("compliance.chart.inside"),
        "outside": texts.t("compliance.chart.outside"),
        "unknown": texts.t("compliance.chart.unknown"),
    }
    order = ("outside", "unknown", "inside")

    def rank(item: tuple[str, Mapping[str, int]]) -> tuple[int, int, str]:
        label, counts = item
        return (-counts.get("outside", 0), -counts.get("unknown", 0), label.casefold())

    charts = [
        _chart(texts.t("compliance.chart.stored"), sorted(stored.items(), key=rank), order, words)
    ]
    if copies:
        charts.append(
            _chart(
                texts.t("compliance.chart.copies"), sorted(copies.items(), key=rank), order, words
            )
        )
    return charts


def _framework_chart(results: Iterable[FrameworkResult], texts: Texts, lang: str) -> Chart:
    words = {v: texts.t(f"compliance.verdict.{v}") for v in VERDICTS}
    rows = [(r.framework.text("short", lang), r.counts) for r in results]
    return _chart(texts.t("compliance.chart.frameworks"), rows, VERDICTS, words)


# --------------------------------------------------------------------------- hosts


def _quoted(note: str | None) -> Quote | None:
    """A registry note: the source's own (English) words, shown as a labelled quotation."""
    return Quote(note) if note else None


def _fact_text(host: Host, name: str, texts: Texts) -> str:
    fact = host.fact(name)
    if not fact.known:
        return texts.t("compliance.hosts.unknown")
    value = fact.value
    if isinstance(value, tuple):
        if not value:
            return texts.t("compliance.hosts.none_found")
        if name == "scope_kinds":  # kinds in the reader's words (stockage objet ...)
            return ", ".join(texts.t(f"kind.{v}") if v in _KINDS else str(v) for v in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return texts.t("flag.yes" if value else "flag.no")
    if isinstance(value, date):
        return format_date(value, texts.lang)
    return _date_text(str(value), texts.lang)


def _date_text(text: str, lang: str) -> str:
    """An ISO date of the registry (``2025-06-02``) in the report's one date format; any
    other text as it is."""
    try:
        return format_date(date.fromisoformat(text), lang)
    except ValueError:
        return text


def _source_date(registry: Registry, key: str, lang: str) -> str | None:
    when = registry.source(key).date
    return _date_text(when, lang) if when else None


def _hosts(
    resources: Iterable[Resource], registry: Registry, audit: date, texts: Texts
) -> list[dict[str, Any]]:
    # Distinct data resources (a plan and a state of one resource count once).
    by_provider: Counter[str] = Counter(
        item.resource.provider
        for item in distinct_resources(resources)
        if any(r.stores_data for r in item.records)
    )
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for provider, count in sorted(by_provider.items()):
        host = registry.by_provider.get(provider)
        verdict, days = certificate_verdict(host, audit)
        if host is None:
            rows.append(
                {
                    "key": provider,
                    "name": provider,
                    "providers": provider,
                    "resources": count,
                    "verdict": verdict,
                    "days": None,
                    "facts": [],
                    "status_note": None,
                    "sources": [],
                    "missing": True,
                }
            )
            continue
        if host.key in seen:
            continue
        seen.add(host.key)
        facts = [
            (
                texts.t(f"compliance.hosts.fact.{name}"),
                _fact_text(host, name, texts),
                _quoted(host.fact(name).note),
            )
            for name in (
                "legal_entity",
                "certificate_number",
                "certifying_body",
                "referential",
                "activities",
                "issued",
                "expires",
                "scope_regions",
                "scope_kinds",
                "secnumcloud",
                "extra_eu_law",
                "transfer_map_url",
            )
        ]
        keys = dict.fromkeys(f.source for f in host.facts.values())
        rows.append(
            {
                "key": host.key,
                "name": host.name,
                "providers": ", ".join(host.providers),
                "resources": sum(by_provider[p] for p in host.providers),
                "verdict": verdict,
                "days": days,
                "facts": facts,
                "status_note": _quoted(host.fact("certificate_status").note),
                "sources": [
                    (k, registry.source(k).url, _source_date(registry, k, texts.lang)) for k in keys
                ],
                "missing": False,
            }
        )
    order = {
        "missing": 0,
        "expired": 1,
        "not_yet_valid": 1,
        "expiring": 2,
        "unknown": 3,
        "valid": 4,
    }
    return sorted(rows, key=lambda r: (order[r["verdict"]], r["name"].casefold()))


# --------------------------------------------------------------------------- frameworks


def _requirement_view(
    result: RequirementResult,
    names: Mapping[str, str],
    texts: Texts,
    lang: str,
    units: Mapping[tuple[str, Status], int],
) -> dict[str, Any]:
    """One requirement; its policies' counts are distinct resources (``units``), the figures
    the policy's own table shows."""
    requirement = result.requirement
    attestation = result.attestation
    return {
        "ref": requirement.ref,
        "anchor": "req-" + "".join(c if c.isalnum() else "-" for c in requirement.ref),
        "id": requirement.id,
        "title": requirement.text("title", lang),
        # The wording as published (French), shown with a translation in other languages
        # (unless the id already is that wording: the PGSSI-S themes).
        "published": published
        if lang != "fr"
        and (published := requirement.title.get("fr", "")) != requirement.text("title", lang)
        and published != requirement.id
        else "",
        "mode": requirement.mode,
        "verdict": result.verdict,
        "checks": requirement.text("checks", lang) if requirement.checks else "",
        "attestation_text": requirement.text("attestation", lang)
        if requirement.attestation
        else "",
        "attestation_state": result.attestation_state,
        "attestation": None
        if attestation is None
        else {
            "statement": attestation.statement,
            "by": attestation.by,
            "date": format_date(attestation.date, lang),
            "valid_until": format_date(attestation.valid_until, lang),
            "evidence": attestation.evidence,
        },
        "policies": [
            {
                "id": tally.policy_id,
                "name": names.get(tally.policy_id, tally.policy_id),
                "counts": tuple(
                    (s.value, units[(tally.policy_id, s)])
                    for s in Status
                    if units.get((tally.policy_id, s))
                ),
            }
            for tally in result.policies
        ],
    }


def compliance_context(
    report: Report,
    texts: Texts,
    country_name: Callable[[str], str],
    where: Mapping[str, int],
) -> dict[str, Any]:
    """Everything the compliance partials need.

    ``where`` holds the totals of the places table (distinct data resources inside, outside,
    unknown; their copies): the executive summary shows these very figures and links there.
    """
    lang = texts.lang
    compliance: Compliance = report.compliance or build_compliance(
        report.findings, report.run.started_at.date()
    )
    audit = compliance.audit_date
    names = {p.id: p.text("name", lang) for p in report.policies}
    units = unit_counts(report.findings)
    frameworks = [
        {
            "id": result.framework.id,
            "name": result.framework.text("name", lang),
            "source": result.framework.text("source", lang) if result.framework.source else "",
            "counts": result.counts,
            "requirements": [
                _requirement_view(r, names, texts, lang, units) for r in result.requirements
            ],
        }
        for result in compliance.frameworks
    ]
    framework_names = {
        r.framework.id: r.framework.text("name", lang) for r in compliance.frameworks
    }
    owed = [
        {
            "ref": r.requirement.ref,
            "framework": framework_names[r.requirement.framework],
            "title": r.requirement.text("title", lang),
            "what": r.requirement.text("attestation", lang),
            "state": r.attestation_state,
            "since": format_date(r.attestation.valid_until, lang) if r.attestation else None,
            "validity": r.requirement.validity_days,
        }
        for r in compliance.owed
    ]
    answered = [
        {
            "ref": r.requirement.ref,
            "title": r.requirement.text("title", lang),
            "state": r.attestation_state,
            **_requirement_view(r, names, texts, lang, units)["attestation"],
        }
        for result in compliance.frameworks
        for r in result.requirements
        if r.attestation is not None
    ]
    hosts = _hosts(report.resources, compliance.registry, audit, texts)
    host_verdicts = Counter(h["verdict"] for h in hosts)
    feima = next(
        (f for f in frameworks if f["id"] == "feima"), frameworks[0] if frameworks else None
    )
    return {
        "audit_date": format_date(audit, lang),
        "registry": {
            "file": compliance.registry.file,
            "version": compliance.registry.version,
            "recorded": _date_text(compliance.registry.recorded, lang),
        },
        "attestations_file": compliance.attestations.file,
        "frameworks": frameworks,
        "owed": owed,
        "answered": answered,
        "hosts": hosts,
        "verdict_symbols": VERDICT_SYMBOLS,
        "cert_symbols": CERT_SYMBOLS,
        "charts": _place_charts(report, texts, country_name),
        "framework_chart": _framework_chart(compliance.frameworks, texts, lang),
        "executive": {
            "data": where["rows"],
            "inside": where["inside"],
            "outside": where["outside"],
            "unknown": where["unknown"],
            "copies_outside": where["copies_outside"],
            "copies_unknown": where["copies_unknown"],
            "hosts_valid": host_verdicts["valid"] + host_verdicts["expiring"],
            "hosts_unknown": host_verdicts["unknown"],
            "hosts_bad": sum(host_verdicts[v] for v in ("missing", "expired", "not_yet_valid")),
            "hosts": len(hosts),
            "feima": feima,
            "owed": len(owed),
        },
    }
