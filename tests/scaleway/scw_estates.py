"""The planted Scaleway estate the tests audit: an organisation of three projects (one denied),
items named for their expected verdicts, one zone that fails (nl-ams-2)."""

from __future__ import annotations

from typing import Any

from api_server import ScalewayEstate

ACCESS_KEY = "SCW0123456789ABCDEFG"
SECRET_KEY = "6d3f1c2a-8b7e-4c1d-9e2f-0a1b2c3d4e5f"
ORG = "0c1f6a52-3d4b-4a8e-9f10-aa0000000001"
ALPHA = "1a2b3c4d-0000-4000-8000-00000000a1fa"
BETA = "1a2b3c4d-0000-4000-8000-00000000be7a"
GAMMA = "1a2b3c4d-0000-4000-8000-0000000069aa"
FAILING_ZONE = "nl-ams-2"
KMS_KEY = "2f7e9b10-0000-4000-8000-00000000c0de"
STAMP = "2026-11-02T08:00:00Z"
SERVERS = 5  # in ALPHA fr-par-1, more than a page of the planted estate (page_size 2)


def _uuid(n: int) -> str:
    return f"9e000000-0000-4000-8000-{n:012d}"


class Builder:
    """Adds API-shaped items to an estate (field names as in the Scaleway REST APIs)."""

    def __init__(self, estate: ScalewayEstate) -> None:
        self.estate = estate
        self.count = 0

    def _id(self) -> str:
        self.count += 1
        return _uuid(self.count)

    def server(self, project: str, zone: str, name: str) -> dict[str, Any]:
        sid, vid = self._id(), self._id()
        volume = {
            "id": vid,
            "name": f"{name}-root",
            "volume_type": "l_ssd",
            "zone": zone,
            "boot": True,
            "size": 20_000_000_000,
            "state": "available",
        }
        return self.estate.add(
            f"/instance/v1/zones/{zone}/servers",
            {
                "id": sid,
                "name": name,
                "organization": ORG,
                "project": project,
                "zone": zone,
                "state": "running",
                "commercial_type": "DEV1-S",
                "arch": "x86_64",
                "boot_type": "local",
                "tags": [],
                "volumes": {"0": volume},
                "hostname": name,
                "creation_date": STAMP,
                "modification_date": STAMP,
            },
        )

    def instance_volume(self, project: str, zone: str, name: str, kind: str = "l_ssd") -> None:
        self.estate.add(
            f"/instance/v1/zones/{zone}/volumes",
            {
                "id": self._id(),
                "name": name,
                "size": 20_000_000_000,
                "volume_type": kind,
                "organization": ORG,
                "project": project,
                "tags": [],
                "state": "available",
                "zone": zone,
                "creation_date": STAMP,
            },
        )

    def block_volume(self, project: str, zone: str, name: str, kms: str | None = None) -> None:
        self.estate.add(
            f"/block/v1/zones/{zone}/volumes",
            {
                "id": self._id(),
                "name": name,
                "type": "sbs_5k",
                "size": 10_000_000_000,
                "project_id": project,
                "references": [],
                "status": "available",
                "tags": [],
                "zone": zone,
                "created_at": STAMP,
                "specs": {"class": "sbs", "perf_iops": 5000},
                "kms_key_id": kms,
            },
        )

    def block_snapshot(self, project: str, zone: str, name: str) -> None:
        self.estate.add(
            f"/block/v1/zones/{zone}/snapshots",
            {
                "id": self._id(),
                "name": name,
                "size": 10_000_000_000,
                "project_id": project,
                "references": [],
                "status": "available",
                "tags": [],
                "zone": zone,
                "class": "sbs",
                "public": False,
                "created_at": STAMP,
            },
        )

    def database(
        self,
        project: str,
        region: str,
        name: str,
        *,
        encrypted: bool | None,
        same_region_backups: bool = True,
        replicas: tuple[str, ...] = (),
        snapshots: tuple[str, ...] = (),
    ) -> None:
        iid = self._id()
        item: dict[str, Any] = {
            "id": iid,
            "name": name,
            "region": region,
            "organization_id": ORG,
            "project_id": project,
            "status": "ready",
            "engine": "PostgreSQL-16",
            "tags": [],
            "settings": [],
            "init_settings": [],
            "is_ha_cluster": False,
            "node_type": "db-dev-s",
            "endpoints": [],
            "maintenances": [],
            "upgradable_version": [],
            "backup_same_region": same_region_backups,
            "backup_schedule": {"frequency": 24, "retention": 7, "disabled": False},
            "read_replicas": [
                {
                    "id": self._id(),
                    "endpoints": [],
                    "status": "ready",
                    "region": where,
                    "same_zone": False,
                    "instance_id": iid,
                }
                for where in replicas
            ],
            "created_at": STAMP,
        }
        if encrypted is not None:
            item["encryption"] = {"enabled": encrypted}
        self.estate.add(f"/rdb/v1/regions/{region}/instances", item)
        for where in snapshots:
            self.estate.add(
                f"/rdb/v1/regions/{where}/snapshots",
                {
                    "id": self._id(),
                    "instance_id": iid,
                    "name": f"{name}-snap",
                    "status": "ready",
                    "instance_name": name,
                    "node_type": "db-dev-s",
                    "region": where,
                    "size": 1_000_000,
                    "created_at": STAMP,
                    "project_id": project,
                },
            )

    def cluster(self, project: str, region: str, name: str) -> None:
        self.estate.add(
            f"/k8s/v1/regions/{region}/clusters",
            {
                "id": self._id(),
                "type": "kapsule",
                "name": name,
                "status": "ready",
                "version": "1.31.2",
                "region": region,
                "organization_id": ORG,
                "project_id": project,
                "tags": [],
                "cni": "cilium",
                "description": "",
                "cluster_url": "",
                "dns_wildcard": "",
                "upgrade_available": False,
                "feature_gates": [],
                "admission_plugins": [],
                "apiserver_cert_sans": [],
                "iam_nodes_group_id": "",
                "pod_cidr": "",
                "service_cidr": "",
                "service_dns_ip": "",
                "created_at": STAMP,
            },
        )

    def namespace(self, project: str, region: str, name: str) -> None:
        self.estate.add(
            f"/registry/v1/regions/{region}/namespaces",
            {
                "id": self._id(),
                "name": name,
                "description": "",
                "organization_id": ORG,
                "project_id": project,
                "status": "ready",
                "status_message": "",
                "endpoint": f"rg.{region}.scw.cloud/{name}",
                "is_public": False,
                "size": 0,
                "image_count": 0,
                "region": region,
                "created_at": STAMP,
            },
        )


