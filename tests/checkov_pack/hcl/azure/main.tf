# HDS pack fixtures (Azure): expected verdicts per policy in ../expected.yaml.
provider "azurerm" {
  features {}
}

resource "azurerm_key_vault_key" "hds" {
  name         = "hds"
  key_vault_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["wrapKey", "unwrapKey"]
}

resource "azurerm_storage_account" "pass_key_sa" {
  name                     = "passkeysa"
  resource_group_name      = "rg"
  location                 = "francecentral"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.hds.id
    user_assigned_identity_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
  }
}

resource "azurerm_storage_account" "fail_key_sa" {
  name                     = "failkeysa"
  resource_group_name      = "rg"
  location                 = "francecentral"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_managed_disk" "pass_key_disk" {
  name                   = "disk"
  resource_group_name    = "rg"
  location               = "francecentral"
  storage_account_type   = "Premium_LRS"
  create_option          = "Empty"
  disk_size_gb           = 10
  disk_encryption_set_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/hds"
}

resource "azurerm_managed_disk" "fail_res_disk" {
  name                 = "disk-us"
  resource_group_name  = "rg"
  location             = "eastus"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = 10
}

resource "azurerm_cosmosdb_account" "pass_rep_cosmos" {
  name                = "records"
  resource_group_name = "rg"
  location            = "francecentral"
  offer_type          = "Standard"
  consistency_policy {
    consistency_level = "Session"
  }
  geo_location {
    location          = "francecentral"
    failover_priority = 0
  }
  geo_location {
    location          = "germanywestcentral"
    failover_priority = 1
  }
}

resource "azurerm_cosmosdb_account" "fail_rep_cosmos" {
  name                = "records-us"
  resource_group_name = "rg"
  location            = "francecentral"
  offer_type          = "Standard"
  consistency_policy {
    consistency_level = "Session"
  }
  geo_location {
    location          = "francecentral"
    failover_priority = 0
  }
  geo_location {
    location          = "eastus"
    failover_priority = 1
  }
}
