"""Terraform instances -> normalised :class:`Resource` records.

The simple facts (kind, which attribute says "encrypted", which holds the key) are data in
``data/types.yaml``. Facts that span resources (an S3 bucket's separate encryption and
replication resources, a backup plan's copy actions, an Azure account's paired region) are
small named rules below, each reading a :class:`TerraformIndex` built once per document.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from importlib import resources as package_files
from sys import intern
from typing import Any

import yaml

import hds_audit.collectors.terraform.facts as facts
from hds_audit.collectors.terraform.documents import Replay, Slimmer, TfInstance, share_keys
from hds_audit.errors import ShapeError, kind_of
from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import (
    EMPTY_MAPPING,
    REPLICA_KINDS,
    Encryption,
    KeyOwner,
    Kind,
    Replica,
    Resource,
    Source,
)
from hds_audit.secrets import redact_flat_many

_ARN = re.compile(r"^arn:aws[\w-]*:[\w-]+:([a-z0-9-]*):")
# Types whose instances name keys (see ``TerraformIndex._add_key``).
_KEY_TYPES = frozenset(
    ("aws_kms_key", "aws_kms_alias", "aws_kms_replica_key", "azurerm_key_vault_key")
)
_AZ_SUFFIX = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")
_REGION_NAME = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
# Providers located by sovereign_rules (OVHcloud, Scaleway, 3DS Outscale).
_SOVEREIGN = frozenset({"ovh", "scaleway", "outscale"})
_GEO_REPLICATION = {"GRS", "RAGRS", "GZRS", "RAGZRS"}
_REDUNDANT_BACKUP = {"geo", "geozone", "grs", "ragrs", "gzrs", "ragzrs"}


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """How one Terraform type is read (from ``data/types.yaml``)."""

    kind: Kind = Kind.OTHER
    non_regional: bool = False
    holds_data: bool | None = None
    reading: facts.Reading = facts.NO_READING
    volumes: tuple[facts.Volume, ...] = ()
    key_resource: facts.KeyResource | None = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TypeTable:
    specs: Mapping[str, TypeSpec]
    parents: Mapping[str, str]
    providers: Mapping[str, str]
    logical_providers: frozenset[str]
    full_types: frozenset[str]
    index_attributes: tuple[str, ...]
    # Index attributes whose values come from a small vocabulary (regions): shared.
    index_shared_values: frozenset[str] = frozenset()

    def spec(self, rtype: str) -> TypeSpec:
        return self.specs.get(rtype) or _OTHER

    def provider(self, short: str) -> str:
        return self.providers.get(short, short)


_OTHER = TypeSpec()
_NO_INFRASTRUCTURE = Location(
    provider="terraform", region=None, country=None, in_eu=None, in_eea=None, non_regional=True
)


@cache
def type_table() -> TypeTable:
    """Load ``data/types.yaml`` once."""
    text = (
        package_files.files("hds_audit.collectors.terraform")
        .joinpath("data/types.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    specs: dict[str, TypeSpec] = {}
    for section in ("aws", "azurerm", "google", "ovh", "scaleway", "outscale"):
        for rtype, entry in (data.get(section) or {}).items():
            specs[rtype] = TypeSpec(
                kind=Kind(entry.get("kind", "other")),
                non_regional=bool(entry.get("global", False)),
                holds_data=entry.get("holds_data"),
                reading=facts.parse_reading(entry.get("encryption") or {}),
                volumes=facts.parse_volumes(entry.get("volumes")),
                key_resource=facts.parse_key_resource(entry.get("key_resource")),
                rules=tuple(entry.get("rules") or ()),
            )
    return TypeTable(
        specs,
        data.get("located_by_parent") or {},
        data.get("providers") or {},
        frozenset(str(p) for p in data.get("logical_providers") or ()),
        frozenset(
            [
                *(data.get("full_types") or ()),
                *(data.get("google_full_types") or ()),
                *(data.get("sovereign_full_types") or ()),
            ]
        ),
        tuple(data.get("index_attributes") or ()),
        frozenset(data.get("index_shared_values") or ()),
    )


def index_views(instances: list[TfInstance]) -> None:
    """Slim, in place, instances of types the cross-resource index does not keep whole
    (:func:`index_keeps_whole` false: the first pass hands only those over).

    Types that other resources' rules read whole (``full_types`` in ``data/types.yaml``)
    and data sources are kept whole; any other keeps only the attributes that locate it and
    join it to others (``index_attributes``), redacted: the texts of the whole batch are
    looked at once (the streamed reader passes fresh instances, and normalises the full ones
    on its own).
    """
    name_set = _index_attributes()[1]
    shared = type_table().index_shared_values
    batch: list[tuple[dict[str, Any], str]] = []
    for inst in instances:
        # These copies live as long as the index, one per resource: the texts of a small
        # vocabulary (regions) are shared; identifiers, each its own, are not looked up.
        slim = {
            k: (intern(v) if k in shared and type(v) is str and len(v) <= 32 else v)
            for k, v in inst.attributes.items()
            if v is not None and k in name_set
        }
        batch.append((slim, inst.type))
    for inst, redacted in zip(instances, redact_flat_many(batch), strict=True):
        inst.attributes = redacted


@cache
def _index_attributes() -> tuple[tuple[str, ...], frozenset[str]]:
    names = type_table().index_attributes
    return names, frozenset(names)


@cache
def index_slimmer() -> Slimmer:
    """What the first pass over a streamed state keeps for the index (see
    :func:`index_views`)."""
    return Slimmer(_index_attributes()[0], index_keeps_whole, index_views)


def index_keeps_whole(rtype: str, mode: str) -> bool:
    """Whether the index keeps an instance whole (data sources, ``full_types``)."""
    return mode != "managed" or rtype in type_table().full_types


def get_path(value: Any, path: str) -> Any:
    """Follow a dotted path through dicts and lists (``rule.0.destination.0.bucket``)."""
    if type(value) is dict and "." not in path:  # most paths name a top-level attribute
        return value.get(path)
    for part in _parts(path):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                return None
            value = value[int(part)]
        else:
            return None
    return value


@lru_cache(maxsize=4096)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def get_all(value: Any, path: str) -> list[Any]:
    """Like :func:`get_path`, with ``*`` standing for every element of a list."""
    values = [value]
    for part in path.split("."):
        step: list[Any] = []
        for item in values:
            if part == "*" and isinstance(item, list):
                step.extend(item)
            elif isinstance(item, dict) and part in item:
                step.append(item[part])
            elif isinstance(item, list) and part.isdigit() and int(part) < len(item):
                step.append(item[int(part)])
        values = step
    return values


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def region_from_arn(arn: Any) -> str | None:
    if isinstance(arn, str):
        match = _ARN.match(arn)
        if match and match.group(1):
            return match.group(1)
    return None


def _is_unknown(instance: TfInstance, path: str) -> bool:
    if not instance.unknown:
        return False
    return path in instance.unknown or any(path.startswith(u + ".") for u in instance.unknown)


# ---------------------------------------------------------------------------------------------
# the per-document index


@dataclass(slots=True)
class TerraformIndex:
    """Cross-resource facts of one document, built in one pass over its instances."""

    instances: list[TfInstance]
    by_address: dict[str, TfInstance] = field(default_factory=dict)
    by_type: dict[str, list[TfInstance]] = field(default_factory=lambda: defaultdict(list))
    customer_keys: set[str] = field(default_factory=set)
    provider_keys: set[str] = field(default_factory=set)
    azure_ids: dict[str, TfInstance] = field(default_factory=dict)
    provider_config_regions: dict[str, str | None] = field(default_factory=dict)
    _joins: dict[tuple[str, str], dict[str, list[TfInstance]]] = field(default_factory=dict)
    _links: dict[tuple[str, str], dict[tuple[str, str], list[TfInstance]]] = field(
        default_factory=dict
    )
    _by_local: dict[tuple[str, str], list[TfInstance]] = field(default_factory=dict)

    @classmethod
    def build(cls, instances: list[TfInstance]) -> TerraformIndex:
        index = cls(instances)
        seen_regions: dict[str, set[str]] = defaultdict(set)
        by_address, by_type = index.by_address, index.by_type
        for inst in instances:
            rtype, mode, provider = inst.type, inst.mode, inst.provider
            by_address[inst.address] = inst
            by_type[rtype if mode != "data" else "data." + rtype].append(inst)
            attrs = inst.attributes
            if rtype in _KEY_TYPES:
                index._add_key(inst)
            if provider == "azurerm" and isinstance(attrs.get("id"), str):
                # Attachment resources (a storage account's customer-managed key) reuse their
                # parent's id: the resource that has a location of its own wins.
                known = index.azure_ids.setdefault(attrs["id"].lower(), inst)
                if known is not inst and "location" not in known.attributes:
                    index.azure_ids[attrs["id"].lower()] = inst
            elif provider == "aws":
                region = _own_aws_region(inst)
                if region:
                    seen_regions[inst.provider_key].add(region)
        # Every resource of one provider configuration shares its region unless it overrides
        # it (then its own `region` attribute says so): infer the configuration's region only
        # when all resources that show one agree.
        for key, regions in seen_regions.items():
            index.provider_config_regions[key] = next(iter(regions)) if len(regions) == 1 else None
        return index

    def _add_key(self, inst: TfInstance) -> None:
        """The ids of a key resource, among the customer's or the provider's keys."""
        attrs = inst.attributes
        if inst.type == "aws_kms_key":
            keys = self.customer_keys if inst.mode == "managed" else None
            if inst.mode == "data":
                manager = attrs.get("key_manager")
                keys = self.provider_keys if manager == "AWS" else None
                if manager == "CUSTOMER":
                    keys = self.customer_keys
            if keys is not None:
                keys.update(str(attrs[k]) for k in ("arn", "id", "key_id") if attrs.get(k))
        elif inst.type == "aws_kms_alias" and inst.mode == "data":
            name = str(attrs.get("name") or "")
            target = attrs.get("target_key_arn")
            if name.startswith("alias/aws/") and target:
                self.provider_keys.add(str(target))
        elif inst.type in ("aws_kms_replica_key", "azurerm_key_vault_key"):
            self.customer_keys.update(
                str(attrs[k])
                for k in ("arn", "id", "key_id", "versionless_id", "resource_id")
                if attrs.get(k)
            )

    def of_type(self, rtype: str) -> list[TfInstance]:
        return self.by_type.get(rtype, [])

    def where(
        self, rtype: str, path: str, *values: Any, key: Callable[[Any], Any] | None = None
    ) -> list[TfInstance]:
        """Instances of ``rtype`` whose attribute at ``path`` equals one of ``values``.

        Each (type, path) is indexed once, so joins stay linear on 100,000-resource states.
        """
        table = self._joins.get((rtype, path))
        if table is None:
            table = defaultdict(list)
            for inst in self.of_type(rtype):
                for found in get_all(inst.attributes, path):
                    found = key(found) if key is not None else found
                    if isinstance(found, str) and found and inst not in table[found]:
                        table[found].append(inst)
            self._joins[(rtype, path)] = table
        matches: list[TfInstance] = []
        for value in dict.fromkeys(values):
            value = key(value) if key is not None else value
            if isinstance(value, str) and value:
                matches.extend(i for i in table.get(value, ()) if i not in matches)
        return matches

    def linked(self, rtype: str, path: str, target: TfInstance) -> list[TfInstance]:
        """Instances of ``rtype`` whose configuration at ``path`` references ``target``.

        Plans leave a value unknown when it comes from a resource created in the same plan
        (``bucket = aws_s3_bucket.records.id``); the configuration still names the resource.
        """
        table = self._links.get((rtype, path))
        if table is None:
            table = defaultdict(list)
            for inst in self.of_type(rtype):
                for reference in inst.references.get(path, ()):
                    local = reference_target(reference)
                    if local and inst not in table[(inst.module_path, local)]:
                        table[(inst.module_path, local)].append(inst)
            self._links[(rtype, path)] = table
        return list(table.get((target.module_path, target.local), ()))

    def referenced(self, inst: TfInstance, path: str) -> list[TfInstance]:
        """The resources ``inst``'s configuration at ``path`` refers to (same module)."""
        if not self._by_local:
            for other in self.instances:
                self._by_local.setdefault((other.module_path, other.local), []).append(other)
        found: list[TfInstance] = []
        for reference in inst.references.get(path, ()):
            local = reference_target(reference)
            for other in self._by_local.get((inst.module_path, local or ""), ()):
                if other not in found:
                    found.append(other)
        return found

    def joined(
        self,
        rtype: str,
        path: str,
        target: TfInstance,
        *values: Any,
        key: Callable[[Any], Any] | None = None,
    ) -> list[TfInstance]:
        """Instances of ``rtype`` joined to ``target`` by value at ``path`` or by reference."""
        found = self.where(rtype, path, *values, key=key)
        found.extend(i for i in self.linked(rtype, path, target) if i not in found)
        return found

    def azure(self, resource_id: Any) -> TfInstance | None:
        return self.azure_ids.get(resource_id.lower()) if isinstance(resource_id, str) else None


