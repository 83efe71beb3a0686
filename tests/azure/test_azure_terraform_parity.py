"""The same infrastructure read from Terraform and from the Azure API gets the same verdicts:
one set of policies, no Azure-only logic."""

from __future__ import annotations

import json
from pathlib import Path

from arm_server import ArmEstate, StaticCredential, serve
from azure_estates import KEY, PROD, RG
from conftest import loopback_cloud

from hds_audit.collectors.azure import AzureCollector
from hds_audit.collectors.terraform import collect_terraform
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.testing import Spec, state_document

GEO = GeoTables.default()
POLICIES = [
    p
    for p in builtin_policies()
    if p.id in {"HDS_ENC_001", "HDS_KEY_001", "HDS_REP_001", "HDS_RES_001"}
]
AZ = f"/subscriptions/{PROD}/resourceGroups/{RG}/providers"

# name -> (Terraform spec, how the loopback estate plants the same resource)
TERRAFORM = [
    Spec(
        "azurerm_storage_account",
        "grs",
        {
            "id": f"{AZ}/Microsoft.Storage/storageAccounts/grs",
            "location": "francecentral",
            "account_replication_type": "GRS",
            "customer_managed_key": [{"key_vault_key_id": KEY}],
        },
    ),
    Spec(
        "azurerm_storage_account",
        "uk",
        {
            "id": f"{AZ}/Microsoft.Storage/storageAccounts/uk",
            "location": "uksouth",
            "account_replication_type": "GRS",
        },
    ),
    Spec(
        "azurerm_managed_disk",
        "os",
        {"id": f"{AZ}/Microsoft.Compute/disks/os", "location": "francecentral"},
    ),
    Spec(
        "azurerm_cosmosdb_account",
        "cosmos",
        {
            "id": f"{AZ}/Microsoft.DocumentDB/databaseAccounts/cosmos",
            "location": "francecentral",
            "key_vault_key_id": KEY,
            "geo_location": [
                {"location": "francecentral", "failover_priority": 0},
                {"location": "switzerlandnorth", "failover_priority": 1},
            ],
        },
    ),
    Spec(
        "azurerm_key_vault",
        "kv",
        {"id": f"{AZ}/Microsoft.KeyVault/vaults/kv", "location": "westeurope"},
    ),
]


def _estate() -> ArmEstate:
    e = ArmEstate()
    e.subscription(PROD, "hds-prod")
    e.storage(PROD, RG, "grs", "francecentral", "Standard_GRS", KEY)  # no secondaryLocation
    e.storage(PROD, RG, "uk", "uksouth", "Standard_GRS")
    e.disk(PROD, RG, "os", "francecentral")
    e.cosmos(PROD, RG, "cosmos", "francecentral", ["France Central", "Switzerland North"], KEY)
    e.key_vault(PROD, RG, "kv", "westeurope")
    return e


def _verdicts(resources: list) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    findings = evaluate(POLICIES, resources, AllowedArea.parse("eu"))
    return {
        (str(f.resource.name or f.resource.id).split(".")[-1], f.policy.id): f.status.value
        for f in findings
    }


def test_terraform_and_azure_api_get_the_same_verdicts(tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps(state_document(TERRAFORM)), encoding="utf-8")
    from_terraform = collect_terraform([str(state)], GEO)
    assert from_terraform.errors == []
    with serve(_estate()) as (server, ca):
        from_api = AzureCollector(
            cloud=loopback_cloud(server), credential=StaticCredential(), connection_verify=ca
        ).collect(GEO)
    api = {
        k: v
        for k, v in _verdicts(from_api.resources).items()
        if k[0] in {"grs", "uk", "os", "cosmos", "kv"}
    }
    terraform = _verdicts(from_terraform.resources)
    assert api == terraform
    assert api[("uk", "HDS_REP_001")] == "fail"  # ukwest
    assert api[("os", "HDS_KEY_001")] == "fail"
    assert api[("cosmos", "HDS_REP_001")] == "fail"
