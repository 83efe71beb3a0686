"""View data of ``report.html`` built on :mod:`hds_audit.reports.grouping`: the first
screen's priorities, findings grouped into rows, places per distinct resource, and the
counts the summary shows. Every figure here counts distinct resources (a plan and a state of
one resource count once), so the numbers of one section add up to the table another links to.

The printed report stays bounded: a list of resources holds at most :data:`LIST_CAP` ids and
a country at most :data:`PLACE_ROWS_CAP` rows; the rest is named by count, with a pointer to
``report.json`` / ``report.csv`` where every finding of every source stays.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Final, Protocol

from hds_audit.engine.evaluate import UNREADABLE_SCOPE
from hds_audit.geo import GeoTables, Location
from hds_audit.model import PolicyMeta, Replica, Resource, Source, Status
from hds_audit.reports.grouping import (
    STATUS_ORDER,
    DistinctResource,
    FindingGroup,
    Member,
    covered_ids,
    distinct_resources,
    group_findings,
    in_key_order,
    is_host_finding,
    resource_key,
    source_scope,
    units_by,
)
from hds_audit.reports.messages import finding_message, show_value
from hds_audit.reports.model import Report

#: Ids listed in one ``<details>`` list; the rest is a count and a pointer to report.json.
LIST_CAP: Final = 40
#: Rows of one country in "where the data sits"; the rest is a count and a pointer.
PLACE_ROWS_CAP: Final = 60
#: Rows of one policy's table; further rows are named by count, with a pointer.
ROW_CAP: Final = 20
#: Problems on the first screen (fail and error before unknown, critical first).
PRIORITY_ROWS: Final = 8

# Statuses whose groups are rows of a policy's table; the others are collapsed lists.
LISTED: Final = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.WAIVED, Status.MANUAL})
COLLAPSED: Final = (Status.PASS, Status.NOT_APPLICABLE)
ACTIONABLE: Final = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN})

#: Categories shown first, in this order; any other category follows, alphabetically.
CATEGORY_ORDER: Final[tuple[str, ...]] = (
    "residency",
    "replication_residency",
    "encryption_at_rest",
    "key_management",
)


_MEMBER_KEY: Final = attrgetter("key")


class Texts(Protocol):
    lang: str

    def t(self, key: str, /, **values: object) -> str: ...

    def tn(self, key: str, count: int, /, **values: object) -> str: ...

    def opt(self, group: str, key: str) -> str: ...


def category_key(category: str) -> tuple[int, str]:
    try:
        return (CATEGORY_ORDER.index(category), "")
    except ValueError:
        return (len(CATEGORY_ORDER), category)


# --------------------------------------------------------------------------- places


@dataclass(frozen=True, slots=True)
class Place:
    region: str
    country: str  # a cell of its own: "France", "Pays inconnu"
    eu: bool | None
    eea: bool | None
    country_inline: str  # in a sentence: "France", "pays inconnu"


class Places:
    """Location wording, memoised per location (a large estate has few distinct places)."""

    def __init__(self, texts: Texts, geo: GeoTables) -> None:
        self._texts = texts
        self._geo = geo
        self._cache: dict[Location, Place] = {}
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

    def __call__(self, location: Location) -> Place:
        place = self._cache.get(location)
        if place is None:
            region = location.region or self._texts.t("places.no_region")
            if location.name and location.name != location.region:
                region = f"{region} — {location.name}"
            country = self.country_label(location)
            # A country's name keeps its capital in a sentence; a label (unknown country,
            # multi-region, global service) does not.
            named = country if location.country is not None else country[:1].lower() + country[1:]
            place = Place(region, country, location.in_eu, location.in_eea, named)
            self._cache[location] = place
        return place


class SourceWords:
    """``terraform_fixtures/patient-records : plan Terraform + état Terraform``, memoised."""

    def __init__(self, texts: Texts) -> None:
        self._texts = texts
        self._cache: dict[tuple[Source, ...], str] = {}

    def __call__(self, sources: Sequence[Source]) -> str:
        key = tuple(sources)
        text = self._cache.get(key)
        if text is None:
            scopes: dict[str, list[str]] = {}
            for source in sources:
                kinds = scopes.setdefault(source_scope(source), [])
                word = self._texts.opt("source_kind", source.kind.value)
                if source.region and not source.file:
                    word = f"{word} ({source.region})"
                if word not in kinds:
                    kinds.append(word)
            text = self._cache[key] = " ; ".join(
                f"{scope} : {' + '.join(kinds)}"
                if self._texts.lang == "fr"
                else f"{scope}: {' + '.join(kinds)}"
                for scope, kinds in scopes.items()
            )
        return text


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class EvidenceView:
    path: str
    value: str
    note: str | None


@dataclass(frozen=True, slots=True)
class MemberView:
    id: str
    name: str | None
    type: str
    place: Place | None  # None for what a host finding covers (ids only)
    sources: str


@dataclass(frozen=True, slots=True)
class GroupView:
    """One row: a verdict shared by ``count`` distinct resources."""

    status: str
    count: int
    members: tuple[MemberView, ...]  # at most LIST_CAP
    more: int  # members not listed
    message: str
    evidence: tuple[EvidenceView, ...]
    evidence_of: str | None  # the member whose evidence is shown, when the row has several
    reason: str | None
    host: bool
    subject: str  # a host finding: the host and certificate scope


@dataclass(frozen=True, slots=True)
class CollapsedView:
    status: str
    label: str
    members: tuple[MemberView, ...]
    more: int


@dataclass(frozen=True, slots=True)
class PolicyBlock:
    id: str
    name: str
    severity: str
    counts: tuple[tuple[str, int], ...]
    rows: tuple[GroupView, ...]
    more_rows: int  # rows past ROW_CAP, not shown
    more_resources: int  # the distinct resources those rows stand for
    collapsed: tuple[CollapsedView, ...]
    remediation: str
    terraform: str


@dataclass(frozen=True, slots=True)
class CategoryBlock:
    key: str
    label: str
    counts: tuple[tuple[str, int], ...]
    policies: tuple[PolicyBlock, ...]


class Builder:
    """Builds every grouped view of one report once (groups are shared by the sections)."""

    def __init__(self, report: Report, texts: Texts, places: Places) -> None:
        self.report = report
        self.texts = texts
        self.places = places
        self.sources = SourceWords(texts)
        lang = texts.lang
        self.groups: list[FindingGroup] = group_findings(
            report.findings, lambda f: finding_message(f, lang)
        )

    # -- pieces

    def member(self, member: Member) -> MemberView:
        resource = member.resource
        return MemberView(
            id=resource.id,
            name=resource.name,
            type=self.texts.t("places.unreadable_scope")
            if resource.type == UNREADABLE_SCOPE
            else resource.type,
            place=self.places(resource.location),
            sources=self.sources(member.sources),
        )

    def _members(self, members: Sequence[Member]) -> tuple[tuple[MemberView, ...], int]:
        shown = tuple(self.member(m) for m in members[:LIST_CAP])
        return shown, max(0, len(members) - LIST_CAP)

    def group_view(self, group: FindingGroup) -> GroupView:
        first = group.first
        if group.host:
            ids = covered_ids(first)
            listed = tuple(MemberView(rid, None, "", None, "") for rid in ids[:LIST_CAP])
            members, more = listed, max(0, len(ids) - LIST_CAP)
        else:
            members, more = self._members(group.members)
        evidence = tuple(EvidenceView(e.path, show_value(e.value), e.note) for e in first.evidence)
        return GroupView(
            status=group.status.value,
            count=group.count,
            members=members,
            more=more,
            # The message is the policy's name, the verdict and the evidence or reason that
            # decided it: under the policy's heading, the evidence and reason say it all.
            message="" if evidence or first.reason else group.message,
            evidence=evidence,
            evidence_of=first.resource.id if group.count > 1 and not group.host else None,
            reason=first.reason,
            host=group.host,
            subject=first.resource.name or first.resource.id,
        )

    # -- findings by category

    def categories(self) -> list[CategoryBlock]:
        by_policy: dict[str, list[FindingGroup]] = defaultdict(list)
        for group in self.groups:
            if not group.host:
                by_policy[group.policy.id].append(group)
        metas: dict[str, PolicyMeta] = {gs[0].policy.id: gs[0].policy for gs in by_policy.values()}
        by_category: dict[str, list[tuple[tuple[int, int, str], PolicyBlock]]] = defaultdict(list)
        category_counts: dict[str, Counter[str]] = defaultdict(Counter)
        for policy_id, groups in by_policy.items():
            meta = metas[policy_id]
            block = self._policy_block(meta, groups)
            actionable = any(g.status in ACTIONABLE for g in groups)
            order = (0 if actionable else 1, -meta.severity.rank, policy_id)
            by_category[meta.category].append((order, block))
            for status, count in block.counts:
                category_counts[meta.category][status] += count
        return [
            CategoryBlock(
                key=category,
                label=self.texts.opt("category", category),
                counts=status_pairs(category_counts[category]),
                policies=tuple(block for _, block in sorted(by_category[category])),
            )
            for category in sorted(by_category, key=category_key)
        ]

    def _policy_block(self, meta: PolicyMeta, groups: Sequence[FindingGroup]) -> PolicyBlock:
        counts: Counter[str] = Counter()
        collapsed_members: dict[Status, dict[object, Member]] = defaultdict(dict)
        listed: list[FindingGroup] = []
        for group in groups:
            if group.status in LISTED:
                listed.append(group)
            else:
                for member in group.members:
                    collapsed_members[group.status].setdefault(member.key, member)
        # Distinct resources per status (a resource in two rows of one status counts once).
        seen: dict[Status, set[object]] = defaultdict(set)
        for group in groups:
            seen[group.status].update(m.key for m in group.members)
        for status, keys in seen.items():
            counts[status.value] = len(keys)
        collapsed = []
        for status in COLLAPSED:
            members = in_key_order(collapsed_members.get(status, {}).values(), _MEMBER_KEY)
            if members:
                shown, more = self._members(members)
                label = self.texts.tn(f"findings.collapsed.{status.value}", len(members))
                collapsed.append(CollapsedView(status.value, label, shown, more))
        lang = self.texts.lang
        hidden = listed[ROW_CAP:]
        return PolicyBlock(
            id=meta.id,
            name=meta.text("name", lang),
            severity=meta.severity.value,
            counts=status_pairs(counts),
            rows=tuple(self.group_view(g) for g in listed[:ROW_CAP]),
            more_rows=len(hidden),
            more_resources=len({m.key for g in hidden for m in g.members}),
            collapsed=tuple(collapsed),
            remediation=meta.text("remediation", lang),
            terraform=meta.text("remediation_terraform", lang).strip("\n"),
        )

    # -- host-level verdicts (the certificate section)

    def host_rows(self) -> list[dict[str, Any]]:
        """One row per host-level finding; the first row of a policy carries its anchor."""
        lang = self.texts.lang
        rows = []
        anchored: set[str] = set()
        for group in self.groups:
            if not group.host:
                continue
            policy = group.policy
            rows.append(
                {
                    "policy_id": policy.id,
                    "policy_name": policy.text("name", lang),
                    "category": policy.category,
                    "severity": policy.severity.value,
                    "anchor": None if policy.id in anchored else f"policy-{policy.id}",
                    "row": self.group_view(group),
                }
            )
            anchored.add(policy.id)
        return rows

    # -- first screen

    def priorities(self) -> dict[str, object]:
        """Blocking problems per (policy, status): distinct resources, what to do."""
        blocking = self.report.blocking
        units: dict[tuple[str, Status], set[object]] = defaultdict(set)
        covered: dict[tuple[str, Status], int] = Counter()
        metas: dict[str, PolicyMeta] = {}
        for finding in blocking:
            metas[finding.policy.id] = finding.policy
            key = (finding.policy.id, finding.status)
            if is_host_finding(finding):
                units[key].add(finding.resource.id)
                covered[key] += len(covered_ids(finding))
            else:
                units[key].add(resource_key(finding.resource))
        ranked = sorted(
            units,
            key=lambda k: (STATUS_ORDER[k[1]], -metas[k[0]].severity.rank, -len(units[k]), k[0]),
        )
        lang = self.texts.lang
        rows = [
            {
                "id": policy_id,
                "name": metas[policy_id].text("name", lang),
                "severity": metas[policy_id].severity.value,
                "status": status.value,
                "count": len(units[(policy_id, status)]),
                "covered": covered.get((policy_id, status), 0),
                "remediation": metas[policy_id].text("remediation", lang),
                "anchor": f"policy-{policy_id}",
            }
            for policy_id, status in ranked
        ]
        shown = rows[:PRIORITY_ROWS]
        total = sum(len(units[key]) for key in ranked)
        return {
            "rows": shown,
            # The problems of the rows not shown: the rows shown and these add up to the total.
            "more": total - sum(int(row["count"]) for row in shown),
            "total": total,
        }

    # -- summary tables (distinct units)

    def tallies(self) -> Counter[tuple[str, str, str]]:
        """(severity, category, status) -> distinct resources (host findings: host scopes)."""
        units = units_by(
            self.report.findings,
            lambda f: (f.policy.severity.value, f.policy.category, f.status.value, f.policy.id),
        )
        tallies: Counter[tuple[str, str, str]] = Counter()
        for (severity, category, status, _), found in units.items():
            tallies[severity, category, status] += len(found)
        return tallies


def status_pairs(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((s.value, counts[s.value]) for s in Status if counts.get(s.value))


# --------------------------------------------------------------------------- where data sits


@dataclass(frozen=True, slots=True)
class ReplicaView:
    kind: str
    target: str | None
    place: Place
    allowed: bool | None


@dataclass(frozen=True, slots=True)
class PlaceRow:
    id: str
    name: str | None
    type: str
    kind: str
    place: Place
    allowed: bool | None
    replicas: tuple[ReplicaView, ...] | None
    sources: str

    @property
    def clear(self) -> bool:
        """Inside the area with every copy inside: listed by id only in print."""
        return (
            self.allowed is True
            and self.replicas is not None
            and all(r.allowed is True for r in self.replicas)
        )


@dataclass(frozen=True, slots=True)
class CountryGroup:
    key: str
    label: str
    eu: bool | None
    eea: bool | None
    allowed: tuple[int, int, int]  # rows in / outside / unknown to the allowed area
    copies: tuple[int, int, int]  # their copies in / outside / unknown to the allowed area
    copies_unknown: int  # rows whose copies could not be established
    count: int
    rows: tuple[PlaceRow, ...]  # what needs a look first, at most PLACE_ROWS_CAP
    clear: tuple[PlaceRow, ...]  # inside, copies inside: an id list, at most LIST_CAP
    more: int  # rows of this country not shown


def _placement(resource: Resource) -> object:
    return (resource.location, resource.replicas, resource.stores_data)


def _group_key(location: Location) -> str:
    if location.country is not None:
        return location.country
    if location.members:
        return f"~multi:{location.provider}:{location.region}"
    return "~global" if location.non_regional else "~unknown"


def _replica_views(
    replicas: Iterable[Replica], report: Report, texts: Texts, places: Places
) -> tuple[ReplicaView, ...]:
    area = report.run.area
    return tuple(
        ReplicaView(
            kind=texts.opt("replica", r.kind),
            target=r.target,
            place=places(r.location),
            allowed=area.allows(r.location),
        )
        for r in replicas
    )


def place_rows(
    records: Iterable[tuple[Resource, tuple[Source, ...]]],
    report: Report,
    texts: Texts,
    places: Places,
) -> list[tuple[PlaceRow, Location]]:
    """One row per record of :func:`data_records`, with the record's location."""
    words = SourceWords(texts)
    area = report.run.area
    return [
        (
            PlaceRow(
                id=record.id,
                name=record.name,
                type=record.type,
                kind=texts.opt("kind", record.kind.value),
                place=places(record.location),
                allowed=area.allows(record.location),
                replicas=None
                if record.replicas is None
                else _replica_views(record.replicas, report, texts, places),
                sources=words(sources),
            ),
            record.location,
        )
        for record, sources in records
    ]