_REFERENCE_INDEX = re.compile(r"\[[^\]]*\]")


def reference_target(reference: str) -> str | None:
    """``aws_s3_bucket.records[0].arn`` -> ``aws_s3_bucket.records``; module outputs and
    variables -> None."""
    parts = _REFERENCE_INDEX.sub("", reference).split(".")
    if parts[0] in ("var", "local", "module", "each", "count", "path", "terraform", "self"):
        return None
    if parts[0] == "data":
        return ".".join(parts[:3]) if len(parts) >= 3 else None
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _text_attribute(inst: TfInstance, name: str) -> str | None:
    """A top-level attribute that must be text (``region``, ``location``) or absent."""
    value = inst.attributes.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ShapeError(f"'{name}' is {kind_of(value)}, not a text")


def _own_aws_region(inst: TfInstance) -> str | None:
    attrs = inst.attributes
    region = attrs.get("region")
    if isinstance(region, str) and region and not _is_unknown(inst, "region"):
        return region
    arn = attrs.get("arn")
    if isinstance(arn, str):  # region_from_arn, inlined: every AWS resource has an ARN
        match = _ARN.match(arn)
        if match and match.group(1):
            return match.group(1)
    for name in ("availability_zone", "zone"):
        zone = attrs.get(name)
        if isinstance(zone, str):
            region = _region_of_zone(zone)
            if region:
                return region
    return None


