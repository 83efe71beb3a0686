"""Report-level grouping: one row per distinct resource, one row per repeated verdict.

The normalised model keeps one :class:`~hds_audit.model.Resource` per source (a plan and a
state of the same address are two records, and ``report.json`` keeps both). A reader wants
one row per *resource*: this module tells which records are the same resource and which
findings say the same thing, for the HTML writer and any other writer that prints for people.

- Two records are the same resource when they share an id and a *scope*: the directory of
  their Terraform file (a project's plan and state sit side by side), or the API account.
  Two projects with the same address stay two resources: their scope tells them apart.
- Findings of one policy with the same status and the same message (reason and decisive
  evidence) form one :class:`FindingGroup`, listing the distinct resources it covers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Final, NamedTuple, TypeVar

from hds_audit.model import (
    HOST_SCOPE_TYPE,
    Finding,
    PolicyMeta,
    Resource,
    Source,
    SourceKind,
    Status,
    project_of,
)

__all__ = [
    "HOST_SCOPE_TYPE",
    "DistinctResource",
    "FindingGroup",
    "Member",
    "ResourceKey",
    "blocking_units",
    "covered_ids",
    "distinct_resources",
    "group_findings",
    "is_host_finding",
    "message_key",
    "resource_key",
    "source_scope",
    "unit_counts",
]


# Status order of the rows: what needs someone's attention first.
STATUS_ORDER: Final = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.UNKNOWN: 2,
    Status.WAIVED: 3,
    Status.MANUAL: 4,
    Status.PASS: 5,
    Status.NOT_APPLICABLE: 6,
}


class ResourceKey(NamedTuple):
    """What makes a resource distinct in a report: its scope and its id."""

    scope: str
    id: str


#: The project a record belongs to (see :func:`hds_audit.model.project_of`).
source_scope = project_of


# The scope of each source met, by identity: a report has few sources and many records.
# Each entry holds its source, so no other object can take that ``id`` while it is kept.
_SCOPES: dict[int, tuple[Source, str]] = {}
_new_key = tuple.__new__
_SOURCE, _ID = attrgetter("source"), attrgetter("id")


def _scope(source: Source) -> str:
    """:func:`source_scope`, kept per source met."""
    known = _SCOPES.get(id(source))
    if known is None:
        if len(_SCOPES) >= 4096:
            _SCOPES.clear()
        known = _SCOPES[id(source)] = (source, source_scope(source))
    return known[1]


def resource_key(resource: Resource) -> ResourceKey:
    """The :class:`ResourceKey` of one record."""
    key: ResourceKey = _new_key(ResourceKey, (_scope(resource.source), resource.id))
    return key


_NO_SOURCE: Final = Source(kind=SourceKind.TERRAFORM_STATE)


def _facts(resource: Resource) -> Resource:
    """The record without its source: two sources agree when these are equal."""
    return replace(resource, source=_NO_SOURCE)


@dataclass(frozen=True, slots=True)
class DistinctResource:
    """One resource as a reader counts it, with every record (one per source) of it."""

    key: ResourceKey
    records: tuple[Resource, ...]

    @property
    def resource(self) -> Resource:
        """The first record read (every record shares the id and the scope)."""
        return self.records[0]

    @property
    def sources(self) -> tuple[Source, ...]:
        return tuple(dict.fromkeys(r.source for r in self.records))

    def variants(
        self, facts: Callable[[Resource], object] = _facts
    ) -> list[tuple[Resource, tuple[Source, ...]]]:
        """Records that agree on ``facts`` merged: ``(record, its sources)``, in read order.

        One element when every source says the same thing; one per disagreeing source
        otherwise (a plan that changes a region, a state that knows the key).
        """
        if len(self.records) == 1:  # read from one source: nothing to compare
            record = self.records[0]
            return [(record, (record.source,))]
        out: list[tuple[Resource, list[Source]]] = []
        for record in self.records:
            seen = facts(record)
            for first, sources in out:
                if facts(first) == seen:
                    sources.append(record.source)
                    break
            else:
                out.append((record, [record.source]))
        return [(record, tuple(dict.fromkeys(sources))) for record, sources in out]


def count_distinct(resources: Iterable[Resource]) -> int:
    """How many distinct resources the records stand for (``len(distinct_resources(...))``
    without building them): the distinct ids of each scope, the records of one source taken
    a run at a time (a file's records follow each other)."""
    ids_of: dict[str, set[str]] = {}
    for source, records in groupby(resources, _SOURCE):
        scope = _scope(source)
        ids = ids_of.get(scope)
        if ids is None:
            ids = ids_of[scope] = set()
        ids.update(map(_ID, records))
    return sum(map(len, ids_of.values()))


def distinct_resources(resources: Iterable[Resource]) -> list[DistinctResource]:
    """The distinct resources of a report, in the order their first record was read."""
    grouped: dict[ResourceKey, list[Resource]] = {}
    for resource in resources:
        grouped.setdefault(resource_key(resource), []).append(resource)
    return [DistinctResource(key, tuple(records)) for key, records in grouped.items()]


def is_host_finding(finding: Finding) -> bool:
    """A finding about a host and certificate scope (it covers resources), not a resource."""
    return getattr(finding, "covers", None) is not None or finding.resource.type == HOST_SCOPE_TYPE


def covered_ids(finding: Finding) -> tuple[str, ...]:
    """The ids of the resources a host-level finding covers (empty for any other finding); an
    id is listed once per project that holds it."""
    return tuple(c.id for c in finding.covers or ())


def finding_units(findings: Iterable[Finding]) -> Iterator[tuple[Finding, object]]:
    """Each finding with what it counts for: its host scope's id for a host-level finding,
    else its resource's :class:`ResourceKey` (made once for the findings of one resource,
    which come one after another)."""
    last: Resource | None = None
    key: object = None
    for finding in findings:
        resource = finding.resource
        if is_host_finding(finding):
            yield finding, resource.id
            continue
        if resource is not last:
            last, key = resource, resource_key(resource)
        yield finding, key


@dataclass(frozen=True, slots=True)
class Member:
    """A distinct resource in a group, with the sources whose finding said so."""

    key: ResourceKey
    resource: Resource
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """Findings of one policy with one status and one message: one row of a report."""

    policy: PolicyMeta
    status: Status
    message: str
    findings: tuple[Finding, ...]
    members: tuple[Member, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def host(self) -> bool:
        """A host-level verdict: its subject is a host scope, its count what it covers."""
        return is_host_finding(self.findings[0])

    @property
    def count(self) -> int:
        """Distinct resources the row stands for (what a host finding covers, for a host)."""
        if self.host:
            return sum(len(f.covers or ()) for f in self.findings)  # (no list of ids made)
        return len(self.members)


# ARNs and Azure resource ids name one resource or key: a reason that quotes one says the same
# thing as the reason quoting another ("key arn:… is not among the audited keys").
_IDENTIFIERS: Final = re.compile(r"\barn:[^\s,;()\[\]]+|/subscriptions/[^\s,;()\[\]]+")


def message_key(finding: Finding, text: str, masked: str | None = None) -> str:
    """``text`` with what names one resource masked: the resource's id and name, ARNs and
    Azure ids. Findings whose keys are equal say the same thing about different resources.

    ``masked``: ``text`` with only ARNs and Azure ids masked, when the caller has it (many
    findings share one text, and most do not name their own resource).
    """
    resource = finding.resource
    named = False
    for own in (resource.id, resource.name):
        if own and len(own) > 2 and own in text:
            text = text.replace(own, "…")
            named = True
    if not named and masked is not None:
        return masked
    return _IDENTIFIERS.sub("…", text)


_T = TypeVar("_T")


def in_key_order(items: Iterable[_T], key: Callable[[_T], ResourceKey]) -> list[_T]:
    """``items`` in the order of their resource keys, (scope, id): sorted by id, then
    (stably) by scope. The same order as comparing the keys, without comparing the scope,
    which most items share, in every comparison: 80,000 items sort in a third of the time."""
    ordered = sorted(items, key=lambda item: key(item)[1])
    ordered.sort(key=lambda item: key(item)[0])
    return ordered


_FIRST: Final = itemgetter(0)


def group_findings(
    findings: Iterable[Finding], message: Callable[[Finding], str]
) -> list[FindingGroup]:
    """Group findings by (policy, status, ``message(finding)`` with identifiers masked), each
    group's members merged per distinct resource; ordered by status (fail first), severity,
    size, policy id. A group's ``message`` is its first finding's.

    ``message`` depends only on a finding's policy, status, evidence and reason: findings
    that share those objects (the engine shares them between equal outcomes) share a text,
    made once. A host-level finding is never merged with another: it is one row per host
    scope.
    """
    grouped: dict[tuple[str, Status, str, str], list[Finding]] = {}
    units: dict[tuple[str, Status, str, str], list[object]] = {}  # each finding's resource key
    texts: dict[tuple[str, Status, str, str], str] = {}
    # By identity: the findings hold these objects for as long as the loop runs.
    made: dict[tuple[int, Status, int, int], tuple[str, str]] = {}
    for finding, unit in finding_units(findings):
        outcome = (id(finding.policy), finding.status, id(finding.evidence), id(finding.reason))
        known = made.get(outcome)
        if known is None:
            text = message(finding)
            known = made[outcome] = (text, _IDENTIFIERS.sub("…", text))
        text = known[0]
        host = finding.resource.id if is_host_finding(finding) else ""
        key = (finding.policy.id, finding.status, message_key(finding, text, known[1]), host)
        members = grouped.get(key)
        if members is None:
            grouped[key] = [finding]
            units[key] = [unit]
            texts[key] = text
        else:
            members.append(finding)
            units[key].append(unit)
    groups = []
    for group_key, members in grouped.items():
        status, text = group_key[1], texts[group_key]
        merged: dict[ResourceKey, tuple[Resource, list[Source]]] = {}
        for finding, unit in zip(members, units[group_key], strict=True):
            resource = finding.resource
            rkey = unit if type(unit) is ResourceKey else resource_key(resource)
            entry = merged.setdefault(rkey, (resource, []))
            if resource.source not in entry[1]:
                entry[1].append(resource.source)
        groups.append(
            FindingGroup(
                policy=members[0].policy,
                status=status,
                message=text,
                findings=tuple(members),
                members=tuple(
                    Member(key, resource, tuple(sources))
                    for key, (resource, sources) in in_key_order(merged.items(), _FIRST)
                ),
            )
        )
    groups.sort(
        key=lambda g: (STATUS_ORDER[g.status], -g.policy.severity.rank, -g.count, g.policy.id)
    )
    return groups


_K = TypeVar("_K", bound=Hashable)


def units_by(findings: Iterable[Finding], label: Callable[[Finding], _K]) -> dict[_K, set[object]]:
    """The distinct units of the findings (:func:`finding_units`) under each label.

    ``label`` depends only on a finding's policy and status: it is asked once for each. A set
    of shared units per label, not a set of (label, unit) pairs: at 357,000 findings this
    holds a tenth of the memory.
    """
    labels: dict[tuple[int, Status], tuple[PolicyMeta, _K]] = {}  # holds each policy: its id
    sets: dict[_K, set[object]] = {}
    for finding, unit in finding_units(findings):
        known = labels.get((id(finding.policy), finding.status))
        if known is None:
            known = labels[id(finding.policy), finding.status] = (finding.policy, label(finding))
        units = sets.get(known[1])
        if units is None:
            units = sets[known[1]] = set()
        units.add(unit)
    return sets


def unit_counts(findings: Iterable[Finding]) -> Counter[tuple[str, Status]]:
    """Distinct resources per (policy id, status): plan and state of one resource count once.

    A host-level finding counts once (one host scope), whatever it covers.
    """
    units = units_by(findings, lambda f: (f.policy.id, f.status))
    return Counter({key: len(found) for key, found in units.items()})


def blocking_units(blocking: Sequence[Finding]) -> tuple[int, int]:
    """``(problems, resources)``: distinct (policy, status, resource) units that block the
    gate, and the distinct resources they concern (a host finding: what it covers)."""
    units: set[tuple[str, Status, object]] = set()
    keys: set[ResourceKey] = set()
    covered: set[str] = set()
    for finding in blocking:
        if is_host_finding(finding):
            units.add((finding.policy.id, finding.status, finding.resource.id))
            covered.update(covered_ids(finding))
        else:
            key = resource_key(finding.resource)
            units.add((finding.policy.id, finding.status, key))
            keys.add(key)
    # A covered id already counted through a resource-level finding is not counted again.
    covered -= {key.id for key in keys}
    return len(units), len(keys) + len(covered)
