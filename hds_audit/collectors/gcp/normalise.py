"""Cloud Asset Inventory search results -> normalised resources, on the shared draft.

A ``ResourceSearchResult`` carries the resource's full name, asset type, project, location
(region, zone, multi-region such as ``eu``, or ``global``) and its Cloud KMS keys: enough to
judge residency, encryption at rest (always on in Google Cloud: the table cites the source)
and who holds the key. Copies come from the versioned resource (the service's own JSON) of the
types whose ``details`` name a rule here: Cloud SQL read replicas and backup location, a
bucket's custom dual-region placement. Read replicas are located once every project is read
(:func:`locate_replicas`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.gcp.table import GcpTable
from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import DATA_KINDS, Encryption, KeyOwner, Replica, Resource, Source

_KEPT = ("project", "location", "display_name", "kms_keys", "state", "labels", "folders")


def normalise(item: Mapping[str, Any], table: GcpTable, geo: GeoTables, source: Source) -> Resource:
    """One search result as a :class:`Resource` of provider ``gcp``."""
    asset_type = str(item.get("asset_type") or "")
    kind = table.kind(asset_type)
    place = item.get("location")
    draft = ResourceDraft(
        id=str(item.get("name") or ""),
        type=asset_type,
        kind=kind,
        location=geo.locate("gcp", place if isinstance(place, str) and place else None),
        name=str(item.get("display_name") or "") or None,
        attributes={k: item[k] for k in _KEPT if item.get(k) not in (None, "", [], {})},
    )
    if not place:
        draft.unknowns["region"] = Msg("collect.gcp.no_asset_location")
    if kind in DATA_KINDS:
        keys = [str(k) for k in item.get("kms_keys") or () if k] or (
            [str(item["kms_key"])] if item.get("kms_key") else []
        )
        if keys:
            draft.encryption = Encryption(True, KeyOwner.CUSTOMER, keys[0])
        else:
            draft.encryption = Encryption(True, KeyOwner.PROVIDER, table.default_key_id)
    rule = table.details(asset_type)
    if rule is not None:
        DETAILS[rule](draft, item.get("resource"), geo)
    return draft.resource("gcp", source)


def _get(value: Any, *path: str) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def cloud_sql(draft: ResourceDraft, detail: Any, geo: GeoTables) -> None:
    """Read replicas (located later, by name) and where backups go."""
    if not isinstance(detail, dict):
        draft.replicas_unknown(Msg("collect.gcp.sql_not_in_result"))
        return
    for name in detail.get("replicaNames") or ():
        draft.add_replica("read_replica", geo.locate("gcp", None), str(name))
    backups = _get(detail, "settings", "backupConfiguration") or {}
    if backups.get("enabled") is not True:
        return
    place = backups.get("location")
    draft.add_replica("backup", geo.locate("gcp", place or None), place or None)
    if not place:
        draft.unknowns["replicas"] = Msg("collect.gcp.sql_backup_live")


def bucket(draft: ResourceDraft, detail: Any, geo: GeoTables) -> None:
    """A custom dual-region stores a copy in each of its data locations."""
    for place in _get(detail, "customPlacementConfig", "dataLocations") or ():
        location = geo.locate("gcp", str(place))
        if location.region != draft.location.region:
            draft.add_replica("dual_region", location, str(place))


def spanner(draft: ResourceDraft, detail: Any, geo: GeoTables) -> None:
    """An instance configuration: ``regional-<region>``, or a multi-region one whose first
    region leads and whose others hold replicas (``data/types.yaml``, google_spanner_configs,
    shared with the Terraform normaliser)."""
    from hds_audit.collectors.terraform.gcp_rules import google_facts

    config = str(_get(detail, "config") or draft.location.region or "").rsplit("/", 1)[-1]
    code = config.lower()
    members: tuple[str, ...] = ()
    if code.startswith("regional-"):
        members = (code.removeprefix("regional-"),)
    members = members or google_facts().spanner_configs.get(code, ())
    if not members:
        draft.location = geo.locate("gcp", None)
        draft.unknowns["region"] = Msg("collect.gcp.spanner_config", config=repr(config))
        return
    draft.location = geo.locate("gcp", members[0])
    draft.unknowns.pop("region", None)
    for member in members[1:]:
        draft.add_replica("spanner_replica", geo.locate("gcp", member), member)


DETAILS: Mapping[str, Callable[[ResourceDraft, Any, GeoTables], None]] = {
    "cloud_sql": cloud_sql,
    "bucket": bucket,
    "spanner": spanner,
}


def locate_replicas(resources: Iterable[Resource]) -> list[Resource]:
    """Give each Cloud SQL read replica the location of the instance of that name among the
    audited resources; one that is not there stays unknown, named."""
    resources = list(resources)
    by_name: dict[tuple[str | None, str | None], Location] = {
        (r.source.account, r.name): r.location
        for r in resources
        if r.type == "sqladmin.googleapis.com/Instance" and r.name
    }
    out: list[Resource] = []
    for resource in resources:
        replicas = resource.replicas or ()
        if not any(r.kind == "read_replica" for r in replicas):
            out.append(resource)
            continue
        located: list[Replica] = []
        missing: list[str] = []
        for replica in replicas:
            where = by_name.get((resource.source.account, replica.target))
            if replica.kind == "read_replica" and where is not None:
                replica = dataclasses.replace(replica, location=where)
            elif replica.kind == "read_replica":
                missing.append(str(replica.target))
            located.append(replica)
        unknowns = dict(resource.unknowns)
        if missing:
            unknowns["replicas"] = Msg("collect.gcp.replica_missing", replicas=", ".join(missing))
        out.append(dataclasses.replace(resource, replicas=tuple(located), unknowns=unknowns))
    return out