@lru_cache(maxsize=1024)
def _region_of_zone(zone: str) -> str | None:
    """``eu-west-3a`` -> ``eu-west-3`` (a few zones name the resources of a whole state)."""
    match = _AZ_SUFFIX.match(zone)
    if match:
        return match.group(1)
    if _REGION_NAME.match(zone):
        # Some modules put the region itself in the zone attribute: read it as such.
        return zone
    return None


_PROVIDER_NO_KEY: tuple[KeyOwner | None, str | None, str | None] = (KeyOwner.PROVIDER, None, None)
# Encryption by a provider-held key the service names: the same for every resource.
_SSE_S3 = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AES256")
_AWS_OWNED_KEY = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AWS owned key")
_SSE_SQS = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="SSE-SQS")
_PLATFORM_KEY = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="platform key")
# Replicas named by their region (a table's replica, a storage account's paired region) repeat
# across thousands of resources: one instance each.
_SHARED_REPLICAS: dict[tuple[str, int, str | None], Replica] = {}
_SHARED_REPLICAS_MAX = 4096


def _replica(kind: str, location: Location, target: str | None) -> Replica:
    if target is not None and (type(target) is not str or target != location.region):
        return Replica(kind=kind, location=location, target=target)
    # The replica keeps its location alive, so the location's id cannot be reused meanwhile.
    key = (kind, id(location), target)
    found = _SHARED_REPLICAS.get(key)
    if found is None:
        if len(_SHARED_REPLICAS) >= _SHARED_REPLICAS_MAX:
            _SHARED_REPLICAS.clear()
        found = _SHARED_REPLICAS[key] = Replica(kind=kind, location=location, target=target)
    return found


# ---------------------------------------------------------------------------------------------
# building one resource


@dataclass(slots=True)
class Draft:
    """A resource being assembled: rules fill in encryption, replicas and unknown reasons."""

    inst: TfInstance
    spec: TypeSpec
    location: Location
    encryption: Encryption | None = None
    replicas: list[Replica] | None = field(default_factory=list)
    unknowns: dict[str, str] = field(default_factory=dict)
    extra: list[Resource] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def add_replica(self, kind: str, location: Location, target: str | None = None) -> None:
        assert kind in REPLICA_KINDS, f"replica kind {kind!r} is not in model.REPLICA_KINDS"
        if self.replicas is not None:
            self.replicas.append(_replica(kind, location, target))

    def replicas_unknown(self, reason: str) -> None:
        self.replicas = None
        self.unknowns["replicas"] = reason

    def apply(self, verdict: facts.Verdict) -> None:
        """Take the encryption verdict of :func:`facts.read`."""
        self.encryption = verdict.encryption
        if verdict.unknowns:
            self.unknowns.update(verdict.unknowns)
        if verdict.notes:
            self.notes.update(verdict.notes)


