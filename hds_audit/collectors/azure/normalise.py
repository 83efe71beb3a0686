"""ARM REST JSON -> normalised :class:`Resource` records. Never judges.

Normalisers read the REST shape (``properties.encryption.keySource``), not SDK attribute
names, so they follow the API contract documented in hds-domain.md 4.2 whatever the SDK
generation. Each returns the resources of one listed item; the same policies judge them as
the Terraform ones (a GRS account gets a paired-region replica, a platform-key disk a
provider key owner...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hds_audit.collectors.azure.table import AzureTable
from hds_audit.collectors.draft import ResourceDraft
from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import Encryption, KeyOwner, Kind, Resource, Source

GEO_REPLICATION = frozenset({"GRS", "RAGRS", "GZRS", "RAGZRS"})
GEO_BACKUP = frozenset({"geo", "geozone", "georedundant"})
_RESOURCE_GROUP = re.compile(r"/resourcegroups/([^/]+)", re.IGNORECASE)
_SQL_DATABASE = re.compile(r"(/subscriptions/.+/servers/[^/]+/databases/[^/]+)", re.IGNORECASE)
DATA_OR_KEY = frozenset(
    {
        Kind.OBJECT_STORAGE,
        Kind.BLOCK_STORAGE,
        Kind.DATABASE,
        Kind.FILE_STORAGE,
        Kind.BACKUP,
        Kind.LOG,
        Kind.KEY,
    }
)


def props(item: Mapping[str, Any]) -> Mapping[str, Any]:
    value = item.get("properties")
    return value if isinstance(value, Mapping) else {}


def dig(value: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def resource_group(resource_id: str) -> str | None:
    match = _RESOURCE_GROUP.search(resource_id)
    return match.group(1) if match else None


@dataclass(slots=True)
class Details:
    """What the per-item detail calls returned; a failure keeps its message."""

    values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    children: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> list[dict[str, Any]] | None:
        return self.values.get(name)

    def child(self, name: str, child: str) -> list[dict[str, Any]] | None:
        return self.children.get((name, child))

    def failure(self, name: str, child: str | None = None) -> str | None:
        return self.failures.get(f"{name}/{child}" if child else name)


@dataclass(slots=True)
class Context:
    """What a normaliser may read besides its item."""

    geo: GeoTables
    source: Source
    table: AzureTable
    siblings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Draft(ResourceDraft):
    """A resource being assembled (mirrors the Terraform normaliser's draft)."""

    def key(self, owner: KeyOwner | None, key_id: str | None, why: str | None = None) -> None:
        self.encryption = Encryption(at_rest=True, key_owner=owner, key_id=key_id)
        if owner is None:
            self.unknowns["encryption.key_owner"] = why or Msg("collect.not_reported.key_source")

    def finish(self, ctx: Context) -> Resource:
        return self.resource("azure", ctx.source)


def locate(geo: GeoTables, location: Any) -> tuple[Location, str | None]:
    """ARM ``location``: ``global`` and empty both mean non-regional (never a pass)."""
    if not isinstance(location, str) or not location.strip():
        return geo.locate("azure", "global"), Msg("collect.azure.no_location")
    return geo.locate("azure", location), None


def draft(ctx: Context, item: Mapping[str, Any], kind: Kind | None = None) -> Draft:
    resource_id = str(item.get("id") or "")
    arm_type = str(item.get("type") or "")
    location, why = locate(ctx.geo, item.get("location"))
    d = Draft(
        id=resource_id,
        type=arm_type,
        kind=kind or ctx.table.kind_of(arm_type),
        location=location,
        name=item.get("name"),
    )
    if why:
        d.unknowns["region"] = why
    group = resource_group(resource_id)
    d.attributes["subscription"] = ctx.source.account
    if group:
        d.attributes["resource_group"] = group
    return d


def paired_copy(ctx: Context, d: Draft, kind: str, why: str) -> None:
    """A copy in the region's pair, exactly as the Terraform normaliser models it."""
    region = d.location.region
    if region is None or d.location.non_regional:
        d.replicas_unknown(Msg("collect.pair.primary_unknown", why=why))
        return
    pair = ctx.geo.pair("azure", region)
    if pair:
        d.add_replica(kind, ctx.geo.locate("azure", pair), pair)
    elif ctx.geo.has_pair_entry("azure", region):
        d.add_replica(kind, ctx.geo.locate("azure", None), None)
        d.unknowns["replicas"] = Msg("collect.pair.no_pair", why=why, region=region)
    else:
        d.add_replica(kind, ctx.geo.locate("azure", None), None)
        d.unknowns["replicas"] = Msg("collect.pair.pair_not_in_tables", why=why, region=region)


def unresolved(ctx: Context) -> Location:
    """Placeholder location of a copy whose target is resolved after collection."""
    return ctx.geo.locate("azure", None)


# -- inventory ----------------------------------------------------------------------------------


def generic(ctx: Context, item: Mapping[str, Any], why: str | None = None) -> Resource:
    """A resource the inventory lists: residency always; encryption and copies unknown."""
    d = draft(ctx, item)
    if item.get("sku"):
        d.attributes["sku"] = dig(item, "sku", "name")
    if d.kind in DATA_OR_KEY:
        reason = why or Msg("collect.azure.inventory_only", type=d.type)
        if d.kind is not Kind.KEY:
            d.encryption = Encryption(at_rest=None)
            d.unknowns["encryption.at_rest"] = reason
            d.unknowns["encryption.key_owner"] = reason
        d.replicas_unknown(reason)
    return d.finish(ctx)


def data_boundary(ctx: Context, tenant: str, item: Mapping[str, Any]) -> Resource:
    """The tenant's EU Data Boundary setting as a tenant-scoped, non-regional resource."""
    value = dig(item, "properties", "dataBoundary")
    return Resource(
        id=f"/tenants/{tenant}/providers/Microsoft.Resources/dataBoundaries/default",
        provider="azure",
        type="Microsoft.Resources/dataBoundaries",
        kind=Kind.OTHER,
        location=ctx.geo.locate("azure", "global"),
        source=ctx.source,
        name=f"tenant {tenant} data boundary",
        attributes={"tenant_id": tenant, "data_boundary": value if value else "NotDefined"},
    )


# -- services -----------------------------------------------------------------------------------


def storage_account(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.OBJECT_STORAGE)
    p = props(item)
    encryption = p.get("encryption") or {}
    source = str(encryption.get("keySource") or "")
    vault = encryption.get("keyvaultproperties") or {}
    if source.lower() == "microsoft.keyvault":
        key = "/".join(
            str(v).rstrip("/") for v in (vault.get("keyvaulturi"), vault.get("keyname")) if v
        )
        d.key(KeyOwner.CUSTOMER, key or "customer-managed key")
    elif source.lower() == "microsoft.storage":
        d.key(KeyOwner.PROVIDER, "Microsoft-managed key")
    else:
        d.key(None, None, Msg("collect.not_reported.attribute", attribute="encryption.keySource"))
    d.attributes["key_source"] = source or None
    d.attributes["infrastructure_encryption"] = encryption.get("requireInfrastructureEncryption")
    sku = str(dig(item, "sku", "name") or "")
    replication = sku.split("_", 1)[1].upper() if "_" in sku else ""
    d.attributes["sku"] = sku or None
    if replication in GEO_REPLICATION:
        secondary = p.get("secondaryLocation")
        if isinstance(secondary, str) and secondary:
            d.add_replica("geo_pair", ctx.geo.locate("azure", secondary), secondary)
        else:
            paired_copy(
                ctx, d, "geo_pair", Msg("collect.why.geo_replication", replication=replication)
            )
    elif not replication:
        d.replicas_unknown(Msg("collect.not_reported.sku"))
    policies = details.get("object_replication")
    if policies is None:
        d.replicas_unknown(
            Msg(
                "collect.not_readable.object_replication",
                error=details.failure("object_replication") or Msg("collect.not_read"),
            )
        )
    else:
        own = {d.id.lower(), str(d.name or "").lower()}
        for policy in policies:
            pp = props(policy)
            source_account = str(pp.get("sourceAccount") or "").lower()
            destination = pp.get("destinationAccount")
            if source_account in own and isinstance(destination, str):
                d.add_replica("object_replication", unresolved(ctx), destination)
    return [d.finish(ctx)]


def _disk_key(d: Draft, item: Mapping[str, Any]) -> None:
    encryption = props(item).get("encryption") or {}
    kind = str(encryption.get("type") or "")
    des = encryption.get("diskEncryptionSetId")
    d.attributes["encryption_type"] = kind or None
    if kind == "EncryptionAtRestWithPlatformKey":
        d.key(KeyOwner.PROVIDER, "platform key")
    elif kind in (
        "EncryptionAtRestWithCustomerKey",
        "EncryptionAtRestWithPlatformAndCustomerKeys",
        "ConfidentialVmEncryptedWithCustomerKey",
    ):
        d.key(KeyOwner.CUSTOMER, str(des) if des else kind)
    else:
        d.key(None, None, Msg("collect.not_reported.disk_encryption"))


def managed_disk(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.BLOCK_STORAGE)
    _disk_key(d, item)
    return [d.finish(ctx)]


def disk_snapshot(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.BACKUP)
    _disk_key(d, item)
    return [d.finish(ctx)]


def disk_encryption_set(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.KEY)
    p = props(item)
    d.attributes["encryption_type"] = p.get("encryptionType")
    d.attributes["key_url"] = dig(p, "activeKey", "keyUrl")
    return [d.finish(ctx)]


def _tde_protector(details: Details) -> tuple[KeyOwner | None, str | None, str | None]:
    protectors = details.get("encryption_protector")
    if protectors is None:
        why = details.failure("encryption_protector") or Msg("collect.not_read")
        return None, None, Msg("collect.not_readable.tde_protector", error=why)
    for protector in protectors:
        p = props(protector)
        key_type = str(p.get("serverKeyType") or "")
        if key_type == "AzureKeyVault":
            return KeyOwner.CUSTOMER, str(p.get("uri") or p.get("serverKeyName") or key_type), None
        if key_type == "ServiceManaged":
            return KeyOwner.PROVIDER, "service-managed TDE key", None
    return None, None, Msg("collect.not_reported.tde_protector")


def _is_system_database(item: Mapping[str, Any]) -> bool:
    return str(item.get("name")).lower() == "master" or "system" in str(item.get("kind") or "")


def sql_server(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    server = draft(ctx, item, Kind.DATABASE)
    owner, key_id, why = _tde_protector(details)
    server.key(owner, key_id, why)
    groups = details.get("failover_groups")
    links = details.get("replication_links")
    grouped: dict[str, list[tuple[Location, str | None]]] = {}
    if groups is None:
        server.replicas_unknown(
            Msg(
                "collect.not_readable.failover_groups",
                error=details.failure("failover_groups") or Msg("collect.not_read"),
            )
        )
    else:
        for group in groups:
            gp = props(group)
            partners = [
                (locate(ctx.geo, partner.get("location"))[0], partner.get("id"))
                for partner in gp.get("partnerServers") or []
            ]
            for location, target in partners:
                server.add_replica("failover_group", location, target)
            for database in gp.get("databases") or []:
                grouped.setdefault(str(database).lower(), []).extend(partners)
    out = [server.finish(ctx)]
    databases = details.get("databases")
    if databases is None:
        return out  # the inventory's entries stand in for them, with the failure as reason
    for database in databases:
        if _is_system_database(database):
            continue
        out.append(_sql_database(ctx, database, details, owner, key_id, why, links, grouped))
    return out


def _sql_database(
    ctx: Context,
    item: dict[str, Any],
    details: Details,
    owner: KeyOwner | None,
    key_id: str | None,
    why: str | None,
    links: list[dict[str, Any]] | None,
    grouped: Mapping[str, list[tuple[Location, str | None]]],
) -> Resource:
    d = draft(ctx, item, Kind.DATABASE)
    p = props(item)
    name = str(item.get("name") or "")
    tde = details.child("transparent_data_encryption", name)
    if tde is None:
        failure = details.failure("transparent_data_encryption", name) or Msg("collect.not_read")
        d.encryption = Encryption(at_rest=None)
        d.unknowns["encryption.at_rest"] = Msg("collect.not_readable.tde_state", error=failure)
        d.unknowns["encryption.key_owner"] = d.unknowns["encryption.at_rest"]
    elif any(str(props(t).get("state")) == "Enabled" for t in tde):
        d.key(owner, key_id, why)
    elif tde:
        d.encryption = Encryption(at_rest=False)
        d.unknowns["encryption.key_owner"] = Msg("collect.not_encrypted")
    else:
        d.encryption = Encryption(at_rest=None)
        d.unknowns["encryption.at_rest"] = Msg("collect.not_reported.tde_state")
    redundancy = p.get("currentBackupStorageRedundancy") or p.get(
        "requestedBackupStorageRedundancy"
    )
    d.attributes["backup_storage_redundancy"] = redundancy
    if str(redundancy or "").lower() in GEO_BACKUP:
        paired_copy(
            ctx, d, "geo_backup", Msg("collect.why.backup_storage", storage=str(redundancy))
        )
    if links is None:
        d.replicas_unknown(
            Msg(
                "collect.not_readable.replication_links",
                error=details.failure("replication_links") or Msg("collect.not_read"),
            )
        )
    else:
        own = d.id.lower()
        for link in links:
            match = _SQL_DATABASE.search(str(link.get("id") or ""))
            if not match or match.group(1).lower() != own:
                continue
            lp = props(link)
            partner = "/".join(
                str(v) for v in (lp.get("partnerServer"), lp.get("partnerDatabase")) if v
            )
            d.add_replica(
                "geo_replica", locate(ctx.geo, lp.get("partnerLocation"))[0], partner or None
            )
    for location, target in grouped.get(d.id.lower(), []):
        d.add_replica("failover_group", location, target)
    return d.finish(ctx)


def flexible_server(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    """PostgreSQL and MySQL flexible servers share the shape that matters here."""
    d = draft(ctx, item, Kind.DATABASE)
    p = props(item)
    encryption = p.get("dataEncryption") or {}
    if str(encryption.get("type") or "") == "AzureKeyVault":
        key = encryption.get("primaryKeyURI") or encryption.get("primaryKeyUri")
        d.key(KeyOwner.CUSTOMER, str(key) if key else "customer-managed key")
    else:
        d.key(KeyOwner.PROVIDER, "system-managed key")
    geo_backup = dig(p, "backup", "geoRedundantBackup")
    d.attributes["geo_redundant_backup"] = geo_backup
    if str(geo_backup or "") == "Enabled":
        paired_copy(ctx, d, "geo_backup", Msg("collect.why.geo_backup"))
    own = d.id.lower()
    for sibling in ctx.siblings:
        if str(props(sibling).get("sourceServerResourceId") or "").lower() == own:
            location = locate(ctx.geo, sibling.get("location"))[0]
            d.add_replica("read_replica", location, sibling.get("id"))
    return [d.finish(ctx)]


def cosmosdb_account(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.DATABASE)
    p = props(item)
    key = p.get("keyVaultKeyUri")
    if key:
        d.key(KeyOwner.CUSTOMER, str(key))
    else:
        d.key(KeyOwner.PROVIDER, "service-managed key")
    own = d.location.region
    for entry in p.get("locations") or []:
        location = locate(ctx.geo, entry.get("locationName"))[0]
        if location.region != own:
            d.add_replica("geo_location", location, entry.get("locationName"))
    backup = p.get("backupPolicy") or {}
    redundancy = dig(backup, "periodicModeProperties", "backupStorageRedundancy")
    if str(redundancy or "").lower() == "geo":
        paired_copy(ctx, d, "geo_backup", Msg("collect.why.backup_geo"))
    return [d.finish(ctx)]


def key_vault(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.KEY)
    d.attributes["sku"] = dig(item, "properties", "sku", "name")
    paired_copy(ctx, d, "service_dr_pair", Msg("collect.why.service_dr"))
    return [d.finish(ctx)]


def recovery_services_vault(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.BACKUP)
    p = props(item)
    key = dig(p, "encryption", "keyVaultProperties", "keyUri")
    d.key(KeyOwner.CUSTOMER, str(key)) if key else d.key(KeyOwner.PROVIDER, "platform key")
    settings = p.get("redundancySettings") or {}
    mode = settings.get("standardTierStorageRedundancy")
    d.attributes["storage_redundancy"] = mode
    d.attributes["cross_region_restore"] = settings.get("crossRegionRestore")
    if mode == "GeoRedundant":
        paired_copy(ctx, d, "geo_backup", Msg("collect.why.vault_storage"))
    elif not mode:
        d.replicas_unknown(Msg("collect.not_reported.vault_redundancy"))
    return [d.finish(ctx)]


def backup_vault(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    d = draft(ctx, item, Kind.BACKUP)
    p = props(item)
    settings = dig(p, "securitySettings", "encryptionSettings") or {}
    key = dig(settings, "keyVaultProperties", "keyUri")
    if settings.get("state") == "Enabled" and key:
        d.key(KeyOwner.CUSTOMER, str(key))
    else:
        d.key(KeyOwner.PROVIDER, "platform key")
    storage = p.get("storageSettings") or []
    types = [str(s.get("type")) for s in storage if isinstance(s, Mapping)]
    d.attributes["storage_redundancy"] = types
    d.attributes["cross_region_restore"] = dig(
        p, "featureSettings", "crossRegionRestoreSettings", "state"
    )
    if "GeoRedundant" in types:
        paired_copy(ctx, d, "geo_backup", Msg("collect.why.vault_redundancy"))
    elif not types:
        d.replicas_unknown(Msg("collect.not_reported.vault_settings"))
    return [d.finish(ctx)]


Normaliser = Callable[[Context, dict[str, Any], Details], list[Resource]]


def _volume(parent: Draft, suffix: str, name: str) -> Draft:
    """A volume of ``parent`` (a scale set's OS disk), judged as block storage of its own."""
    return Draft(
        id=f"{parent.id}/{suffix}",
        type=parent.type,
        kind=Kind.BLOCK_STORAGE,
        location=parent.location,
        name=f"{parent.name} {name}",
        unknowns={k: v for k, v in parent.unknowns.items() if k == "region"},
        attributes={**parent.attributes, "volume": name},
    )


def _disk_set_key(d: Draft, des: Any) -> None:
    """A managed disk: always encrypted; a disk encryption set names a customer key."""
    if des:
        d.key(KeyOwner.CUSTOMER, str(des))
    else:
        d.key(KeyOwner.PROVIDER, "platform key")
        d.notes["encryption.at_rest"] = VM_DISK_NOTE


def _temp_disks(parent: Draft, suffix: str, name: str, at_host: Any) -> Draft:
    """Temp disks: encrypted at rest only with encryption at host."""
    temp = _volume(parent, suffix, name)
    if at_host is True:
        temp.key(KeyOwner.PROVIDER, "platform key (encryption at host)")
    else:
        temp.encryption = Encryption(at_rest=None)
        temp.unknowns["encryption.at_rest"] = TEMP_DISK_REASON
    return temp


VM_DISK_NOTE = Msg("collect.azure.vm_disk")
TEMP_DISK_REASON = Msg("collect.azure.temp_disk")


def scale_set(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    """A VM scale set and the volumes of its instances: OS disk, data disks, temp disk."""
    d = draft(ctx, item, Kind.COMPUTE)
    profile = props(item).get("virtualMachineProfile") or {}
    storage = profile.get("storageProfile") or {}
    out = [d]
    os_disk = storage.get("osDisk")
    if isinstance(os_disk, Mapping):
        volume = _volume(d, "osDisk", "OS disk")
        _disk_set_key(volume, dig(os_disk, "managedDisk", "diskEncryptionSet", "id"))
        out.append(volume)
    for disk in storage.get("dataDisks") or ():
        if isinstance(disk, Mapping):
            lun = disk.get("lun")
            volume = _volume(d, f"dataDisks/{lun}", f"data disk {lun}")
            _disk_set_key(volume, dig(disk, "managedDisk", "diskEncryptionSet", "id"))
            out.append(volume)
    at_host = dig(profile, "securityProfile", "encryptionAtHost")
    out.append(_temp_disks(d, "tempDisk", "temp disk", at_host))
    return [x.finish(ctx) for x in out]


REDIS_NOTE = Msg("collect.azure.redis")


def redis_cache(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    """A cache: always encrypted with Microsoft's keys; linked (geo-replicated) caches are
    copies wherever they are."""
    d = draft(ctx, item, Kind.DATABASE)
    d.key(KeyOwner.PROVIDER, "Microsoft-managed key")
    d.notes["encryption.at_rest"] = REDIS_NOTE
    p = props(item)
    d.attributes["sku"] = dig(p, "sku", "name") or dig(item, "sku", "name")
    for linked in p.get("linkedServers") or ():
        target = linked.get("id") if isinstance(linked, Mapping) else None
        if isinstance(target, str) and target:
            d.add_replica("geo_replication", unresolved(ctx), target)
    return [d.finish(ctx)]


def kubernetes_cluster(ctx: Context, item: dict[str, Any], details: Details) -> list[Resource]:
    """An AKS cluster and the volumes of its nodes: OS disks (its disk encryption set) and
    each pool's temp disks (encryption at host)."""
    d = draft(ctx, item, Kind.COMPUTE)
    p = props(item)
    disks = _volume(d, "nodeOsDisks", "node OS disks")
    _disk_set_key(disks, p.get("diskEncryptionSetID"))
    out = [d, disks]
    for pool in p.get("agentPoolProfiles") or ():
        if not isinstance(pool, Mapping):
            continue
        name = pool.get("name")
        at_host = pool.get("enableEncryptionAtHost")
        out.append(_temp_disks(d, f"agentPools/{name}/tempDisks", f"{name} temp disks", at_host))
    return [x.finish(ctx) for x in out]


NORMALISERS: Mapping[str, Normaliser] = {
    "storage_account": storage_account,
    "managed_disk": managed_disk,
    "disk_snapshot": disk_snapshot,
    "disk_encryption_set": disk_encryption_set,
    "scale_set": scale_set,
    "redis_cache": redis_cache,
    "kubernetes_cluster": kubernetes_cluster,
    "sql_server": sql_server,
    "flexible_server": flexible_server,
    "cosmosdb_account": cosmosdb_account,
    "key_vault": key_vault,
    "recovery_services_vault": recovery_services_vault,
    "backup_vault": backup_vault,
}
