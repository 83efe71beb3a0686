"""Google Cloud facts of Terraform ``google_*`` resources.

The per-type facts (which attribute locates a resource, which hold its customer-managed key)
are the ``google`` section of ``data/types.yaml``; this module reads them and holds the rules
that span attributes or resources: default encryption, multi- and dual-regions, Cloud SQL read
replicas and backups, Spanner configurations, Bigtable clusters, Pub/Sub and Secret Manager
replication. :mod:`normalise` calls :func:`locate` and :data:`RULES` for google types.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

# normalise imports this module only inside functions (when a google type is normalised).
from hds_audit.collectors.terraform.facts import encryption
from hds_audit.collectors.terraform.normalise import Draft, Normaliser, _is_unknown, get_path
from hds_audit.datafile import package_yaml
from hds_audit.geo import Location
from hds_audit.i18n import Msg
from hds_audit.model import Encryption, KeyOwner, Kind
from hds_audit.secrets import REDACTED

if TYPE_CHECKING:
    from hds_audit.collectors.terraform.documents import TfInstance

_INDEX = re.compile(r"\.\d+(?=\.|$)")
# Self links and resource names carry their place: .../zones/europe-west9-a, .../locations/eu
_PLACE_IN_NAME = re.compile(r"/(?:zones|regions|locations)/([^/]+)")
_KEY_REFERENCES = ("google_kms_crypto_key.", "google_kms_crypto_key_version.")


@dataclass(frozen=True, slots=True)
class GoogleType:
    """How one ``google_*`` type is located and where its key is written."""

    location: str | None = None
    parent_type: str | None = None
    parent_on: str | None = None
    parent_key: str | None = None
    cmek: tuple[str, ...] = ()
    csek: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GoogleFacts:
    """The google section of ``data/types.yaml`` and the facts that go with it."""

    types: Mapping[str, GoogleType]
    default_key_id: str
    spanner_configs: Mapping[str, tuple[str, ...]]

    def of(self, rtype: str) -> GoogleType:
        return self.types.get(rtype) or _PLAIN


_PLAIN = GoogleType()


@cache
def google_facts() -> GoogleFacts:
    """Load the google section of ``data/types.yaml`` once."""
    data = package_yaml("hds_audit.collectors.terraform", "data/types.yaml")
    types: dict[str, GoogleType] = {}
    for rtype, entry in (data.get("google") or {}).items():
        parent = entry.get("parent") or {}
        types[rtype] = GoogleType(
            location=entry.get("location"),
            parent_type=parent.get("type"),
            parent_on=parent.get("join"),
            parent_key=parent.get("key"),
            cmek=tuple(entry.get("cmek") or ()),
            csek=tuple(entry.get("csek") or ()),
        )
    default = data.get("google_default_encryption") or {}
    configs = {
        str(code).lower(): tuple(str(m) for m in (row or {}).get("members") or ())
        for code, row in (data.get("google_spanner_configs") or {}).items()
    }
    source = default.get("source")
    key_id = str(default.get("key_id") or "Google default encryption")
    return GoogleFacts(types, f"{key_id}; {source}" if source else key_id, configs)


@cache
def _default_encryption() -> Encryption:
    """Google default encryption: one instance for every resource that has no CMEK or CSEK."""
    return Encryption(True, KeyOwner.PROVIDER, google_facts().default_key_id)


def place_of(value: Any) -> str | None:
    """The location code in an attribute: ``EU``, ``europe-west9-a`` or a self link / name."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    match = _PLACE_IN_NAME.search(value)
    if match:
        return match.group(1)
    return value.rsplit("/", 1)[-1].strip() or None


def _get(inst: TfInstance, path: str) -> Any:
    return get_path(inst.attributes, path)


def _unknown(inst: TfInstance, path: str) -> bool:
    return _is_unknown(inst, path)


def locate(n: Normaliser, inst: TfInstance) -> tuple[Location, str | None]:
    """Where a google resource is, and why not when that is unknown."""
    spec = google_facts().of(inst.type)
    if spec.parent_type and spec.parent_on:
        return _locate_by_parent(n, inst, spec)
    if spec.location is None:
        region = place_of(inst.attributes.get("region")) or inst.provider_region
        if region:
            return n.geo.locate("gcp", region), None
        return n.geo.locate("gcp", None), Msg("collect.no_region")
    if inst.type == "google_spanner_instance":
        return _locate_spanner(n, inst)
    place = place_of(_get(inst, spec.location))
    if place:
        return n.geo.locate("gcp", place), None
    if _unknown(inst, spec.location):
        return n.geo.locate("gcp", None), Msg("collect.after_apply", attribute=spec.location)
    if spec.location == "storage_locations":
        return n.geo.locate("gcp", None), Msg("collect.gcp.storage_locations")
    if spec.location.startswith("message_storage_policy"):
        return n.geo.locate("gcp", None), Msg("collect.gcp.pubsub")
    if spec.location.startswith("replication."):
        return n.geo.locate("gcp", None), Msg("collect.gcp.secret_replication")
    if spec.location == "region" and inst.provider_region:
        return n.geo.locate("gcp", inst.provider_region), None
    return n.geo.locate("gcp", None), Msg("collect.gcp.no_location", attribute=spec.location)