@dataclass(slots=True)
class _View:
    """The resource as :func:`facts.read` sees it (``blank``: a volume with no block)."""

    n: Normaliser
    inst: TfInstance
    location: Location
    blank: bool = False

    def get(self, path: str) -> Any:
        if self.blank:
            return None
        attributes = self.inst.attributes
        if "." not in path and type(attributes) is dict:
            return attributes.get(path)
        return get_path(attributes, path)

    def unknown(self, path: str) -> bool:
        return not self.blank and bool(self.inst.unknown) and _is_unknown(self.inst, path)

    def key_owner(self, path: str | None, value: Any = None) -> facts.KeyVerdict:
        if self.blank:
            return self.n.key_owner(self.inst, None, value)
        return self.n.key_owner(self.inst, path, value)

    def ebs_default(self) -> facts.EbsDefault | None:
        return self.n.ebs_default(self.location)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every instance of one type and provider shares, worked out once per document.

    ``fixed`` is the location of a type that has none of its own (a logical provider's, a
    global type's); ``place`` locates the others. ``bare`` says nothing but the location is
    read: no encryption facts, rules or volumes (a subnet, a security group).
    """

    spec: TypeSpec
    provider: str
    fixed: tuple[Location, str | None] | None
    place: Callable[[Normaliser, TfInstance, _Plan], tuple[Location, str | None]]
    rules: tuple[Rule, ...]
    bare: bool
    #: The type's encryption is read from its attributes or a key resource.
    reads: bool
    #: Where each region named by an instance of the type is (a few regions, many instances).
    regions: dict[str, tuple[Location, None]] = field(default_factory=dict)


_REGIONS_PER_TYPE = 1024
_SINGLES_KEPT = 1024


def _google_place(n: Normaliser, inst: TfInstance, plan: _Plan) -> tuple[Location, str | None]:
    from hds_audit.collectors.terraform import gcp_rules

    return gcp_rules.locate(n, inst)


def _sovereign_place(n: Normaliser, inst: TfInstance, plan: _Plan) -> tuple[Location, str | None]:
    from hds_audit.collectors.terraform import sovereign_rules

    return sovereign_rules.locate(n, inst, plan.provider)


def _azure_place(n: Normaliser, inst: TfInstance, plan: _Plan) -> tuple[Location, str | None]:
    location = inst.attributes.get("location")
    if type(location) is str and location:
        return n._at(plan, location)
    return n._locate_azure(inst, plan.provider)


class Normaliser:
    """Normalise the instances of one document into resources."""

    def __init__(
        self,
        geo: GeoTables,
        source: Source,
        instances: list[TfInstance],
        keep_attributes: frozenset[str] | None = None,
    ) -> None:
        self.geo = geo
        self.source = source
        self.keep_attributes = keep_attributes
        self.types = type_table()
        self.index = TerraformIndex.build(instances)
        self._plans: dict[tuple[str, str], _Plan] = {}
        # Whether any instance of a type could join on a path (a value or a reference there).
        self._joinable: dict[tuple[str, str], bool] = {}
        # One message per key not audited: many resources name the same key.
        self._not_audited: dict[str, str] = {}
        # Single-reason mappings ({"encryption.at_rest": <note>}), shared while they repeat.
        self._single: dict[tuple[str, int], Mapping[str, str]] = {}

    def _kept(self, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        """The raw attributes the resource keeps: all, or only those policies read."""
        return (
            attributes if self.keep_attributes is None else _trim(attributes, self.keep_attributes)
        )

    def resources(self, replay: Replay | None = None) -> list[Resource]:
        """Normalise every managed instance: the indexed ones, or those ``replay`` passes
        (the full instances of a streamed state, whose index holds slimmed copies)."""
        out: list[Resource] = []
        extend, normalise = out.extend, self.normalise

        def each(inst: TfInstance) -> None:
            if inst.mode == "managed":
                extend(normalise(inst))

        if replay is None:
            for inst in self.index.instances:
                each(inst)
        else:
            replay(each)
        return out

    # -- what a type shares -------------------------------------------------------------------

    def _plan(self, inst: TfInstance) -> _Plan:
        key = (inst.type, inst.provider)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_plan(inst)
        return plan

    def _make_plan(self, inst: TfInstance) -> _Plan:
        types = self.types
        spec = types.spec(inst.type)
        provider = types.provider(inst.provider or inst.type.split("_", 1)[0])
        fixed: tuple[Location, str | None] | None = None
        place: Callable[[Normaliser, TfInstance, _Plan], tuple[Location, str | None]]
        place = Normaliser._locate_region
        if inst.provider in types.logical_providers:
            fixed = (_NO_INFRASTRUCTURE, None)
        elif spec.non_regional:
            fixed = (self.geo.locate(provider, "global"), None)
        elif inst.provider == "azurerm":
            place = _azure_place
        elif inst.type.startswith("google_"):
            place = _google_place
        elif provider in _SOVEREIGN:
            place = _sovereign_place
        rules = tuple(RULES.get(rule) or _provider_rule(rule) for rule in spec.rules)
        reads = spec.reading.declared or spec.key_resource is not None
        bare = not (rules or spec.volumes or reads)
        return _Plan(spec, provider, fixed, place, rules, bare, reads)

    # -- location -----------------------------------------------------------------------------

    def provider_of(self, inst: TfInstance) -> str:
        return self._plan(inst).provider

    def locate(self, inst: TfInstance) -> tuple[Location, str | None]:
        """Where the instance is, and why not when that is unknown."""
        plan = self._plan(inst)
        return plan.fixed or plan.place(self, inst, plan)

    def _locate_region(self, inst: TfInstance, plan: _Plan) -> tuple[Location, str | None]:
        provider = plan.provider
        region = _text_attribute(inst, "region")
        if inst.provider == "aws":
            region = _own_aws_region(inst)
        if not region and inst.provider_region:
            region = inst.provider_region
        if not region and inst.provider == "aws":
            region = self.index.provider_config_regions.get(inst.provider_key)
        if isinstance(region, str) and region:
            return self._at(plan, region)
        if _is_unknown(inst, "region") or _is_unknown(inst, "availability_zone"):
            return self.geo.locate(provider, None), Msg("collect.region_after_apply")
        return self.geo.locate(provider, None), Msg("collect.no_region")

    def _at(self, plan: _Plan, region: str) -> tuple[Location, None]:
        """Where ``region`` of the plan's provider is (looked up once per type)."""
        found = plan.regions.get(region)
        if found is None:
            if len(plan.regions) >= _REGIONS_PER_TYPE:
                plan.regions.clear()
            found = plan.regions[region] = (self.geo.locate(plan.provider, region), None)
        return found

    def _locate_azure(self, inst: TfInstance, provider: str) -> tuple[Location, str | None]:
        location = _text_attribute(inst, "location")
        if isinstance(location, str) and location:
            return self.geo.locate(provider, location), None
        parent_attr = self.types.parents.get(inst.type)
        if parent_attr:
            parent = self.index.azure(inst.attributes.get(parent_attr))
            if parent is None:
                parents = self.index.referenced(inst, parent_attr)
                parent = parents[0] if parents else None
            if parent is not None and parent.address != inst.address:
                return self._locate_azure(parent, provider)
            return self.geo.locate(provider, None), Msg(
                "collect.parent_missing", attribute=parent_attr
            )
        if _is_unknown(inst, "location"):
            return self.geo.locate(provider, None), Msg("collect.location_after_apply")
        return self.geo.locate(provider, None), Msg("collect.no_location")

    def locate_region(self, provider: str, region: Any) -> Location:
        """Where a region named inside an attribute (a replica's, a copy's) is."""
        if region is not None and not isinstance(region, str):
            raise ShapeError(f"a replica region is {kind_of(region)}, not a text")
        return self.geo.locate(provider, region)

    # -- joins --------------------------------------------------------------------------------

    def where(
        self, rtype: str, path: str, *values: Any, key: Callable[[Any], Any] | None = None
    ) -> list[TfInstance]:
        """:meth:`TerraformIndex.where`; nothing to look up when the document holds no
        ``rtype`` (most rules join to a type few documents have)."""
        if self._no_partner(rtype, path, values):
            return []
        return self.index.where(rtype, path, *values, key=key)

    def joined(
        self,
        rtype: str,
        path: str,
        target: TfInstance,
        *values: Any,
        key: Callable[[Any], Any] | None = None,
    ) -> list[TfInstance]:
        """:meth:`TerraformIndex.joined`, skipped like :meth:`where`."""
        if self._no_partner(rtype, path, values):
            return []
        return self.index.joined(rtype, path, target, *values, key=key)

    def _no_partner(self, rtype: str, path: str, values: tuple[Any, ...]) -> bool:
        """Whether no instance of ``rtype`` could join on ``path``. The values are still
        checked as the join would: one that cannot be a key (a list) fails the same way."""
        joinable = self._joinable.get((rtype, path))
        if joinable is None:
            joinable = self._can_join(rtype, path)
        if not joinable:
            dict.fromkeys(values)
        return not joinable

    def _can_join(self, rtype: str, path: str) -> bool:
        """False when no instance of ``rtype`` has a value or a reference at ``path``: then
        no value and no reference can match (checked once per type and path)."""
        found = self._joinable.get((rtype, path))
        if found is None:
            found = self._joinable[(rtype, path)] = any(
                get_all(inst.attributes, path) or inst.references.get(path)
                for inst in self.index.of_type(rtype)
            )
        return found

    # -- keys ---------------------------------------------------------------------------------

    def key_owner(
        self, inst: TfInstance, path: str | None, value: Any = None
    ) -> tuple[KeyOwner | None, str | None, str | None]:
        """(owner, key id, reason when unknown) for the key at ``path`` (or ``value``)."""
        if path is not None:
            value = get_path(inst.attributes, path)
            configured = inst.configured
            if configured is not None and path.partition(".")[0] not in configured:
                # Not set in the configuration: the service's default, provider-held key,
                # whatever ARN the provider reports for it.
                return KeyOwner.PROVIDER, value if isinstance(value, str) else None, None
            if _is_unknown(inst, path):
                references = inst.references.get(path.partition(".")[0], ())
                created = [r for r in references if _is_key_reference(r)]
                if created:
                    return KeyOwner.CUSTOMER, created[0], None
                return None, None, facts.after_apply(path)
        if value is None or value == "":
            return _PROVIDER_NO_KEY
        key = str(value)
        if inst.provider == "azurerm" or key.startswith("https://"):
            return KeyOwner.CUSTOMER, key, None
        if "alias/aws/" in key or key in self.index.provider_keys:
            return KeyOwner.PROVIDER, key, None
        if key in self.index.customer_keys or key.startswith("alias/"):
            return KeyOwner.CUSTOMER, key, None
        reason = self._not_audited.get(key)
        if reason is None:
            reason = self._not_audited[key] = Msg("collect.key_not_audited", key=key)
        return None, key, reason

    def encryption(self, inst: TfInstance, spec: TypeSpec, draft: Draft) -> None:
        if spec.reading.flag or spec.reading.always:  # Reading.declared, inlined
            draft.apply(facts.read(spec.reading, _View(self, inst, draft.location)))
        elif spec.key_resource is not None:
            draft.encryption = facts.encryption(True, KeyOwner.PROVIDER)
        if spec.key_resource is not None:
            key_resource(self, draft, spec.key_resource)

    def ebs_default(self, location: Location) -> facts.EbsDefault | None:
        """The audited account setting that encrypts new EBS volumes where ``location`` is."""
        for setting in self.index.of_type("aws_ebs_encryption_by_default"):
            enabled = setting.attributes.get("enabled")
            if isinstance(enabled, bool) and self.locate(setting)[0] == location:
                defaults = self.index.of_type("aws_ebs_default_kms_key")
                key = defaults[0].attributes.get("key_arn") if defaults else None
                return facts.EbsDefault(enabled, key if enabled else None, setting.address)
        return None

    def volumes(self, d: Draft) -> None:
        """The volumes the resource creates, each judged as storage of its own."""
        inst = d.inst
        for volume in d.spec.volumes:
            places: list[tuple[str, str, bool]] = []
            if volume.block is None:
                places.append((f"{inst.address}.{volume.name}", "", False))
            else:
                blocks = _blocks(get_path(inst.attributes, volume.block))
                for i, block in enumerate(blocks):
                    label = block.get(volume.label) if volume.label else None
                    shown = repr(label) if isinstance(label, str) and label else str(i)
                    places.append(
                        (f"{inst.address}.{volume.block}[{shown}]", f"{volume.block}.{i}.", False)
                    )
                if not blocks and volume.implicit:
                    configured = inst.configured is None or volume.block in inst.configured
                    if configured and _is_unknown(inst, volume.block):
                        places.append(
                            (f"{inst.address}.{volume.block}[0]", f"{volume.block}.0.", False)
                        )
                    else:
                        places.append(
                            (f"{inst.address}.{volume.block}[implicit]", f"{volume.block}.", True)
                        )
            for rid, where, blank in places:
                sub = Draft(inst=inst, spec=d.spec, location=d.location, unknowns=dict(d.unknowns))
                sub.unknowns.pop("encryption.at_rest", None)
                sub.unknowns.pop("encryption.key_owner", None)
                sub.apply(facts.read(volume.reading, _View(self, inst, d.location, blank), where))
                d.extra.append(self.finish(sub, resource_id=rid, kind=volume.kind))

    # -- the resource -------------------------------------------------------------------------

    def normalise(self, inst: TfInstance) -> list[Resource]:
        plan = self._plans.get((inst.type, inst.provider)) or self._plan(inst)
        spec = plan.spec
        try:
            location, reason = plan.fixed or plan.place(self, inst, plan)
            if plan.bare:
                # Nothing but the location to read: no draft to assemble.
                unknowns = {"region": reason} if reason else EMPTY_MAPPING
                return [
                    self._resource(
                        inst,
                        plan,
                        location,
                        None,
                        (),
                        unknowns,
                        EMPTY_MAPPING,
                        None,
                        spec.kind,
                        spec.holds_data,
                    )
                ]
            draft = Draft(inst=inst, spec=spec, location=location)
            if reason:
                draft.unknowns["region"] = reason
            if plan.reads:
                self.encryption(inst, spec, draft)
            for rule in plan.rules:
                rule(self, draft)
            if spec.volumes:
                self.volumes(draft)
        except ShapeError as error:
            raise ShapeError(f"{inst.address}: {error.problem}") from None
        replicas = draft.replicas
        resource = self._resource(
            inst,
            plan,
            draft.location,
            draft.encryption,
            tuple(replicas) if replicas is not None else None,
            draft.unknowns or EMPTY_MAPPING,
            draft.notes or EMPTY_MAPPING,
            None,
            spec.kind,
            spec.holds_data,
        )
        return [resource, *draft.extra] if draft.extra else [resource]

    def finish(
        self, draft: Draft, resource_id: str | None = None, kind: Kind | None = None
    ) -> Resource:
        """The resource ``draft`` describes; ``kind`` for a part of it judged on its own (a
        volume), under ``resource_id``."""
        return self._resource(
            draft.inst,
            self._plan(draft.inst),
            draft.location,
            draft.encryption,
            tuple(draft.replicas) if draft.replicas is not None else None,
            draft.unknowns or EMPTY_MAPPING,
            draft.notes or EMPTY_MAPPING,
            resource_id,
            kind or draft.spec.kind,
            draft.spec.holds_data if kind is None else None,
        )

    def _resource(
        self,
        inst: TfInstance,
        plan: _Plan,
        location: Location,
        encryption: Encryption | None,
        replicas: tuple[Replica, ...] | None,
        unknowns: Mapping[str, str],
        notes: Mapping[str, str],
        resource_id: str | None,
        kind: Kind,
        holds_data: bool | None,
    ) -> Resource:
        if resource_id is None:
            # The indexed copy's address string is already kept: share it.
            indexed = self.index.by_address.get(inst.address)
            resource_id = indexed.address if indexed is not None else inst.address
        if encryption is not None and id(encryption) not in facts.SHARED_IDS:
            encryption = facts.shared(encryption)
        attributes: Mapping[str, Any] = inst.attributes
        # The display name (inlined: once per resource).
        name = None
        tags = attributes.get("tags")
        if isinstance(tags, dict) and isinstance(tags.get("Name"), str):
            name = str(tags["Name"])
        else:
            for key in ("bucket", "name", "identifier"):
                value = attributes.get(key)
                if isinstance(value, str) and value:
                    name = value
                    break
        keep = self.keep_attributes
        attributes = share_keys(attributes) if keep is None else _trim(attributes, keep)
        if len(unknowns) == 1:
            unknowns = self._shared_single(unknowns)
        if len(notes) == 1:
            notes = self._shared_single(notes)
        built = _Assembled(
            resource_id,
            plan.provider,
            inst.type,
            kind,
            location,
            self.source,
            encryption,
            replicas,
            name,
            attributes,
            unknowns,
            holds_data,
            notes,
        )
        built.__class__ = Resource  # type: ignore[assignment]
        return built  # type: ignore[return-value]

    def _shared_single(self, mapping: Mapping[str, str]) -> Mapping[str, str]:
        """An equal one-entry mapping already held by another resource (the same reason
        object under the same field), else ``mapping``; no resource changes its mappings."""
        ((field_path, reason),) = mapping.items()
        # By identity: two messages with the same English text may render apart in French.
        # The kept mapping holds the reason, so its id cannot be reused meanwhile.
        key = (field_path, id(reason))
        found = self._single.get(key)
        if found is None:
            if len(self._single) >= _SINGLES_KEPT:
                self._single.clear()
            found = self._single[key] = mapping
        return found


def _trim(attributes: Mapping[str, Any], keep: frozenset[str]) -> Mapping[str, Any]:
    """The attributes a resource keeps (those policies read), their keys shared."""
    if keep.isdisjoint(attributes):  # the usual case: no policy reads this type's attributes
        return EMPTY_MAPPING if attributes else attributes
    if attributes.keys() <= keep:
        return share_keys(attributes)
    return share_keys({k: v for k, v in attributes.items() if k in keep}) or EMPTY_MAPPING


class _Assembled:
    """A :class:`Resource` being built: the same slots, writable.

    Once filled in it becomes a ``Resource`` (``Normaliser._resource``): Python allows the class
    change because the slots are the same. The frozen dataclass's ``__init__`` makes one
    ``object.__setattr__`` call per field; this costs a third of it, and a large state builds
    100,000 resources. A field added to ``Resource`` and not set here is an AttributeError
    on first read, never a silent default.
    """

    __slots__ = tuple(f.name for f in fields(Resource))

    def __init__(
        self,
        id: str,
        provider: str,
        type: str,
        kind: Kind,
        location: Location,
        source: Source,
        encryption: Encryption | None,
        replicas: tuple[Replica, ...] | None,
        name: str | None,
        attributes: Mapping[str, Any],
        unknowns: Mapping[str, str],
        holds_data: bool | None,
        notes: Mapping[str, str],
    ) -> None:
        self.id = id
        self.provider = provider
        self.type = type
        self.kind = kind
        self.location = location
        self.source = source
        self.encryption = encryption
        self.replicas = replicas
        self.name = name
        self.attributes = attributes
        self.unknowns = unknowns
        self.holds_data = holds_data
        self.notes = notes


def _is_key_reference(reference: str) -> bool:
    local = reference.rsplit("module.", 1)[-1]
    return any(
        part in local for part in ("aws_kms_key.", "aws_kms_replica_key.", "azurerm_key_vault_key.")
    )


# ---------------------------------------------------------------------------------------------
# rules


Rule = Callable[[Normaliser, Draft], None]


def _provider_rule(name: str) -> Rule:
    """A rule of ``gcp_rules`` (Google Cloud) or ``sovereign_rules`` (OVHcloud, Scaleway,
    Outscale), loaded when a type of theirs is normalised."""
    from hds_audit.collectors.terraform.gcp_rules import RULES as GOOGLE_RULES
    from hds_audit.collectors.terraform.sovereign_rules import RULES as SOVEREIGN_RULES

    return GOOGLE_RULES.get(name) or SOVEREIGN_RULES[name]


def _aws_location_of_arn(n: Normaliser, arn: Any) -> Location:
    return n.locate_region("aws", region_from_arn(arn))


def _bucket_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.rsplit(":::", 1)[-1] if value.startswith("arn:") else value


def rule_s3_bucket(n: Normaliser, d: Draft) -> None:
    inst = d.inst
    bucket = inst.attributes.get("bucket") or inst.attributes.get("id")
    sse_rules: list[dict[str, Any]] = []
    for block in _blocks(inst.attributes.get("server_side_encryption_configuration")):
        sse_rules.extend(_blocks(block.get("rule")))
    for config in n.joined(
        "aws_s3_bucket_server_side_encryption_configuration",
        "bucket",
        inst,
        bucket,
        key=_bucket_name,
    ):
        sse_rules.extend(_blocks(config.attributes.get("rule")))
    default = [
        b for r in sse_rules for b in _blocks(r.get("apply_server_side_encryption_by_default"))
    ]
    if not default:
        # Since 5 January 2023 S3 encrypts every new object with SSE-S3 (AWS-held keys).
        d.encryption = facts.encryption(True, KeyOwner.PROVIDER)
    else:
        algorithm = default[0].get("sse_algorithm")
        if algorithm == "AES256":
            d.encryption = _SSE_S3
        else:
            owner, key_id, reason = n.key_owner(inst, None, default[0].get("kms_master_key_id"))
            d.encryption = facts.encryption(True, owner, key_id)
            if reason:
                d.unknowns["encryption.key_owner"] = reason
    destinations: list[Any] = []
    for block in _blocks(inst.attributes.get("replication_configuration")):
        for rule in _blocks(block.get("rules")):
            destinations.extend(b.get("bucket") for b in _blocks(rule.get("destination")))
    referenced: list[TfInstance] = []
    for config in n.joined(
        "aws_s3_bucket_replication_configuration", "bucket", inst, bucket, key=_bucket_name
    ):
        for rule in _blocks(config.attributes.get("rule")):
            if rule.get("status", "Enabled") == "Enabled":
                destinations.extend(b.get("bucket") for b in _blocks(rule.get("destination")))
        referenced.extend(n.index.referenced(config, "rule.destination.bucket"))
    for arn in destinations:
        name = _bucket_name(arn)
        targets = n.where("aws_s3_bucket", "bucket", name)
        target = targets[0] if targets else None
        if target is None and not name and referenced:
            target = referenced.pop(0)
            arn = target.address
        location = n.locate(target)[0] if target is not None else n.locate_region("aws", None)
        d.add_replica("replication", location, str(arn))
        if target is None:
            d.unknowns["replicas"] = Msg("collect.bucket_not_audited", bucket=name)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def rule_rds_instance_replicas(n: Normaliser, d: Draft) -> None:
    attrs = d.inst.attributes
    names = (attrs.get("arn"), attrs.get("identifier"), attrs.get("id"))
    for other in n.joined("aws_db_instance", "replicate_source_db", d.inst, *names):
        if other.address != d.inst.address:
            d.add_replica("read_replica", n.locate(other)[0], other.address)
    for replication in n.joined(
        "aws_db_instance_automated_backups_replication",
        "source_db_instance_arn",
        d.inst,
        attrs.get("arn"),
    ):
        d.add_replica("backup_replication", n.locate(replication)[0], replication.address)


def rule_rds_cluster_replicas(n: Normaliser, d: Draft) -> None:
    global_id = d.inst.attributes.get("global_cluster_identifier")
    if not global_id:
        return
    for other in n.where("aws_rds_cluster", "global_cluster_identifier", global_id):
        if other.address != d.inst.address:
            d.add_replica("global_database", n.locate(other)[0], other.address)


def rule_dynamodb_table(n: Normaliser, d: Draft) -> None:
    attrs = d.inst.attributes
    sse = _blocks(attrs.get("server_side_encryption"))
    if _is_unknown(d.inst, "server_side_encryption"):
        d.encryption = facts.encryption(True, None)
        d.unknowns["encryption.key_owner"] = Msg(
            "collect.after_apply", attribute="server_side_encryption"
        )
    elif not sse or not sse[0].get("enabled"):
        d.encryption = _AWS_OWNED_KEY
    else:
        owner, key_id, reason = n.key_owner(d.inst, "server_side_encryption.0.kms_key_arn")
        d.encryption = facts.encryption(True, owner, key_id)
        if reason:
            d.unknowns["encryption.key_owner"] = reason
    for block in _blocks(attrs.get("replica")):
        region = block.get("region_name")
        d.add_replica("global_table", n.locate_region("aws", region), region)
    for replica in n.joined(
        "aws_dynamodb_table_replica", "global_table_arn", d.inst, attrs.get("arn")
    ):
        d.add_replica("global_table", n.locate(replica)[0], replica.address)


def rule_efs_replicas(n: Normaliser, d: Draft) -> None:
    fs_id = d.inst.attributes.get("id")
    for config in n.joined(
        "aws_efs_replication_configuration", "source_file_system_id", d.inst, fs_id
    ):
        for destination in _blocks(config.attributes.get("destination")):
            region = destination.get("region")
            d.add_replica("replication", n.locate_region("aws", region), region)


def rule_kms_replicas(n: Normaliser, d: Draft) -> None:
    d.encryption = None
    arn = d.inst.attributes.get("arn")
    for replica in n.joined("aws_kms_replica_key", "primary_key_arn", d.inst, arn):
        d.add_replica("key_replica", n.locate(replica)[0], replica.address)


def rule_secret_replicas(n: Normaliser, d: Draft) -> None:
    for replica in _blocks(d.inst.attributes.get("replica")):
        region = replica.get("region")
        d.add_replica("replication", n.locate_region("aws", region), region)


def rule_sqs_queue(n: Normaliser, d: Draft) -> None:
    attrs = d.inst.attributes
    if attrs.get("kms_master_key_id"):
        owner, key_id, reason = n.key_owner(d.inst, "kms_master_key_id")
        d.encryption = facts.encryption(True, owner, key_id)
        if reason:
            d.unknowns["encryption.key_owner"] = reason
    elif attrs.get("sqs_managed_sse_enabled"):
        d.encryption = _SSE_SQS
    else:
        d.encryption = facts.encryption(False)


def _backup_copy_targets(plan: TfInstance) -> Iterable[tuple[str | None, Any]]:
    for rule in _blocks(plan.attributes.get("rule")):
        for action in _blocks(rule.get("copy_action")):
            yield rule.get("target_vault_name"), action.get("destination_vault_arn")


def rule_backup_plan_copies(n: Normaliser, d: Draft) -> None:
    for _vault, arn in _backup_copy_targets(d.inst):
        d.add_replica("backup_copy", _aws_location_of_arn(n, arn), str(arn))


def rule_backup_vault_copies(n: Normaliser, d: Draft) -> None:
    name = d.inst.attributes.get("name")
    for plan in n.where("aws_backup_plan", "rule.*.target_vault_name", name):
        for vault, arn in _backup_copy_targets(plan):
            if vault == name:
                d.add_replica("backup_copy", _aws_location_of_arn(n, arn), str(arn))


def key_resource(n: Normaliser, d: Draft, spec: facts.KeyResource) -> None:
    """A separate resource naming the customer key (``azurerm_postgresql_server_key``)."""
    for found in n.joined(spec.type, spec.join, d.inst, d.inst.attributes.get("id"), key=_lower):
        parts = [get_path(found.attributes, path) for path in spec.key]
        key = "/".join(str(p) for p in parts if p)
        if key or any(_is_unknown(found, path) for path in spec.key):
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id=key or None)
            d.unknowns.pop("encryption.key_owner", None)