def country_groups(rows: Iterable[tuple[PlaceRow, Location]], places: Places) -> list[CountryGroup]:
    """Rows by country, out-of-area countries first."""
    grouped: dict[str, list[tuple[PlaceRow, Location]]] = defaultdict(list)
    for row, location in rows:
        grouped[_group_key(location)].append((row, location))
    groups = []
    for key, members in grouped.items():
        views = sorted((row for row, _ in members), key=lambda v: v.id)
        allowed = Counter(v.allowed for v in views)
        copies = Counter(c.allowed for v in views for c in v.replicas or ())
        first = members[0][1]
        look = [v for v in views if not v.clear]
        clear = [v for v in views if v.clear]
        shown = look[:PLACE_ROWS_CAP]
        listed = clear[:LIST_CAP]
        groups.append(
            CountryGroup(
                key=key,
                label=places.country_label(first)
                + (f" ({first.country})" if first.country else ""),
                eu=first.in_eu,
                eea=first.in_eea,
                allowed=(allowed[True], allowed[False], allowed[None]),
                copies=(copies[True], copies[False], copies[None]),
                copies_unknown=sum(1 for v in views if v.replicas is None),
                count=len(views),
                rows=tuple(shown),
                clear=tuple(listed),
                more=len(views) - len(shown) - len(listed),
            )
        )

    def rank(group: CountryGroup) -> tuple[int, str]:
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


