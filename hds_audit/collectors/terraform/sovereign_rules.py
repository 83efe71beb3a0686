"""OVHcloud, Scaleway and 3DS Outscale facts of Terraform ``ovh_*``, ``scaleway_*`` and
``outscale_*`` resources.

The per-type facts (which attributes locate a resource, its parent, why its encryption cannot
be read) are the ``ovh``, ``scaleway`` and ``outscale`` sections of ``data/types.yaml``; this
module reads them and holds the rules that span attributes or resources: OVH database backup
regions and bucket replication, Scaleway Database read replicas, backups and snapshots,
Outscale snapshot copies and bucket encryption. :mod:`normalise` calls :func:`locate` and
:data:`RULES` for these types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.terraform.normalise import (
    Draft,
    Normaliser,
    Rule,
    _blocks,
    _is_unknown,
    get_path,
)
from hds_audit.datafile import package_yaml
from hds_audit.geo import Location
from hds_audit.i18n import Msg
from hds_audit.model import Encryption, KeyOwner

if TYPE_CHECKING:
    from hds_audit.collectors.terraform.documents import TfInstance

#: The sections of ``data/types.yaml`` this module reads, and the geo provider of each.
SECTIONS: Mapping[str, str] = {"ovh": "ovh", "scaleway": "scaleway", "outscale": "outscale"}
# Scaleway ids carry their locality: "fr-par/<uuid>" (regional), "fr-par-1/<uuid>" (zoned).
_LOCALITY_ID = re.compile(r"^([a-z]{2}-[a-z]{3}(?:-\d+)?)/")


@dataclass(frozen=True, slots=True)
class SovereignType:
    """How one sovereign-cloud type is located, and why its encryption may be unreadable."""

    location: tuple[str, ...] = ()
    parent_type: str | None = None
    parent_on: str | None = None
    parent_key: str | None = None
    at_rest_unknown: str | None = None


_PLAIN = SovereignType()


@cache
def sovereign_types() -> Mapping[str, SovereignType]:
    """Load the ovh, scaleway and outscale sections of ``data/types.yaml`` once."""
    data = package_yaml("hds_audit.collectors.terraform", "data/types.yaml")
    types: dict[str, SovereignType] = {}
    for section in SECTIONS:
        for rtype, entry in (data.get(section) or {}).items():
            parent = entry.get("parent") or {}
            types[rtype] = SovereignType(
                location=tuple(str(p) for p in entry.get("location") or ()),
                parent_type=parent.get("type"),
                parent_on=parent.get("join"),
                parent_key=parent.get("key"),
                at_rest_unknown=entry.get("at_rest_unknown"),
            )
    return types


def is_sovereign(provider: str) -> bool:
    """Whether resources of this (geo) provider are located by this module."""
    return provider in SECTIONS.values()


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def locate(n: Normaliser, inst: TfInstance, provider: str) -> tuple[Location, str | None]:
    """Where a sovereign-cloud resource is, and why not when that is unknown."""
    spec = sovereign_types().get(inst.type) or _PLAIN
    paths = spec.location or ("region", "zone")
    for path in paths:
        place = _text(get_path(inst.attributes, path))
        if place:
            return n.geo.locate(provider, place), None
    for path in paths:
        if _is_unknown(inst, path) and not spec.parent_type:
            return n.geo.locate(provider, None), Msg("collect.after_apply", attribute=path)
    match = _LOCALITY_ID.match(str(inst.attributes.get("id") or ""))
    if provider == "scaleway" and match:
        return n.geo.locate(provider, match.group(1)), None
    if spec.parent_type and spec.parent_on:
        parent = _parent(n, inst, spec)
        if parent is not None:
            return n.locate(parent)
    if inst.provider_region:
        return n.geo.locate(provider, inst.provider_region), None
    if spec.parent_on:
        return n.geo.locate(provider, None), Msg("collect.parent_missing", attribute=spec.parent_on)
    attributes = " / ".join(paths)
    return n.geo.locate(provider, None), Msg("collect.gcp.no_location", attribute=attributes)


def _parent(n: Normaliser, inst: TfInstance, spec: SovereignType) -> TfInstance | None:
    assert spec.parent_type is not None and spec.parent_on is not None
    value = inst.attributes.get(spec.parent_on)
    key = spec.parent_key or spec.parent_on
    parents = n.where(spec.parent_type, key, value, key=_last)
    parents = parents or n.index.referenced(inst, spec.parent_on)
    parents = [p for p in parents if p.address != inst.address]
    return parents[0] if parents else None


def _last(value: Any) -> Any:
    """``fr-par/<uuid>`` and ``<uuid>`` name the same Scaleway resource."""
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else value


# -- rules ----------------------------------------------------------------------------------


def rule_facts(n: Normaliser, d: Draft) -> None:
    """A type whose encryption cannot be read from the resource: say why."""
    reason = (sovereign_types().get(d.inst.type) or _PLAIN).at_rest_unknown
    if reason and d.encryption is None:
        d.unknowns.setdefault("encryption.at_rest", reason)
        d.unknowns.setdefault("encryption.key_owner", Msg("collect.sovereign.at_rest_unknown"))


def rule_ovh_database_backups(n: Normaliser, d: Draft) -> None:
    """OVH pushes database backups to ``backup_regions`` (one may be the nodes' own)."""
    attrs = d.inst.attributes
    if _is_unknown(d.inst, "backup_regions"):
        d.replicas_unknown(Msg("collect.after_apply", attribute="backup_regions"))
        return
    regions = attrs.get("backup_regions")
    if not regions:
        d.replicas_unknown(Msg("collect.sovereign.ovh_backup_regions_unset"))
        return
    for region in regions if isinstance(regions, list) else [regions]:
        location = n.locate_region("ovh", region)
        if location.region != d.location.region or location.region is None:
            d.add_replica("backup", location, str(region))
    for node in _blocks(attrs.get("nodes"))[1:]:
        location = n.locate_region("ovh", node.get("region"))
        if location.region != d.location.region:
            d.add_replica("node", location, str(node.get("region")))


def rule_ovh_storage_replication(n: Normaliser, d: Draft) -> None:
    """An OVH Object Storage container replicates to each rule's destination region."""
    if _is_unknown(d.inst, "replication"):
        d.replicas_unknown(Msg("collect.after_apply", attribute="replication"))
        return
    for rule in _blocks(get_path(d.inst.attributes, "replication.rules")):
        if str(rule.get("status") or "enabled").lower() != "enabled":
            continue
        destination = rule.get("destination") or {}
        if not isinstance(destination, dict):
            continue
        target = destination.get("name")
        d.add_replica(
            "replication",
            n.locate_region("ovh", destination.get("region")),
            str(target) if target else None,
        )


def rule_scaleway_rdb_copies(n: Normaliser, d: Draft) -> None:
    """Read replicas and snapshots of a Scaleway Database Instance, and where its backups go."""
    inst = d.inst
    copies = (("scaleway_rdb_read_replica", "read_replica"), ("scaleway_rdb_snapshot", "snapshot"))
    for rtype, kind in copies:
        for other in n.joined(rtype, "instance_id", inst, inst.attributes.get("id"), key=_last):
            d.add_replica(kind, n.locate(other)[0], other.address)
    attrs = inst.attributes
    if attrs.get("disable_backup") is True:
        return
    if _is_unknown(inst, "backup_same_region") or _is_unknown(inst, "disable_backup"):
        d.replicas_unknown(Msg("collect.sovereign.rdb_backup_settings_after_apply"))
    elif attrs.get("backup_same_region") is True:
        d.add_replica("backup", d.location, None)
    else:
        d.replicas_unknown(Msg("collect.sovereign.rdb_backup_region"))


def rule_scaleway_rdb_parent_encryption(n: Normaliser, d: Draft) -> None:
    """A read replica, snapshot or backup follows its Database Instance's encryption_at_rest."""
    spec = sovereign_types().get(d.inst.type) or _PLAIN
    parent = _parent(n, d.inst, spec)
    if parent is None:
        d.unknowns["encryption.at_rest"] = Msg("collect.sovereign.rdb_instance_missing")
        d.unknowns["encryption.key_owner"] = Msg("collect.sovereign.at_rest_unknown")
        return
    encrypted = parent.attributes.get("encryption_at_rest")
    if _is_unknown(parent, "encryption_at_rest") or not isinstance(encrypted, bool):
        d.unknowns["encryption.at_rest"] = Msg(
            "collect.sovereign.rdb_instance_unknown", address=parent.address
        )
        d.unknowns["encryption.key_owner"] = Msg("collect.sovereign.at_rest_unknown")
        return
    d.encryption = Encryption(at_rest=encrypted, key_owner=KeyOwner.PROVIDER if encrypted else None)
    d.notes["encryption.at_rest"] = Msg(
        "collect.sovereign.rdb_instance", address=parent.address, value=str(encrypted).lower()
    )
    if not encrypted:
        d.unknowns["encryption.key_owner"] = Msg("collect.not_encrypted")


def rule_outscale_snapshot_copies(n: Normaliser, d: Draft) -> None:
    """Copies of this snapshot (``source_snapshot_id``) are copies of its data."""
    attrs = d.inst.attributes
    ids = [v for v in (attrs.get("snapshot_id"), attrs.get("id")) if isinstance(v, str) and v]
    for copy in n.joined("outscale_snapshot", "source_snapshot_id", d.inst, *ids):
        if copy.address != d.inst.address:
            d.add_replica("snapshot_copy", n.locate(copy)[0], copy.address)
    source = _text(attrs.get("source_region_name"))
    if source:
        d.notes["replicas"] = Msg("collect.sovereign.snapshot_source", region=source)


@dataclass(frozen=True, slots=True)
class _BucketEncryption:
    """A separate resource that sets a bucket's server-side encryption."""

    type: str
    algorithm: str  # attribute path of the algorithm
    key: str | None = None  # attribute path of a customer key (Key Manager), if any


_OOS = _BucketEncryption("outscale_oos_bucket_encryption", "encryption_type")
_SCW_SSE = _BucketEncryption(
    "scaleway_object_bucket_server_side_encryption_configuration",
    "rule.0.apply_server_side_encryption_by_default.0.sse_algorithm",
    "rule.0.apply_server_side_encryption_by_default.0.kms_master_key_id",
)


def _bucket_encryption(n: Normaliser, d: Draft, spec: _BucketEncryption) -> None:
    """A bucket is encrypted when a ``spec.type`` resource names it (by name or reference)."""
    name = d.inst.attributes.get("name") or d.inst.attributes.get("id")
    settings = n.joined(spec.type, "bucket", d.inst, name)
    if not settings:
        reason = (sovereign_types().get(d.inst.type) or _PLAIN).at_rest_unknown
        d.unknowns["encryption.at_rest"] = Msg(
            "collect.sovereign.no_bucket_encryption", type=spec.type, why=reason or ""
        )
        d.unknowns["encryption.key_owner"] = Msg("collect.sovereign.at_rest_unknown")
        return
    setting = settings[0]
    if _is_unknown(setting, spec.algorithm):
        d.unknowns["encryption.at_rest"] = Msg(
            "collect.after_apply", attribute=f"{setting.address}.{spec.algorithm}"
        )
        return
    algorithm = _text(get_path(setting.attributes, spec.algorithm))
    key = _text(get_path(setting.attributes, spec.key)) if spec.key else None
    if algorithm is None and key is None:
        d.unknowns["encryption.at_rest"] = Msg(
            "collect.sovereign.bucket_no_algorithm",
            address=setting.address,
            attribute=spec.algorithm,
        )
        return
    if key is not None or (spec.key and _is_unknown(setting, spec.key)):
        d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id=key)
    else:
        d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER)
    d.notes["encryption.at_rest"] = Msg(
        "collect.sovereign.bucket_encrypted",
        address=setting.address,
        algorithm=algorithm or "aws:kms",
    )


def rule_outscale_bucket_encryption(n: Normaliser, d: Draft) -> None:
    """An OOS bucket is encrypted when an ``outscale_oos_bucket_encryption`` names it."""
    _bucket_encryption(n, d, _OOS)


def rule_scaleway_bucket_encryption(n: Normaliser, d: Draft) -> None:
    """A Scaleway bucket is encrypted when a server-side encryption configuration names it;
    a Key Manager key (``kms_master_key_id``) is the customer's."""
    _bucket_encryption(n, d, _SCW_SSE)


RULES: Mapping[str, Rule] = {
    "sovereign_facts": rule_facts,
    "ovh_database_backups": rule_ovh_database_backups,
    "ovh_storage_replication": rule_ovh_storage_replication,
    "scaleway_rdb_copies": rule_scaleway_rdb_copies,
    "scaleway_rdb_parent_encryption": rule_scaleway_rdb_parent_encryption,
    "outscale_snapshot_copies": rule_outscale_snapshot_copies,
    "outscale_bucket_encryption": rule_outscale_bucket_encryption,
    "scaleway_bucket_encryption": rule_scaleway_bucket_encryption,
}