# -- Azure ---------------------------------------------------------------------------------------


def _paired_copy(n: Normaliser, d: Draft, kind: str, why: Callable[[], str]) -> None:
    """A copy in the primary's paired region; ``why`` (made only when a reason is shown)
    says what makes the copy."""
    region = d.location.region
    if region is None:
        d.replicas_unknown(Msg("collect.pair.primary_unknown", why=why()))
        return
    pair = n.geo.pair("azure", region)
    if pair:
        d.add_replica(kind, n.locate_region("azure", pair), pair)
    elif n.geo.has_pair_entry("azure", region):
        d.add_replica(kind, n.locate_region("azure", None), None)
        d.unknowns["replicas"] = Msg("collect.pair.no_pair", why=why(), region=region)
    else:
        d.add_replica(kind, n.locate_region("azure", None), None)
        d.unknowns["replicas"] = Msg("collect.pair.pair_not_in_tables", why=why(), region=region)


def rule_storage_account(n: Normaliser, d: Draft) -> None:
    attrs = d.inst.attributes
    account_id = attrs.get("id")
    for cmk in n.joined(
        "azurerm_storage_account_customer_managed_key",
        "storage_account_id",
        d.inst,
        account_id,
        key=_lower,
    ):
        cmk_attrs = cmk.attributes
        key = (
            cmk_attrs.get("key_vault_key_id")
            or cmk_attrs.get("managed_hsm_key_id")
            or "/".join(str(cmk_attrs[k]) for k in ("key_vault_id", "key_name") if cmk_attrs.get(k))
        )
        if key or _is_unknown(cmk, "key_vault_key_id") or _is_unknown(cmk, "key_name"):
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id=key)
            d.unknowns.pop("encryption.key_owner", None)
    replication = str(attrs.get("account_replication_type") or "").upper()
    if replication in _GEO_REPLICATION:
        _paired_copy(
            n, d, "geo_pair", lambda: Msg("collect.why.geo_replication", replication=replication)
        )
    elif not replication and _is_unknown(d.inst, "account_replication_type"):
        d.replicas_unknown(Msg("collect.after_apply", attribute="account_replication_type"))
    for policy in n.where(
        "azurerm_storage_object_replication", "source_storage_account_id", account_id, key=_lower
    ):
        target = n.index.azure(policy.attributes.get("destination_storage_account_id"))
        location = n.locate(target)[0] if target else n.locate_region("azure", None)
        d.add_replica("object_replication", location, policy.address)


