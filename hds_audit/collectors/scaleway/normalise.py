"""Scaleway API items -> normalised resources, on the shared draft.

Every item carries its zone (``fr-par-1``) or region (``fr-par``): residency comes from the
geo table. Encryption at rest is only what an API states: a Managed Database's
``encryption.enabled``, a Block Storage volume's Key Manager key (``kms_key_id``), a bucket's
default server-side encryption; where the API says nothing, it stays unknown with the reason.
Copies: a database's read replicas and snapshots (each in its region), and its logical backups
when they are stored outside its region (``backup_same_region`` false: the region is not named).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.scaleway.table import ListCall, ScalewayTable
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import Encryption, KeyOwner, Kind, Resource, Source

PROVIDER = "scaleway"
_KEPT = (
    "name",
    "project",
    "project_id",
    "organization",
    "organization_id",
    "zone",
    "region",
    "state",
    "status",
    "commercial_type",
    "volume_type",
    "type",
    "size",
    "engine",
    "node_type",
    "is_ha_cluster",
    "backup_same_region",
    "version",
    "is_public",
    "tags",
    "kms_key_id",
)


def resource_id(call: ListCall, item: Mapping[str, Any]) -> str:
    locality = str(item.get(call.locality) or "")
    return f"scaleway:{call.path(locality, str(item.get('id') or '')).lstrip('/')}"


def normalise(
    call: ListCall,
    item: Mapping[str, Any],
    table: ScalewayTable,
    geo: GeoTables,
    source: Source,
    extra: Mapping[str, Any] | None = None,
) -> Resource:
    """One list item as a :class:`Resource` of provider ``scaleway``."""
    place = item.get(call.locality)
    draft = ResourceDraft(
        id=resource_id(call, item),
        type=call.type or call.name,
        kind=call.kind,
        location=geo.locate(PROVIDER, place if isinstance(place, str) and place else None),
        name=str(item.get("name") or "") or None,
        attributes={k: item[k] for k in _KEPT if item.get(k) not in (None, "", [], {})},
    )
    if not place:
        draft.unknowns["region"] = Msg("collect.scaleway.no_locality", locality=call.locality)
    if call.normaliser:
        RULES[call.normaliser](draft, item, table, geo, extra or {})
    return draft.resource(PROVIDER, source)


def _unknown_encryption(draft: ResourceDraft, reason: Msg) -> None:
    draft.encryption = None
    draft.unknowns["encryption.at_rest"] = reason
    draft.unknowns["encryption.key_owner"] = reason


def instance_server(draft: ResourceDraft, item: Any, *_: Any) -> None:
    volumes = item.get("volumes") or {}
    if isinstance(volumes, dict):
        draft.attributes["volume_ids"] = sorted(
            str(v.get("id")) for v in volumes.values() if isinstance(v, dict)
        )


def instance_volume(draft: ResourceDraft, item: Any, *_: Any) -> None:
    kind = item.get("volume_type") or "volume"
    _unknown_encryption(draft, Msg("collect.scaleway.instance_volume", volume_type=kind))
    base = item.get("base_volume")
    if isinstance(base, dict) and base.get("id"):
        draft.attributes["base_volume_id"] = str(base["id"])


def block_volume(draft: ResourceDraft, item: Any, *_: Any) -> None:
    key = item.get("kms_key_id")
    if key:
        draft.encryption = Encryption(True, KeyOwner.CUSTOMER, str(key))
        return
    _unknown_encryption(draft, Msg("collect.scaleway.block_no_key"))


def rdb_instance(
    draft: ResourceDraft, item: Any, table: ScalewayTable, geo: GeoTables, extra: Any
) -> None:
    """Encryption at rest as the API states it; read replicas, snapshots and backups as copies."""
    encryption = item.get("encryption")
    enabled = encryption.get("enabled") if isinstance(encryption, dict) else None
    if enabled is True:
        draft.encryption = Encryption(True, KeyOwner.PROVIDER, table.rdb_key)
    elif enabled is False:
        draft.encryption = Encryption(False)
    else:
        _unknown_encryption(draft, Msg("collect.scaleway.rdb_no_encryption"))
    for replica in item.get("read_replicas") or ():
        region = replica.get("region") if isinstance(replica, dict) else None
        target = str(replica.get("id")) if isinstance(replica, dict) else None
        draft.add_replica("read_replica", geo.locate(PROVIDER, region or None), target)
    snapshots = extra.get("snapshots")
    if snapshots is None:
        draft.replicas_unknown(extra.get("snapshots_unread") or Msg("collect.not_read"))
    else:
        for snapshot in snapshots:
            region = snapshot.get("region") or None
            draft.add_replica("snapshot", geo.locate(PROVIDER, region), str(snapshot.get("id")))
    schedule = item.get("backup_schedule")
    disabled = schedule.get("disabled") if isinstance(schedule, dict) else None
    if disabled is False and item.get("backup_same_region") is False:
        draft.add_replica("backup", geo.locate(PROVIDER, None), "logical backups")
        draft.unknowns["replicas"] = Msg("collect.scaleway.rdb_backups_elsewhere")


def regional(draft: ResourceDraft, item: Any, *_: Any) -> None:
    """Kubernetes clusters and registry namespaces: the region is all the API states."""
    if draft.kind is not Kind.COMPUTE:
        _unknown_encryption(draft, Msg("collect.api_silent_encryption"))


RULES: Mapping[str, Callable[..., None]] = {
    "instance_server": instance_server,
    "instance_volume": instance_volume,
    "block_volume": block_volume,
    "rdb_instance": rdb_instance,
    "regional": regional,
}


def bucket(
    item: Mapping[str, Any], table: ScalewayTable, geo: GeoTables, source: Source
) -> Resource:
    """An Object Storage bucket, located by its LocationConstraint."""
    spec = table.buckets
    region = str(item.get("region") or "")
    name = str(item.get("name") or "")
    draft = ResourceDraft(
        id=f"scaleway:s3/{region}/{name}",
        type=spec.type,
        kind=spec.kind,
        location=geo.locate(PROVIDER, region or None),
        name=name,
        attributes={"name": name, "region": region},
    )
    rules = item.get("sse_rules")
    if rules is None:
        _unknown_encryption(
            draft, Msg("collect.scaleway.bucket_sse_unread", message=item.get("sse_unread"))
        )
    elif not rules:
        draft.encryption = Encryption(False)
        draft.notes["encryption.at_rest"] = Msg("collect.scaleway.bucket_no_sse")
    else:
        rule = rules[0]
        key = rule.get("KMSMasterKeyID")
        algorithm = str(rule.get("SSEAlgorithm") or "")
        draft.attributes["sse_algorithm"] = algorithm
        owner = KeyOwner.CUSTOMER if key else KeyOwner.PROVIDER
        draft.encryption = Encryption(True, owner, str(key) if key else f"SSE {algorithm}")
    return draft.resource(PROVIDER, source)
