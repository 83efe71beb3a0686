"""Attribute paths a policy may name, resolved on the normalised resource.

A path is either a field of the model (``encryption.at_rest``, ``replicas.*.in_area``) or a
raw attribute (``attributes.versioning.0.enabled``). Model fields that are ``None`` are
*unknown*; raw attributes that are absent are simply absent (as in Checkov).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hds_audit.geo import AllowedArea, Location
from hds_audit.geo.area import eea_would_allow
from hds_audit.model import Replica, Resource

MISSING: Any = object()


class AreaJudge:
    """Whether a location is inside the run's allowed area, memoised per location."""

    __slots__ = ("_cache", "_eea", "area")

    def __init__(self, area: AllowedArea) -> None:
        self.area = area
        self._cache: dict[Location, bool | None] = {}
        self._eea: dict[Location, bool | None] = {}

    def allows(self, location: Location) -> bool | None:
        try:
            return self._cache[location]
        except KeyError:
            verdict = self.area.allows(location)
            self._cache[location] = verdict
            return verdict

    def eea_allows(self, location: Location) -> bool | None:
        try:
            return self._eea[location]
        except KeyError:
            verdict = eea_would_allow(location)
            self._eea[location] = verdict
            return verdict


@dataclass(frozen=True, slots=True)
class Value:
    """One resolved value: the concrete path, the value, and why it is unknown if it is."""

    path: str
    value: Any
    unknown: str | None = None
    note: str | None = None


Resolver = Callable[[Resource, AreaJudge], list[Value]]


def _location_unknown(location: Location, fallback: str | None) -> str:
    if fallback:
        return fallback
    if location.non_regional:
        return "non-regional (global) service: no region to judge"
    if location.region:
        return f"region {location.region!r} is not in the {location.provider} region tables"
    return "region unknown"


def _area_value(path: str, location: Location, judge: AreaJudge, reason: str | None) -> Value:
    verdict = judge.allows(location)
    if verdict is None:
        return Value(path, None, _location_unknown(location, reason))
    note = f"{location.region} ({location.country})"
    if verdict is False and judge.area.mode == "eu" and judge.eea_allows(location):
        note += "; would pass under HDS v2 EXI 28 (EEA)"
    return Value(path, verdict, note=note)


def _model(path: str, getter: Callable[[Resource], Any], unknown_key: str) -> Resolver:
    def resolve(resource: Resource, judge: AreaJudge) -> list[Value]:
        value = getter(resource)
        if value is None:
            return [Value(path, None, resource.unknowns.get(unknown_key, f"{path} unknown"))]
        return [Value(path, value)]

    return resolve


def _location_field(path: str, field: str) -> Resolver:
    def resolve(resource: Resource, judge: AreaJudge) -> list[Value]:
        if field == "in_area":
            return [_area_value(path, resource.location, judge, resource.unknowns.get("region"))]
        value = getattr(resource.location, field)
        if value is None:
            reason = _location_unknown(resource.location, resource.unknowns.get("region"))
            return [Value(path, None, reason)]
        return [Value(path, value)]

    return resolve


def _encryption_field(path: str, field: str) -> Resolver:
    def resolve(resource: Resource, judge: AreaJudge) -> list[Value]:
        encryption = resource.encryption
        if encryption is None:
            return [Value(path, None, resource.unknowns.get(path, "encryption not described"))]
        value = getattr(encryption, field)
        if value is None:
            return [Value(path, None, resource.unknowns.get(path, f"{path} unknown"))]
        return [Value(path, value.value if hasattr(value, "value") else value)]

    return resolve


_REPLICA_FIELDS = {"region", "country", "in_eu", "in_eea", "in_area", "kind", "target"}


def _replica_value(path: str, replica: Replica, field: str, judge: AreaJudge) -> Value:
    if field == "in_area":
        return _area_value(path, replica.location, judge, None)
    if field in ("kind", "target"):
        return Value(path, getattr(replica, field))
    value = getattr(replica.location, field)
    if value is None:
        return Value(path, None, _location_unknown(replica.location, None))
    return Value(path, value)


def _replicas_field(field: str | None) -> Resolver:
    def resolve(resource: Resource, judge: AreaJudge) -> list[Value]:
        replicas = resource.replicas
        if replicas is None:
            reason = resource.unknowns.get("replicas", "copies could not be established")
            return [Value("replicas", None, reason)]
        if field is None:
            return [Value("replicas", replicas)]
        target = f"replicas.*.{field}"
        if not replicas:
            return [Value(target, MISSING, note="no copy found in the audited sources")]
        extra = resource.unknowns.get("replicas")
        values = []
        for i, replica in enumerate(replicas):
            value = _replica_value(f"replicas.{i}.{field}", replica, field, judge)
            if value.unknown and extra:
                value = Value(value.path, None, extra)
            values.append(value)
        return values

    return resolve


def _attributes(path: str) -> Resolver:
    parts = path.split(".")[1:]

    def resolve(resource: Resource, judge: AreaJudge) -> list[Value]:
        value: Any = resource.attributes
        for part in parts:
            if isinstance(value, dict):
                value = value.get(part, MISSING)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = MISSING
            if value is MISSING:
                break
        return [Value(path, value)]

    return resolve


_SIMPLE: dict[str, Callable[[Resource], Any]] = {
    "id": lambda r: r.id,
    "provider": lambda r: r.provider,
    "type": lambda r: r.type,
    "kind": lambda r: r.kind.value,
    "stores_data": lambda r: r.stores_data,
    "name": lambda r: r.name,
    "source.kind": lambda r: r.source.kind.value,
    "non_regional": lambda r: r.location.non_regional,
}


def compile_path(path: str) -> Resolver | None:
    """A resolver for ``path``, or ``None`` when the path names nothing in the model."""
    if path in _SIMPLE:
        return _model(path, _SIMPLE[path], path)
    if path in ("region", "country", "in_eu", "in_eea", "in_area"):
        return _location_field(path, path)
    if path.startswith("encryption."):
        field = path.split(".", 1)[1]
        return (
            _encryption_field(path, field) if field in ("at_rest", "key_owner", "key_id") else None
        )
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
    + ["region", "country", "in_eu", "in_eea", "in_area"]
    + ["encryption.at_rest", "encryption.key_owner", "encryption.key_id", "replicas"]
    + [f"replicas.*.{f}" for f in sorted(_REPLICA_FIELDS)]
    + ["attributes.<path>"]
)