def data_records(
    distinct: Iterable[DistinctResource],
) -> list[tuple[Resource, tuple[Source, ...]]]:
    """One record per distinct data resource (one per source where sources disagree on its
    place or its copies), with its sources: what the places table, its charts and its
    totals count."""
    return [
        (record, sources)
        for item in distinct
        for record, sources in item.variants(_placement)
        if record.stores_data
    ]


def places_view(report: Report, texts: Texts, places: Places) -> dict[str, Any]:
    """Country groups and their totals (the executive summary's figures link here)."""
    distinct = distinct_resources(report.resources)
    rows = place_rows(data_records(distinct), report, texts, places)
    groups = country_groups(rows, places)
    total = {
        "rows": len(rows),  # one per distinct data resource, unless its sources disagree
        "distinct": sum(1 for d in distinct if any(r.stores_data for r in d.records)),
        "inside": sum(g.allowed[0] for g in groups),
        "outside": sum(g.allowed[1] for g in groups),
        "unknown": sum(g.allowed[2] for g in groups),
        "copies_inside": sum(g.copies[0] for g in groups),
        "copies_outside": sum(g.copies[1] for g in groups),
        "copies_unknown": sum(g.copies[2] + g.copies_unknown for g in groups),
    }
    return {"groups": groups, "total": total, "distinct": len(distinct)}


def data_resource_counts(report: Report) -> Callable[[str], int]:
    """Distinct data resources per provider key (the certificate section's counts)."""
    counts: Counter[str] = Counter()
    for item in distinct_resources(report.resources):
        if any(r.stores_data for r in item.records):
            counts[item.resource.provider] += 1
    return lambda provider: counts.get(provider, 0)