def rule_managed_disk(n: Normaliser, d: Draft) -> None:
    des = d.inst.attributes.get("disk_encryption_set_id")
    if des:
        d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id=str(des))
    elif _is_unknown(d.inst, "disk_encryption_set_id"):
        d.encryption = facts.encryption(True, None)
        d.unknowns["encryption.key_owner"] = Msg(
            "collect.after_apply", attribute="disk_encryption_set_id"
        )
    else:
        d.encryption = _PLATFORM_KEY


def _tde_key(n: Normaliser, server: TfInstance) -> tuple[KeyOwner | None, str | None, str | None]:
    server_id = server.attributes.get("id")
    for tde in n.joined(
        "azurerm_mssql_server_transparent_data_encryption",
        "server_id",
        server,
        server_id,
        key=_lower,
    ):
        key = tde.attributes.get("key_vault_key_id") or tde.attributes.get("managed_hsm_key_id")
        if _is_unknown(tde, "key_vault_key_id"):
            return None, None, Msg("collect.tde_key_after_apply")
        if key:
            return KeyOwner.CUSTOMER, str(key), None
        return KeyOwner.PROVIDER, "service-managed TDE key", None
    return KeyOwner.PROVIDER, "service-managed TDE key (no TDE resource)", None


def rule_mssql_server(n: Normaliser, d: Draft) -> None:
    owner, key_id, reason = _tde_key(n, d.inst)
    d.encryption = facts.encryption(True, owner, key_id)
    if reason:
        d.unknowns["encryption.key_owner"] = reason
    server_id = d.inst.attributes.get("id")
    for group in n.where("azurerm_mssql_failover_group", "server_id", server_id, key=_lower):
        for partner in _blocks(group.attributes.get("partner_server")):
            location = partner.get("location")
            target = n.index.azure(partner.get("id"))
            if not location and target is not None:
                location = target.attributes.get("location")
            d.add_replica("failover_group", n.locate_region("azure", location), partner.get("id"))