def _locate_by_parent(
    n: Normaliser, inst: TfInstance, spec: GoogleType
) -> tuple[Location, str | None]:
    assert spec.parent_type is not None and spec.parent_on is not None
    value = place_of(inst.attributes.get(spec.parent_on))
    parents = n.where(spec.parent_type, spec.parent_key or spec.parent_on, value)
    parents = parents or n.index.referenced(inst, spec.parent_on)
    if parents and parents[0].address != inst.address:
        return n.locate(parents[0])
    return n.geo.locate("gcp", None), Msg("collect.parent_missing", attribute=spec.parent_on)


def _locate_spanner(n: Normaliser, inst: TfInstance) -> tuple[Location, str | None]:
    config = place_of(inst.attributes.get("config"))
    if not config:
        if _unknown(inst, "config"):
            return n.geo.locate("gcp", None), Msg("collect.after_apply", attribute="config")
        return n.geo.locate("gcp", None), Msg("collect.gcp.no_config")
    code = config.lower()
    if code.startswith("regional-"):
        return n.geo.locate("gcp", code.removeprefix("regional-")), None
    members = google_facts().spanner_configs.get(code)
    if members:
        return n.geo.locate("gcp", members[0]), None
    return n.geo.locate("gcp", None), Msg("collect.gcp.spanner_config", config=repr(config))


# ---------------------------------------------------------------------------------------------
# rules


def _key_reference(inst: TfInstance, path: str) -> str | None:
    for reference in inst.references.get(_INDEX.sub("", path), ()):
        if any(part in reference for part in _KEY_REFERENCES):
            return reference
    return None


def rule_encryption(n: Normaliser, d: Draft) -> None:
    """Always encrypted at rest; the key is the customer's when a CMEK or CSEK is set."""
    inst = d.inst
    spec = google_facts().of(inst.type)
    for path in spec.csek:
        if _get(inst, path):
            d.encryption = Encryption(True, KeyOwner.CUSTOMER, "customer-supplied key (CSEK)")
            return
    for path in (*spec.csek, *spec.cmek):
        if inst.attributes.get(path.split(".", 1)[0]) == REDACTED:
            # The whole key block was marked sensitive: it holds a key the customer gave.
            d.encryption = Encryption(True, KeyOwner.CUSTOMER, "customer key (marked sensitive)")
            return
    for path in spec.cmek:
        key = _get(inst, path)
        if isinstance(key, str) and key:
            d.encryption = Encryption(True, KeyOwner.CUSTOMER, key)
            return
        if _unknown(inst, path):
            reference = _key_reference(inst, path)
            if reference is None:
                d.encryption = encryption(True, None)
                d.unknowns["encryption.key_owner"] = Msg("collect.after_apply", attribute=path)
            else:
                d.encryption = Encryption(True, KeyOwner.CUSTOMER, reference)
            return
    d.encryption = _default_encryption()


def rule_gcs_bucket(n: Normaliser, d: Draft) -> None:
    """A custom dual-region (``custom_placement_config``) stores a copy in each data location."""
    places = _get(d.inst, "custom_placement_config.0.data_locations")
    if isinstance(places, list):
        for place in places:
            code = place_of(place)
            location = n.geo.locate("gcp", code)
            if location.region != d.location.region:
                d.add_replica("dual_region", location, code)


def rule_storage_locations(n: Normaliser, d: Draft) -> None:
    places = d.inst.attributes.get("storage_locations")
    if isinstance(places, list):
        for place in places[1:]:
            d.add_replica("storage_location", n.geo.locate("gcp", place_of(place)), str(place))


def rule_cloud_sql_instance(n: Normaliser, d: Draft) -> None:
    """Read replicas name their primary (``master_instance_name``); backups have a location."""
    attrs = d.inst.attributes
    for other in n.joined(
        "google_sql_database_instance",
        "master_instance_name",
        d.inst,
        attrs.get("name"),
        key=_instance_name,
    ):
        if other.address != d.inst.address:
            d.add_replica("read_replica", n.locate(other)[0], other.address)
    backup = "settings.0.backup_configuration.0"
    if _unknown(d.inst, f"{backup}.location"):
        d.replicas_unknown(Msg("collect.gcp.backup_location_after_apply"))
        return
    if _get(d.inst, f"{backup}.enabled") is not True:
        return
    place = place_of(_get(d.inst, f"{backup}.location"))
    if place:
        d.add_replica("backup", n.geo.locate("gcp", place), place)
    else:
        d.add_replica("backup", n.geo.locate("gcp", None), None)
        d.unknowns["replicas"] = Msg("collect.gcp.sql_backup_tf")


