"""Estates the loopback ARM server serves: the planted one of issue 4, and the benchmark's."""

from __future__ import annotations

from arm_server import ArmEstate, unregister

PROD = "0a1b2c3d-0000-4000-8000-00000000a001"
DENIED = "0a1b2c3d-0000-4000-8000-00000000a002"
RG = "health-data"
KEY = "https://kv-hds.vault.azure.net/keys/hds/0123456789abcdef"


def sub_path(sub: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers"


def planted() -> ArmEstate:
    """Issue 4's planted estate: every data store on a customer key unless planted otherwise.

    - frgrs: francecentral GRS, secondary francesouth (pass)
    - weragrs: westeurope RAGRS, secondary northeurope (pass)
    - ukdata: uksouth (residency fail)
    - records-sql/patients: geo-replicated to eastus (replication fail)
    - vm-os: a disk on a platform key (key_management fail)
    - cosmos-hds: a location in switzerlandnorth (replication fail)
    - DENIED: answers 403 (unknown)
    - Microsoft.DataProtection not registered in PROD (unknown on that scope)
    """
    e = ArmEstate(data_boundary="EU")
    e.subscription(PROD, "hds-prod")
    e.subscription(DENIED, "hds-denied")
    e.forbidden.add(DENIED)
    unregister(e, PROD, "Microsoft.DataProtection")
    e.resource_group(PROD, RG, "francecentral")
    e.storage(PROD, RG, "frgrs", "francecentral", "Standard_GRS", KEY, secondary="francesouth")
    e.storage(PROD, RG, "weragrs", "westeurope", "Standard_RAGRS", KEY, secondary="northeurope")
    e.storage(PROD, RG, "ukdata", "uksouth", "Standard_LRS", KEY)
    e.sql_server(PROD, RG, "records-sql", "francecentral", key_uri=KEY)
    e.sql_database(
        PROD,
        RG,
        "records-sql",
        "patients",
        "francecentral",
        redundancy="Local",
        partner=("records-sql-us", "eastus"),
    )
    e.disk(PROD, RG, "vm-os", "francecentral")
    e.cosmos(PROD, RG, "cosmos-hds", "francecentral", ["France Central", "Switzerland North"], KEY)
    e.key_vault(PROD, RG, "kv-hds", "francecentral")
    e.generic(PROD, RG, "Microsoft.Compute/virtualMachines", "vm", "francecentral")
    return e


def bench_estate(subscriptions: int = 3, resources: int = 3000) -> ArmEstate:
    """``resources`` resources over ``subscriptions`` subscriptions: a realistic mix of data
    stores (with their detail calls) and inventory-only resources."""
    e = ArmEstate(data_boundary="EU")
    per_sub = resources // subscriptions - 1  # the subscription's resource group counts
    regions = ["francecentral", "westeurope", "northeurope", "germanywestcentral"]
    for s in range(subscriptions):
        sub = f"0b000000-0000-4000-8000-{s:012d}"
        e.subscription(sub, f"bench-{s}")
        e.resource_group(sub, RG, "francecentral")
        made = 0
        i = 0
        while made < per_sub:
            region = regions[i % len(regions)]
            slot = i % 10
            if slot in (0, 1):
                e.storage(sub, RG, f"st{s}x{i}", region, "Standard_GRS", KEY)
                made += 1
            elif slot in (2, 3):
                e.disk(sub, RG, f"disk{i}", region)
                made += 1
            elif slot == 4 and made + 3 <= per_sub:
                e.sql_server(sub, RG, f"sql{i}", region, key_uri=KEY)
                e.sql_database(sub, RG, f"sql{i}", "db1", region, redundancy="Geo")
                e.sql_database(sub, RG, f"sql{i}", "db2", region, redundancy="Local")
                made += 3
            elif slot == 5:
                e.cosmos(sub, RG, f"cosmos{i}", region, [region], KEY)
                made += 1
            elif slot == 6:
                e.key_vault(sub, RG, f"kv{i}", region)
                made += 1
            else:
                e.generic(sub, RG, "Microsoft.Network/networkInterfaces", f"nic{i}", region)
                made += 1
            i += 1
    return e