def rule_mssql_database(n: Normaliser, d: Draft) -> None:
    attrs = d.inst.attributes
    server = n.index.azure(attrs.get("server_id"))
    if server is None:
        servers = n.index.referenced(d.inst, "server_id")
        server = servers[0] if servers else None
    if server is not None:
        owner, key_id, reason = _tde_key(n, server)
    else:
        owner, key_id, reason = None, None, Msg("collect.server_not_audited")
    if attrs.get("transparent_data_encryption_enabled") is False:
        d.encryption = facts.encryption(False)
        d.unknowns["encryption.key_owner"] = Msg("collect.not_encrypted")
    else:
        d.encryption = facts.encryption(True, owner, key_id)
        if reason:
            d.unknowns["encryption.key_owner"] = reason
    redundancy = str(attrs.get("storage_account_type") or "").lower()
    if redundancy in _REDUNDANT_BACKUP:
        _paired_copy(
            n,
            d,
            "geo_backup",
            lambda: Msg(
                "collect.why.backup_storage", storage=str(attrs.get("storage_account_type"))
            ),
        )
    elif not redundancy and _is_unknown(d.inst, "storage_account_type"):
        d.replicas_unknown(Msg("collect.after_apply", attribute="storage_account_type"))
    database_id = attrs.get("id")
    for other in n.where(
        "azurerm_mssql_database", "creation_source_database_id", database_id, key=_lower
    ):
        if other.address != d.inst.address:
            d.add_replica("geo_replica", n.locate(other)[0], other.address)


