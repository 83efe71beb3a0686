"""Issue 15 live on Azure: VM scale sets and the volumes of their instances, read through the
real azure-mgmt-compute client from the loopback ARM server."""

from __future__ import annotations

from arm_server import ArmEstate, StaticCredential, serve
from azure_estates import PROD, RG
from conftest import loopback_cloud

from hds_audit.collectors.azure import AzureCollector
from hds_audit.collectors.azure.table import azure_table
from hds_audit.geo import GeoTables
from hds_audit.model import KeyOwner, Kind

GEO = GeoTables.default()
DES = (
    f"/subscriptions/{PROD}/resourceGroups/{RG}/providers/Microsoft.Compute/diskEncryptionSets/des"
)


def test_scale_sets_judge_their_instances_volumes() -> None:
    e = ArmEstate()
    e.subscription(PROD, "hds-prod")
    e.resource_group(PROD, RG, "francecentral")
    cmk = e.scale_set(
        PROD, RG, "web", "francecentral", des=DES, data_luns=(0, 1), encryption_at_host=True
    )
    plain = e.scale_set(PROD, RG, "batch", "westeurope")
    with serve(e) as (server, ca):
        result = AzureCollector(
            cloud=loopback_cloud(server), credential=StaticCredential(), connection_verify=ca
        ).collect(GEO)
        paths = [r.path.lower() for r in server.requests()]
    assert result.errors == []
    found = {r.id: r for r in result.resources}
    scale_set = found[cmk]
    assert (
        scale_set.kind is Kind.COMPUTE
        and scale_set.type == "Microsoft.Compute/virtualMachineScaleSets"
    )
    for volume in ("osDisk", "dataDisks/0", "dataDisks/1"):
        disk = found[f"{cmk}/{volume}"]
        assert disk.kind is Kind.BLOCK_STORAGE and disk.region == "francecentral"
        assert disk.encryption is not None
        assert (disk.encryption.at_rest, disk.encryption.key_owner) == (True, KeyOwner.CUSTOMER)
    assert found[f"{cmk}/tempDisk"].encryption.at_rest is True  # type: ignore[union-attr]
    os_disk = found[f"{plain}/osDisk"]
    assert os_disk.encryption is not None and os_disk.encryption.key_owner is KeyOwner.PROVIDER
    assert "platform-managed keys" in os_disk.notes["encryption.at_rest"]
    temp = found[f"{plain}/tempDisk"]
    assert temp.encryption is not None and temp.encryption.at_rest is None
    assert "encryption at host" in temp.unknowns["encryption.at_rest"]
    assert f"/subscriptions/{PROD}/providers/microsoft.compute/virtualmachinescalesets" in paths
    # One inventory entry per scale set is replaced by the service's reading, not doubled.
    assert sum(1 for r in result.resources if r.id == cmk) == 1


def test_permissions_name_the_scale_set_read_action() -> None:
    assert "Microsoft.Compute/virtualMachineScaleSets/read" in azure_table().actions()


def test_redis_caches_and_aks_clusters() -> None:
    e = ArmEstate()
    e.subscription(PROD, "hds-prod")
    e.resource_group(PROD, RG, "francecentral")
    us = e.redis(PROD, RG, "cache-us", "eastus")
    cache = e.redis(PROD, RG, "cache-fr", "francecentral", linked=us)
    aks = e.aks(PROD, RG, "aks", "francecentral", des=DES, pools={"system": True, "batch": None})
    with serve(e) as (server, ca):
        result = AzureCollector(
            cloud=loopback_cloud(server), credential=StaticCredential(), connection_verify=ca
        ).collect(GEO)
    assert result.errors == []
    found = {r.id: r for r in result.resources}
    redis = found[cache]
    assert redis.kind is Kind.DATABASE and redis.encryption is not None
    assert (redis.encryption.at_rest, redis.encryption.key_owner) == (True, KeyOwner.PROVIDER)
    assert "offers no customer key" in redis.notes["encryption.at_rest"]
    # the linked cache is a copy, located once every resource is collected
    assert [r.location.region for r in redis.replicas or ()] == ["eastus"]
    assert found[aks].kind is Kind.COMPUTE
    os_disks = found[f"{aks}/nodeOsDisks"]
    assert os_disks.encryption is not None and os_disks.encryption.key_owner is KeyOwner.CUSTOMER
    assert found[f"{aks}/agentPools/system/tempDisks"].encryption.at_rest is True  # type: ignore[union-attr]
    batch = found[f"{aks}/agentPools/batch/tempDisks"]
    assert batch.encryption is not None and batch.encryption.at_rest is None
    assert batch.region == "francecentral"


def test_redis_and_aks_read_actions_are_in_the_role() -> None:
    actions = azure_table().actions()
    assert "Microsoft.Cache/redis/read" in actions
    assert "Microsoft.ContainerService/managedClusters/read" in actions
