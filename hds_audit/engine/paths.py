"""Attribute paths a policy may name, resolved on the normalised resource into evidence.

A path is either a field of the model (``encryption.at_rest``, ``replicas.*.in_area``) or a
raw attribute (``attributes.versioning.0.enabled``). Model fields that are ``None`` are
*unknown*; raw attributes that are absent are *missing* (as in Checkov). Resolvers return
tuples of interned :class:`Evidence`: most resources share the same few values, and the
report writer relies on that sharing to stay fast on 400,000 findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hds_audit.geo import AllowedArea, Location
from hds_audit.geo.area import eea_would_allow
from hds_audit.i18n import Msg, join
from hds_audit.model import Evidence, Replica, Resource
from hds_audit.providers.facts import HOST_PATHS, HostFacts

EEA_NOTE = Msg("area.eea_would_pass")


class EvaluationContext:
    """What evaluation needs besides the resource: the allowed area, and memo tables."""

    __slots__ = ("_areas", "_interned", "_singles", "area", "hosts")

    def __init__(self, area: AllowedArea, hosts: HostFacts | None = None) -> None:
        self.area = area
        # host.* paths: the certified-host registry and the audit date (built-in / today).
        self.hosts = hosts if hosts is not None else HostFacts()
        self._areas: dict[tuple[str, Location, str | None], Evidence] = {}
        self._interned: dict[tuple[Evidence, object], Evidence] = {}
        self._singles: dict[tuple[Evidence, object], tuple[Evidence]] = {}

    def intern(self, evidence: Evidence) -> Evidence:
        """The shared copy of an equal piece of evidence (unhashable values are not shared)."""
        try:
            return self._interned.setdefault(_exactly(evidence), evidence)
        except TypeError:
            return evidence

    def single(self, evidence: Evidence) -> tuple[Evidence]:
        """A shared one-element tuple for interned evidence."""
        try:
            key = _exactly(evidence)
            found = self._singles.get(key)
            if found is None:
                found = self._singles[key] = (self._interned.setdefault(key, evidence),)
            return found
        except TypeError:
            return (evidence,)

    def in_area(self, path: str, location: Location, reason: str | None) -> Evidence:
        """Evidence that ``location`` is (not) in the allowed area; memoised per location."""
        key = (path, location, reason)
        found = self._areas.get(key)
        if found is None:
            verdict = self.area.allows(location)
            if verdict is None:
                found = Evidence(path, None, _location_unknown(location, reason), unknown=True)
            else:
                note = f"{location.region} ({location.country})"
                if verdict is False and self.area.mode == "eu" and eea_would_allow(location):
                    note = join((note, EEA_NOTE))
                found = Evidence(path, verdict, note)
            found = self._areas[key] = self.intern(found)
        return found


def _exactly(evidence: Evidence) -> tuple[Evidence, object]:
    """``evidence`` as a key that equal-comparing values of other types do not share:
    ``True``, ``1`` and ``1.0`` compare equal but are judged (and shown) differently; so are
    ``0.0`` and ``-0.0``."""
    value = evidence.value
    kind: object = type(value)
    if kind is float:
        kind = repr(value)
    return evidence, kind


Resolver = Callable[[Resource, EvaluationContext], tuple[Evidence, ...]]


def _location_unknown(location: Location, fallback: str | None) -> str:
    if fallback:
        return fallback
    if location.non_regional:
        return Msg("area.non_regional")
    if location.region:
        return Msg("area.not_in_tables", region=location.region, provider=location.provider)
    return Msg("area.region_unknown")


def _model(path: str, getter: Callable[[Resource], Any]) -> Resolver:
    unknown = Msg("evidence.unknown", path=path)

    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        value = getter(resource)
        if value is None:
            reason = resource.unknowns.get(path) or unknown
            return ctx.single(Evidence(path, None, reason, unknown=True))
        return ctx.single(Evidence(path, value))

    return resolve


def _location_field(path: str) -> Resolver:
    if path == "in_area":

        def resolve_area(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
            reason = resource.unknowns.get("region") if resource.unknowns else None
            return ctx.single(ctx.in_area(path, resource.location, reason))

        return resolve_area

    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        value = getattr(resource.location, path)
        if value is None:
            reason = _location_unknown(resource.location, resource.unknowns.get("region"))
            return ctx.single(Evidence(path, None, reason, unknown=True))
        return ctx.single(Evidence(path, value))

    return resolve


def _encryption_field(path: str, field: str) -> Resolver:
    not_described = Msg("evidence.encryption_not_described")
    unknown = Msg("evidence.unknown", path=path)

    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        encryption = resource.encryption
        value = None if encryption is None else getattr(encryption, field)
        if value is None:
            default = not_described if encryption is None else unknown
            return ctx.single(
                Evidence(path, None, resource.unknowns.get(path, default), unknown=True)
            )
        return ctx.single(
            Evidence(path, value, resource.notes.get(path) if resource.notes else None)
        )

    return resolve


_REPLICA_FIELDS = ("country", "in_area", "in_eea", "in_eu", "kind", "region", "target")


def _replica_evidence(
    path: str, replica: Replica, field: str, ctx: EvaluationContext, reason: str | None
) -> Evidence:
    if field == "in_area":
        return ctx.in_area(path, replica.location, reason)
    if field in ("kind", "target"):
        return ctx.intern(Evidence(path, getattr(replica, field)))
    value = getattr(replica.location, field)
    if value is None:
        return ctx.intern(
            Evidence(path, None, reason or _location_unknown(replica.location, None), unknown=True)
        )
    return ctx.intern(Evidence(path, value))


def _replicas_field(field: str | None) -> Resolver:
    target = f"replicas.*.{field}"

    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        replicas = resource.replicas
        if replicas is None:
            reason = resource.unknowns.get("replicas") or Msg("evidence.copies_not_established")
            return ctx.single(Evidence("replicas", None, reason, unknown=True))
        if field is None:
            return (Evidence("replicas", replicas),)
        if not replicas:
            return ctx.single(Evidence(target, None, Msg("evidence.no_copy"), missing=True))
        copies_reason = resource.unknowns.get("replicas") if resource.unknowns else None
        return tuple(
            _replica_evidence(f"replicas.{i}.{field}", replica, field, ctx, copies_reason)
            for i, replica in enumerate(replicas)
        )

    return resolve


ABSENT: Any = object()  # what :func:`walk` finds where a raw attribute is absent


def walk(attributes: Any, parts: list[str]) -> Any:
    """The raw attribute at ``parts`` (keys of mappings, indexes of lists), or ``ABSENT``."""
    value = attributes
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ABSENT
    return value


def _attributes(path: str) -> Resolver:
    parts = path.split(".")[1:]
    root = f"attributes.{parts[0]}"

    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        if resource.unknowns and root in resource.unknowns:
            # A collector could not read it (denied, known only after apply).
            return ctx.single(Evidence(path, None, resource.unknowns[root], unknown=True))
        value = walk(resource.attributes, parts)
        if value is ABSENT:
            return ctx.single(Evidence(path, None, Msg("evidence.absent"), missing=True))
        return ctx.single(Evidence(path, value))

    return resolve


_SIMPLE: dict[str, Callable[[Resource], Any]] = {
    "id": lambda r: r.id,
    "provider": lambda r: r.provider,
    "type": lambda r: r.type,
    "kind": lambda r: r.kind,
    "stores_data": lambda r: r.stores_data,
    "name": lambda r: r.name,
    "source.kind": lambda r: r.source.kind,
    "non_regional": lambda r: r.location.non_regional,
}
_LOCATION_FIELDS = ("country", "in_area", "in_eea", "in_eu", "region")
_ENCRYPTION_FIELDS = ("at_rest", "key_id", "key_owner")


def _host_field(path: str) -> Resolver:
    def resolve(resource: Resource, ctx: EvaluationContext) -> tuple[Evidence, ...]:
        return ctx.single(ctx.hosts.evidence(path, resource))

    return resolve


def compile_path(path: str) -> Resolver | None:
    """A resolver for ``path``, or ``None`` when the path names nothing in the model."""
    if path in HOST_PATHS:
        return _host_field(path)
    if path in _SIMPLE:
        return _model(path, _SIMPLE[path])
    if path in _LOCATION_FIELDS:
        return _location_field(path)
    if path.startswith("encryption."):
        field = path.split(".", 1)[1]
        return _encryption_field(path, field) if field in _ENCRYPTION_FIELDS else None
    if path == "replicas":
        return _replicas_field(None)
    if path.startswith("replicas.*."):
        field = path[len("replicas.*.") :]
        return _replicas_field(field) if field in _REPLICA_FIELDS else None
    if path.startswith("attributes.") and len(path) > len("attributes."):
        return _attributes(path)
    return None


KNOWN_PATHS = (
    sorted(_SIMPLE)
    + list(_LOCATION_FIELDS)
    + [f"encryption.{f}" for f in _ENCRYPTION_FIELDS]
    + ["replicas"]
    + [f"replicas.*.{f}" for f in _REPLICA_FIELDS]
    + ["attributes.<path>"]
    + list(HOST_PATHS)
)