def planted() -> ScalewayEstate:
    estate = ScalewayEstate(secret_key=SECRET_KEY, page_size=2)
    estate.project(ALPHA, "alpha-hds", ORG)
    estate.project(BETA, "beta-denied", ORG)
    estate.project(GAMMA, "gamma-waw", ORG)
    estate.denied_projects.add(BETA)
    estate.failing_localities.add(FAILING_ZONE)
    b = Builder(estate)
    for i in range(SERVERS):
        b.server(ALPHA, "fr-par-1", f"web{i}")
    b.instance_volume(ALPHA, "fr-par-1", "unknown_local_volume")
    b.instance_volume(ALPHA, "fr-par-1", "skipped_sbs_twin", kind="sbs_volume")
    b.block_volume(ALPHA, "fr-par-1", "pass_kms_volume", kms=KMS_KEY)
    b.block_volume(ALPHA, "fr-par-2", "unknown_block_volume")
    b.block_snapshot(ALPHA, "nl-ams-1", "unknown_block_snapshot")
    b.database(
        ALPHA, "fr-par", "pass_db", encrypted=True, replicas=("fr-par",), snapshots=("fr-par",)
    )
    b.database(ALPHA, "fr-par", "fail_unencrypted_db", encrypted=False)
    b.database(ALPHA, "nl-ams", "unknown_backups_db", encrypted=True, same_region_backups=False)
    b.cluster(ALPHA, "fr-par", "k8s-prod")
    b.namespace(ALPHA, "nl-ams", "images")
    b.server(GAMMA, "pl-waw-1", "waw-app")
    b.database(GAMMA, "pl-waw", "waw_db", encrypted=True)
    # hidden behind the denied project and the failing zone: never returned
    b.server(BETA, "fr-par-1", "beta-web")
    b.block_volume(ALPHA, FAILING_ZONE, "hidden_in_failing_zone")
    return estate


#: Resources the planted estate yields for ALPHA and GAMMA (names), buckets aside.
ALPHA_NAMES = {
    *(f"web{i}" for i in range(SERVERS)),
    "unknown_local_volume",
    "pass_kms_volume",
    "unknown_block_volume",
    "unknown_block_snapshot",
    "pass_db",
    "fail_unencrypted_db",
    "unknown_backups_db",
    "k8s-prod",
    "images",
}
GAMMA_NAMES = {"waw-app", "waw_db"}


def bench_estate(projects: int, resources: int, latency: float) -> ScalewayEstate:
    """``projects`` projects of one organisation holding ``resources`` items spread over every
    zone and region and service; every call answers after ``latency`` seconds."""
    estate = ScalewayEstate(secret_key=SECRET_KEY, latency=latency)
    ids = [f"5ca1e000-0000-4000-8000-{n:012d}" for n in range(projects)]
    for n, project in enumerate(ids):
        estate.project(project, f"bench-{n}", ORG)
    b = Builder(estate)
    zones = [f"{r}-{i}" for r in ("fr-par", "nl-ams", "pl-waw") for i in (1, 2, 3)]
    regions = ["fr-par", "nl-ams", "pl-waw"]
    makers = (
        lambda p, i: b.server(p, zones[i % 9], f"srv{i}"),
        lambda p, i: b.instance_volume(p, zones[i % 9], f"vol{i}"),
        lambda p, i: b.block_volume(p, zones[i % 9], f"sbs{i}", kms=KMS_KEY if i % 2 else None),
        lambda p, i: b.block_snapshot(p, zones[i % 9], f"snap{i}"),
        lambda p, i: b.database(
            p, regions[i % 3], f"db{i}", encrypted=True, snapshots=(regions[i % 3],)
        ),
        lambda p, i: b.cluster(p, regions[i % 3], f"k8s{i}"),
        lambda p, i: b.namespace(p, regions[i % 3], f"ns{i}"),
    )
    for i in range(resources):
        makers[i % len(makers)](ids[i % projects], i)
    return estate