def _instance_name(value: Any) -> Any:
    """``project:instance`` and ``instance`` name the same Cloud SQL instance."""
    return value.rsplit(":", 1)[-1] if isinstance(value, str) else value


def rule_bigquery_dataset(n: Normaliser, d: Draft) -> None:
    """A cross-region dataset copy (Data Transfer ``cross_region_copy``) is a replica."""
    dataset = d.inst.attributes.get("dataset_id")
    if not dataset:
        return
    for config in n.index.of_type("google_bigquery_data_transfer_config"):
        attrs = config.attributes
        params = attrs.get("params")
        if not isinstance(params, dict) or attrs.get("data_source_id") != "cross_region_copy":
            continue
        if params.get("source_dataset_id") == dataset:
            target = attrs.get("destination_dataset_id")
            copies = n.where("google_bigquery_dataset", "dataset_id", target)
            location = n.locate(copies[0])[0] if copies else n.locate(config)[0]
            d.add_replica("dataset_copy", location, config.address)


def rule_bigtable_clusters(n: Normaliser, d: Draft) -> None:
    """Each cluster after the first holds a replicated copy; each may have its own key."""
    clusters = d.inst.attributes.get("cluster")
    if not isinstance(clusters, list):
        return
    for cluster in clusters[1:]:
        if isinstance(cluster, dict):
            zone = place_of(cluster.get("zone"))
            d.add_replica("cluster", n.geo.locate("gcp", zone), cluster.get("cluster_id"))


def rule_spanner_config(n: Normaliser, d: Draft) -> None:
    config = str(place_of(d.inst.attributes.get("config")) or "").lower()
    for member in google_facts().spanner_configs.get(config, ())[1:]:
        d.add_replica("spanner_replica", n.geo.locate("gcp", member), member)


def rule_pubsub_regions(n: Normaliser, d: Draft) -> None:
    regions = _get(d.inst, "message_storage_policy.0.allowed_persistence_regions")
    if isinstance(regions, list):
        for region in regions[1:]:
            d.add_replica("allowed_region", n.geo.locate("gcp", place_of(region)), str(region))


def rule_alloydb_backups(n: Normaliser, d: Draft) -> None:
    place = place_of(_get(d.inst, "automated_backup_policy.0.location"))
    if place:
        d.add_replica("backup", n.geo.locate("gcp", place), place)


def rule_secret_replication(n: Normaliser, d: Draft) -> None:
    replicas = _get(d.inst, "replication.0.user_managed.0.replicas")
    if isinstance(replicas, list):
        for replica in replicas[1:]:
            if isinstance(replica, dict):
                place = place_of(replica.get("location"))
                d.add_replica("replication", n.geo.locate("gcp", place), place)
    elif d.location.region is None:
        d.replicas_unknown(d.unknowns.get("region") or Msg("collect.gcp.replication_regions"))


def rule_instance_disks(n: Normaliser, d: Draft) -> None:
    """A boot disk created with the VM (``initialize_params``) is judged as block storage of
    its own; one attached from a ``source`` disk is judged as that google_compute_disk."""
    boot = _get(d.inst, "boot_disk.0")
    if not isinstance(boot, dict) or not boot.get("initialize_params"):
        return
    sub = Draft(inst=d.inst, spec=d.spec, location=d.location, unknowns=dict(d.unknowns))
    if boot.get("disk_encryption_key_raw"):
        sub.encryption = Encryption(True, KeyOwner.CUSTOMER, "customer-supplied key (CSEK)")
    elif isinstance(boot.get("kms_key_self_link"), str) and boot["kms_key_self_link"]:
        sub.encryption = Encryption(True, KeyOwner.CUSTOMER, boot["kms_key_self_link"])
    elif _unknown(d.inst, "boot_disk.0.kms_key_self_link"):
        sub.encryption = encryption(True, None)
        sub.unknowns["encryption.key_owner"] = (
            "boot_disk.0.kms_key_self_link known only after apply"
        )
    else:
        sub.encryption = _default_encryption()
    d.extra.append(
        n.finish(sub, resource_id=f"{d.inst.address}.boot_disk", kind=Kind.BLOCK_STORAGE)
    )


Rule = Callable[[Normaliser, Draft], None]

RULES: Mapping[str, Rule] = {
    "gcp_encryption": rule_encryption,
    "gcs_bucket": rule_gcs_bucket,
    "gcp_storage_locations": rule_storage_locations,
    "cloud_sql_instance": rule_cloud_sql_instance,
    "bigquery_dataset": rule_bigquery_dataset,
    "bigtable_clusters": rule_bigtable_clusters,
    "spanner_config": rule_spanner_config,
    "pubsub_regions": rule_pubsub_regions,
    "alloydb_backups": rule_alloydb_backups,
    "secret_replication": rule_secret_replication,
    "gcp_instance_disks": rule_instance_disks,
}