def rule_geo_backup_flag(n: Normaliser, d: Draft) -> None:
    if _is_unknown(d.inst, "geo_redundant_backup_enabled"):
        d.replicas_unknown(Msg("collect.after_apply", attribute="geo_redundant_backup_enabled"))
    elif d.inst.attributes.get("geo_redundant_backup_enabled"):
        _paired_copy(n, d, "geo_backup", lambda: Msg("collect.why.geo_backup"))


def rule_cosmos_locations(n: Normaliser, d: Draft) -> None:
    for geo in _blocks(d.inst.attributes.get("geo_location")):
        location = geo.get("location")
        if isinstance(location, str) and location.lower() != str(d.location.region or ""):
            d.add_replica("geo_location", n.locate_region("azure", location), location)
    backup = _blocks(d.inst.attributes.get("backup"))
    if backup and str(backup[0].get("storage_redundancy") or "").lower() == "geo":
        _paired_copy(n, d, "geo_backup", lambda: Msg("collect.why.backup_geo"))


def rule_paired_copy(n: Normaliser, d: Draft) -> None:
    _paired_copy(n, d, "service_dr_pair", lambda: Msg("collect.why.service_dr"))


def rule_vault_storage_mode(n: Normaliser, d: Draft) -> None:
    # storage_mode_type defaults to GeoRedundant (azurerm recovery_services_vault docs).
    mode = str(d.inst.attributes.get("storage_mode_type") or "GeoRedundant")
    if mode == "GeoRedundant":
        _paired_copy(n, d, "geo_backup", lambda: Msg("collect.why.vault_storage"))


def rule_backup_vault_redundancy(n: Normaliser, d: Draft) -> None:
    if str(d.inst.attributes.get("redundancy") or "") == "GeoRedundant":
        _paired_copy(n, d, "geo_backup", lambda: Msg("collect.why.vault_redundancy"))


RULES: Mapping[str, Rule] = {
    "s3_bucket": rule_s3_bucket,
    "rds_instance_replicas": rule_rds_instance_replicas,
    "rds_cluster_replicas": rule_rds_cluster_replicas,
    "dynamodb_table": rule_dynamodb_table,
    "efs_replicas": rule_efs_replicas,
    "kms_replicas": rule_kms_replicas,
    "secret_replicas": rule_secret_replicas,
    "sqs_queue": rule_sqs_queue,
    "backup_plan_copies": rule_backup_plan_copies,
    "backup_vault_copies": rule_backup_vault_copies,
    "storage_account": rule_storage_account,
    "managed_disk": rule_managed_disk,
    "mssql_server": rule_mssql_server,
    "mssql_database": rule_mssql_database,
    "geo_backup_flag": rule_geo_backup_flag,
    "cosmos_locations": rule_cosmos_locations,
    "paired_copy": rule_paired_copy,
    "vault_storage_mode": rule_vault_storage_mode,
    "backup_vault_redundancy": rule_backup_vault_redundancy,
}
