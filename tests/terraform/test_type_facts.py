"""Type facts of issue 15: each new family of data-holding types gets pass, fail and unknown
encryption verdicts (and key ownership) from real state and plan shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.collectors.terraform.normalise import type_table
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import DATA_KINDS, KeyOwner, Kind, Resource
from hds_audit.testing import Spec, plan_document, state_document

KEY = "arn:aws:kms:eu-west-3:111122223333:key/health"
VAULT_KEY = "https://kv-health.vault.azure.net/keys/health/1"


def _collect(tmp_path: Path, geo: GeoTables, document: dict[str, Any]) -> dict[str, Resource]:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    assert collection.errors == []
    return {r.id: r for r in collection.resources}


def _state(tmp_path: Path, geo: GeoTables, *specs: Spec) -> dict[str, Resource]:
    return _collect(tmp_path, geo, state_document(specs))


def _plan(tmp_path: Path, geo: GeoTables, *specs: Spec) -> dict[str, Resource]:
    return _collect(tmp_path, geo, plan_document(specs))


def _at_rest(resource: Resource) -> bool | None:
    assert resource.encryption is not None, resource.id
    return resource.encryption.at_rest


def _owner(resource: Resource) -> KeyOwner | None:
    assert resource.encryption is not None, resource.id
    return resource.encryption.key_owner


CUSTOMER_KEY = Spec("aws_kms_key", "health", {"arn": KEY, "key_id": "health"})


def test_every_data_type_says_how_its_encryption_is_read() -> None:
    silent = sorted(
        rtype
        for rtype, spec in type_table().specs.items()
        if spec.kind in DATA_KINDS
        and spec.holds_data is not False
        and not (spec.reading.declared or spec.rules or spec.key_resource)
    )
    assert silent == []


def test_type_facts_reject_unknown_keys() -> None:
    from hds_audit.collectors.terraform.facts import parse_reading

    # YAML 1.1 reads a bare `on:` key as True: a typo must not pass silently.
    with pytest.raises(ValueError, match="unexpected keys"):
        parse_reading({"flag": "encryption_type", True: ["KMS"]})


# -- streams: a flag with values, unencrypted by default ----------------------------------------


def test_kinesis_stream_pass_fail_unknown(tmp_path: Path, geo: GeoTables) -> None:
    resources = _plan(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec("aws_kinesis_stream", "pass_kms", {"encryption_type": "KMS", "kms_key_id": KEY}),
        Spec(
            "aws_kinesis_stream",
            "aws_key",
            {"encryption_type": "KMS", "kms_key_id": "alias/aws/kinesis"},
        ),
        Spec("aws_kinesis_stream", "fail_default", {"name": "s"}),
        Spec("aws_kinesis_stream", "fail_none", {"encryption_type": "NONE"}),
        Spec("aws_kinesis_stream", "unknown_apply", {"name": "s"}, unknown=["encryption_type"]),
    )
    passing = resources["aws_kinesis_stream.pass_kms"]
    assert _at_rest(passing) is True and _owner(passing) is KeyOwner.CUSTOMER
    assert _owner(resources["aws_kinesis_stream.aws_key"]) is KeyOwner.PROVIDER
    default = resources["aws_kinesis_stream.fail_default"]
    assert _at_rest(default) is False
    assert "defaults to NONE" in default.notes["encryption.at_rest"]
    assert _at_rest(resources["aws_kinesis_stream.fail_none"]) is False
    unknown = resources["aws_kinesis_stream.unknown_apply"]
    assert _at_rest(unknown) is None
    assert unknown.unknowns["encryption.at_rest"] == "encryption_type known only after apply"
    assert resources["aws_kinesis_stream.pass_kms"].kind is Kind.DATABASE


def test_ssm_parameter_only_secure_strings_are_encrypted(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec(
            "aws_ssm_parameter",
            "secret",
            {"type": "SecureString", "key_id": KEY, "region": "eu-west-3"},
        ),
        Spec(
            "aws_ssm_parameter",
            "default_key",
            {"type": "SecureString", "key_id": "alias/aws/ssm", "region": "eu-west-3"},
        ),
        Spec("aws_ssm_parameter", "plain", {"type": "String", "region": "eu-west-3"}),
    )
    assert _owner(resources["aws_ssm_parameter.secret"]) is KeyOwner.CUSTOMER
    assert _owner(resources["aws_ssm_parameter.default_key"]) is KeyOwner.PROVIDER
    assert _at_rest(resources["aws_ssm_parameter.plain"]) is False


# -- services that always encrypt: the default is said with its source --------------------------


@pytest.mark.parametrize(
    ("rtype", "key_attributes"),
    [
        (
            "aws_ecr_repository",
            {"encryption_configuration": [{"encryption_type": "KMS", "kms_key": KEY}]},
        ),
        ("aws_msk_cluster", {"encryption_info": [{"encryption_at_rest_kms_key_arn": KEY}]}),
        ("aws_timestreamwrite_database", {"kms_key_id": KEY}),
        ("aws_memorydb_cluster", {"kms_key_arn": KEY}),
        ("aws_fsx_ontap_file_system", {"kms_key_id": KEY}),
        ("aws_fsx_openzfs_file_system", {"kms_key_id": KEY}),
        ("aws_sagemaker_notebook_instance", {"kms_key_id": KEY}),
        ("aws_dms_replication_instance", {"kms_key_arn": KEY}),
        (
            "aws_keyspaces_table",
            {
                "encryption_specification": [
                    {"type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_identifier": KEY}
                ]
            },
        ),
    ],
)
def test_always_encrypted_aws_types(
    tmp_path: Path, geo: GeoTables, rtype: str, key_attributes: dict[str, Any]
) -> None:
    resources = _state(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec(rtype, "cmk", {"region": "eu-west-3", **key_attributes}),
        Spec(rtype, "default", {"region": "eu-west-3"}),
    )
    cmk, default = resources[f"{rtype}.cmk"], resources[f"{rtype}.default"]
    assert (_at_rest(cmk), _owner(cmk)) == (True, KeyOwner.CUSTOMER)
    assert (_at_rest(default), _owner(default)) == (True, KeyOwner.PROVIDER)
    assert "source: " in default.notes["encryption.at_rest"]
    assert default.kind in DATA_KINDS and default.region == "eu-west-3"


def test_key_known_only_after_apply_is_unknown(tmp_path: Path, geo: GeoTables) -> None:
    resources = _plan(
        tmp_path,
        geo,
        Spec(
            "aws_ecr_repository",
            "unknown_key",
            {"name": "r", "encryption_configuration": [{"encryption_type": "KMS"}]},
            unknown=["encryption_configuration.0.kms_key"],
            references={"encryption_configuration": ["var.key"]},
        ),
    )
    repo = resources["aws_ecr_repository.unknown_key"]
    assert _at_rest(repo) is True and _owner(repo) is None
    assert "known only after apply" in repo.unknowns["encryption.key_owner"]


def test_snapshots_follow_their_source(tmp_path: Path, geo: GeoTables) -> None:
    resources = _plan(
        tmp_path,
        geo,
        Spec(
            "aws_db_snapshot",
            "unknown_snap",
            {"db_instance_identifier": "db"},
            unknown=["encrypted", "kms_key_id"],
        ),
        Spec("aws_db_cluster_snapshot", "unset", {"db_cluster_identifier": "c"}),
        Spec("aws_db_snapshot_copy", "fail_copy", {"encrypted": False}),
        Spec(
            "aws_db_instance_automated_backups_replication",
            "fail_plain",
            {"source_db_instance_arn": "arn:aws:rds:eu-west-3:1:db:x"},
        ),
        Spec("aws_rds_global_cluster", "pass_global", {"storage_encrypted": True}),
        Spec("aws_rds_global_cluster", "fail_global", {"global_cluster_identifier": "g"}),
    )
    assert _at_rest(resources["aws_db_snapshot.unknown_snap"]) is None
    unset = resources["aws_db_cluster_snapshot.unset"]
    assert unset.unknowns["encryption.at_rest"].endswith("as its source cluster is")
    assert _at_rest(resources["aws_db_snapshot_copy.fail_copy"]) is False
    assert _at_rest(resources["aws_db_instance_automated_backups_replication.fail_plain"]) is False
    assert _at_rest(resources["aws_rds_global_cluster.pass_global"]) is True
    assert _at_rest(resources["aws_rds_global_cluster.fail_global"]) is False
    assert all(r.kind is Kind.BACKUP for k, r in resources.items() if "snapshot" in k)


# -- instances: root and attached volumes, the implicit root and the account's EBS default ------


def test_instance_without_root_block_is_unknown_with_the_ebs_reason(
    tmp_path: Path, geo: GeoTables
) -> None:
    resources = _plan(
        tmp_path,
        geo,
        Spec(
            "aws_instance",
            "app",
            {"ami": "ami-1", "instance_type": "t3.micro"},
            unknown=["root_block_device", "ebs_block_device"],
        ),
    )
    root = resources["aws_instance.app.root_block_device[implicit]"]
    assert root.kind is Kind.BLOCK_STORAGE and _at_rest(root) is None
    assert "EBS encryption-by-default" in root.unknowns["encryption.at_rest"]
    assert not any("ebs_block_device" in rid for rid in resources)


def test_the_runs_ebs_default_decides_the_implicit_root(tmp_path: Path, geo: GeoTables) -> None:
    resources = _plan(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec("aws_ebs_encryption_by_default", "on", {"enabled": True}),
        Spec("aws_ebs_default_kms_key", "on", {"key_arn": KEY}),
        Spec("aws_instance", "app", {"ami": "ami-1"}, unknown=["root_block_device"]),
        Spec(
            "aws_instance",
            "legacy",
            {"ami": "ami-1", "ebs_block_device": [{"device_name": "/dev/sdf", "encrypted": False}]},
        ),
        Spec("aws_ebs_volume", "plain", {"availability_zone": "eu-west-3a", "encrypted": False}),
    )
    root = resources["aws_instance.app.root_block_device[implicit]"]
    assert (_at_rest(root), _owner(root)) == (True, KeyOwner.CUSTOMER)
    assert "aws_ebs_encryption_by_default.on" in root.notes["encryption.at_rest"]
    forced = resources["aws_instance.legacy.ebs_block_device['/dev/sdf']"]
    assert _at_rest(forced) is True
    assert _at_rest(resources["aws_ebs_volume.plain"]) is True


def test_ebs_default_off_leaves_the_root_to_the_ami(tmp_path: Path, geo: GeoTables) -> None:
    resources = _plan(
        tmp_path,
        geo,
        Spec("aws_ebs_encryption_by_default", "off", {"enabled": False}),
        Spec("aws_instance", "app", {"ami": "ami-1"}, unknown=["root_block_device"]),
        Spec(
            "aws_instance", "plain", {"ami": "ami-1", "root_block_device": [{"encrypted": False}]}
        ),
    )
    root = resources["aws_instance.app.root_block_device[implicit]"]
    assert _at_rest(root) is None and "AMI" in root.unknowns["encryption.at_rest"]
    assert _at_rest(resources["aws_instance.plain.root_block_device[0]"]) is False


def test_state_instance_volumes_pass_and_fail(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec(
            "aws_instance",
            "app",
            {
                "availability_zone": "eu-west-3a",
                "root_block_device": [
                    {"device_name": "/dev/xvda", "encrypted": True, "kms_key_id": KEY}
                ],
                "ebs_block_device": [{"device_name": "/dev/sdf", "encrypted": False}],
            },
        ),
    )
    root = resources["aws_instance.app.root_block_device['/dev/xvda']"]
    assert (_at_rest(root), _owner(root)) == (True, KeyOwner.CUSTOMER)
    assert _at_rest(resources["aws_instance.app.ebs_block_device['/dev/sdf']"]) is False
    assert not any(rid.endswith("[implicit]") for rid in resources)


def test_launch_templates_and_configurations(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        Spec(
            "aws_launch_template",
            "lt",
            {
                "region": "eu-west-3",
                "block_device_mappings": [
                    {"device_name": "/dev/xvda", "ebs": [{"encrypted": "true"}]},
                    {"device_name": "/dev/sdf", "ebs": [{"encrypted": "false"}]},
                    {"device_name": "/dev/sdg", "ebs": [{}]},
                ],
            },
        ),
        Spec(
            "aws_launch_configuration",
            "lc",
            {"region": "eu-west-3", "root_block_device": [{"encrypted": True}]},
        ),
        Spec("aws_launch_configuration", "bare", {"region": "eu-west-3"}),
    )
    assert _at_rest(resources["aws_launch_template.lt.block_device_mappings['/dev/xvda']"]) is True
    assert _at_rest(resources["aws_launch_template.lt.block_device_mappings['/dev/sdf']"]) is False
    assert _at_rest(resources["aws_launch_template.lt.block_device_mappings['/dev/sdg']"]) is None
    assert _at_rest(resources["aws_launch_configuration.lc.root_block_device[0]"]) is True
    assert _at_rest(resources["aws_launch_configuration.bare.root_block_device[implicit]"]) is None


def test_workspaces_lambda_and_amis(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        CUSTOMER_KEY,
        Spec(
            "aws_workspaces_workspace",
            "desk",
            {
                "region": "eu-west-3",
                "root_volume_encryption_enabled": True,
                "volume_encryption_key": KEY,
            },
        ),
        Spec(
            "aws_lambda_function",
            "fn",
            {"region": "eu-west-3", "environment": [{"variables": {"MODE": "prod"}}]},
        ),
        Spec("aws_lambda_function", "bare", {"region": "eu-west-3"}),
        Spec(
            "aws_ami",
            "image",
            {
                "region": "eu-west-3",
                "ebs_block_device": [{"device_name": "/dev/xvda", "encrypted": True}],
            },
        ),
    )
    root = resources["aws_workspaces_workspace.desk.root_volume"]
    assert (_at_rest(root), _owner(root)) == (True, KeyOwner.CUSTOMER)
    assert _at_rest(resources["aws_workspaces_workspace.desk.user_volume"]) is False
    env = resources["aws_lambda_function.fn.environment[0]"]
    assert (_at_rest(env), _owner(env)) == (True, KeyOwner.PROVIDER)
    assert not any(rid.startswith("aws_lambda_function.bare.") for rid in resources)
    snapshot = resources["aws_ami.image.ebs_block_device['/dev/xvda']"]
    assert _at_rest(snapshot) is True and _owner(snapshot) is None
    assert snapshot.kind is Kind.BACKUP and resources["aws_ami.image"].kind is Kind.OTHER


# -- region ---------------------------------------------------------------------------------------


def test_a_region_name_in_the_zone_is_read_as_the_region(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        Spec("aws_ebs_volume", "odd", {"availability_zone": "eu-west-1", "encrypted": True}),
        Spec("aws_lightsail_instance", "zone", {"zone": "eu-central-1"}),
        Spec("aws_ebs_volume", "usual", {"availability_zone": "eu-west-3b", "encrypted": True}),
        Spec("aws_ebs_volume", "nonsense", {"availability_zone": "somewhere", "encrypted": True}),
    )
    assert resources["aws_ebs_volume.odd"].region == "eu-west-1"
    assert resources["aws_lightsail_instance.zone"].region == "eu-central-1"
    assert resources["aws_ebs_volume.usual"].region == "eu-west-3"
    assert resources["aws_ebs_volume.nonsense"].region is None


# -- Azure -------------------------------------------------------------------------------------


def test_virtual_machine_and_scale_set_disks(tmp_path: Path, geo: GeoTables) -> None:
    des = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des"
    resources = _state(
        tmp_path,
        geo,
        Spec(
            "azurerm_linux_virtual_machine",
            "vm",
            {
                "location": "francecentral",
                "os_disk": [{"caching": "ReadWrite"}],
                "encryption_at_host_enabled": True,
            },
        ),
        Spec(
            "azurerm_windows_virtual_machine_scale_set",
            "ss",
            {
                "location": "francecentral",
                "os_disk": [{"disk_encryption_set_id": des}],
                "data_disk": [{"lun": 0, "disk_encryption_set_id": des}, {"lun": 1}],
                "encryption_at_host_enabled": False,
            },
        ),
        Spec(
            "azurerm_linux_virtual_machine", "plain", {"location": "francecentral", "os_disk": [{}]}
        ),
    )
    os_disk = resources["azurerm_linux_virtual_machine.vm.os_disk[0]"]
    assert (_at_rest(os_disk), _owner(os_disk)) == (True, KeyOwner.PROVIDER)
    assert "platform-managed keys" in os_disk.notes["encryption.at_rest"]
    assert _at_rest(resources["azurerm_linux_virtual_machine.vm.temp_disk"]) is True
    assert (
        _owner(resources["azurerm_windows_virtual_machine_scale_set.ss.os_disk[0]"])
        is KeyOwner.CUSTOMER
    )
    assert (
        _owner(resources["azurerm_windows_virtual_machine_scale_set.ss.data_disk[0]"])
        is KeyOwner.CUSTOMER
    )
    assert (
        _owner(resources["azurerm_windows_virtual_machine_scale_set.ss.data_disk[1]"])
        is KeyOwner.PROVIDER
    )
    # Off: unknown, not fail: only some sizes have a temp disk.
    off = resources["azurerm_windows_virtual_machine_scale_set.ss.temp_disk"]
    assert _at_rest(off) is None
    assert off.unknowns["encryption.at_rest"].startswith("encryption_at_host_enabled = False: ")
    temp = resources["azurerm_linux_virtual_machine.plain.temp_disk"]
    assert _at_rest(temp) is None and "encryption at host" in temp.unknowns["encryption.at_rest"]
    assert temp.region == "francecentral"


def test_aks_cluster_and_node_pool(tmp_path: Path, geo: GeoTables) -> None:
    cluster_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/aks"
    resources = _state(
        tmp_path,
        geo,
        Spec(
            "azurerm_kubernetes_cluster",
            "aks",
            {
                "id": cluster_id,
                "location": "francecentral",
                "disk_encryption_set_id": "/s/des",
                "default_node_pool": [{"host_encryption_enabled": True}],
            },
        ),
        Spec(
            "azurerm_kubernetes_cluster_node_pool",
            "extra",
            {"kubernetes_cluster_id": cluster_id, "host_encryption_enabled": False},
        ),
        Spec(
            "azurerm_kubernetes_cluster_node_pool",
            "legacy",
            {"kubernetes_cluster_id": cluster_id, "enable_host_encryption": True},
        ),
    )
    assert _owner(resources["azurerm_kubernetes_cluster.aks.node_os_disks"]) is KeyOwner.CUSTOMER
    assert _at_rest(resources["azurerm_kubernetes_cluster.aks.node_temp_disks"]) is True
    extra = resources["azurerm_kubernetes_cluster_node_pool.extra.node_temp_disks"]
    assert _at_rest(extra) is None and extra.region == "francecentral"
    assert (
        _at_rest(resources["azurerm_kubernetes_cluster_node_pool.legacy.node_temp_disks"]) is True
    )


def test_separate_key_resources_make_the_key_the_customers(tmp_path: Path, geo: GeoTables) -> None:
    kusto = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kusto/clusters/k"
    pg = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/pg"
    resources = _state(
        tmp_path,
        geo,
        Spec(
            "azurerm_kusto_cluster",
            "k",
            {"id": kusto, "location": "francecentral", "disk_encryption_enabled": True},
        ),
        Spec(
            "azurerm_kusto_cluster_customer_managed_key",
            "k",
            {"cluster_id": kusto, "key_vault_id": "/s/kv", "key_name": "health"},
        ),
        Spec("azurerm_kusto_cluster", "plain", {"id": kusto + "2", "location": "francecentral"}),
        Spec(
            "azurerm_postgresql_server",
            "pg",
            {"id": pg, "location": "francecentral", "geo_redundant_backup_enabled": True},
        ),
        Spec(
            "azurerm_postgresql_server_key", "pg", {"server_id": pg, "key_vault_key_id": VAULT_KEY}
        ),
        Spec("azurerm_mysql_server", "my", {"location": "francecentral"}),
    )
    cluster = resources["azurerm_kusto_cluster.k"]
    assert (_at_rest(cluster), _owner(cluster)) == (True, KeyOwner.CUSTOMER)
    assert _at_rest(resources["azurerm_kusto_cluster.k.cache_disks"]) is True
    plain = resources["azurerm_kusto_cluster.plain"]
    assert (_at_rest(plain), _owner(plain)) == (True, KeyOwner.PROVIDER)
    assert _at_rest(resources["azurerm_kusto_cluster.plain.cache_disks"]) is False
    server = resources["azurerm_postgresql_server.pg"]
    assert _owner(server) is KeyOwner.CUSTOMER and server.encryption.key_id == VAULT_KEY  # type: ignore[union-attr]
    assert [r.location.region for r in server.replicas or ()] == ["francesouth"]
    assert _owner(resources["azurerm_mysql_server.my"]) is KeyOwner.PROVIDER


@pytest.mark.parametrize(
    ("rtype", "key_attributes"),
    [
        ("azurerm_redis_cache", None),
        (
            "azurerm_servicebus_namespace",
            {"customer_managed_key": [{"key_vault_key_id": VAULT_KEY}]},
        ),
        ("azurerm_eventhub_namespace", None),
        ("azurerm_container_registry", {"encryption": [{"key_vault_key_id": VAULT_KEY}]}),
        ("azurerm_app_configuration", {"encryption": [{"key_vault_key_identifier": VAULT_KEY}]}),
        ("azurerm_batch_account", {"encryption": [{"key_vault_key_id": VAULT_KEY}]}),
        ("azurerm_machine_learning_workspace", {"encryption": [{"key_id": VAULT_KEY}]}),
        ("azurerm_databricks_workspace", {"managed_services_cmk_key_vault_key_id": VAULT_KEY}),
        (
            "azurerm_synapse_workspace",
            {"customer_managed_key": [{"key_versionless_id": VAULT_KEY}]},
        ),
    ],
)
def test_always_encrypted_azure_types(
    tmp_path: Path, geo: GeoTables, rtype: str, key_attributes: dict[str, Any] | None
) -> None:
    specs = [Spec(rtype, "default", {"location": "francecentral"})]
    if key_attributes is not None:
        specs.append(Spec(rtype, "cmk", {"location": "francecentral", **key_attributes}))
    resources = _state(tmp_path, geo, *specs)
    default = resources[f"{rtype}.default"]
    assert (_at_rest(default), _owner(default)) == (True, KeyOwner.PROVIDER)
    assert "learn.microsoft.com" in default.notes["encryption.at_rest"]
    if key_attributes is not None:
        assert _owner(resources[f"{rtype}.cmk"]) is KeyOwner.CUSTOMER


def test_eventhub_namespace_customer_key_resource(tmp_path: Path, geo: GeoTables) -> None:
    ns = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns"
    resources = _plan(
        tmp_path,
        geo,
        Spec("azurerm_eventhub_namespace", "ns", {"location": "francecentral"}, unknown=["id"]),
        Spec(
            "azurerm_eventhub_namespace_customer_managed_key",
            "ns",
            {},
            unknown=["eventhub_namespace_id", "key_vault_key_ids"],
            references={
                "eventhub_namespace_id": [
                    "azurerm_eventhub_namespace.ns.id",
                    "azurerm_eventhub_namespace.ns",
                ]
            },
        ),
    )
    assert ns  # the plan joins by reference: the ids are known only after apply
    assert _owner(resources["azurerm_eventhub_namespace.ns"]) is KeyOwner.CUSTOMER


def test_data_lake_synapse_pool(tmp_path: Path, geo: GeoTables) -> None:
    workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Synapse/workspaces/w"
    resources = _state(
        tmp_path,
        geo,
        Spec("azurerm_data_lake_store", "default", {"location": "northeurope"}),
        Spec(
            "azurerm_data_lake_store",
            "off",
            {"location": "northeurope", "encryption_state": "Disabled"},
        ),
        Spec(
            "azurerm_data_lake_store",
            "user",
            {
                "location": "northeurope",
                "encryption_state": "Enabled",
                "encryption_type": "UserManaged",
            },
        ),
        Spec("azurerm_synapse_workspace", "w", {"id": workspace, "location": "francecentral"}),
        Spec(
            "azurerm_synapse_sql_pool",
            "pool",
            {"synapse_workspace_id": workspace, "data_encryption": True},
        ),
        Spec("azurerm_synapse_sql_pool", "plain", {"synapse_workspace_id": workspace}),
    )
    default = resources["azurerm_data_lake_store.default"]
    assert (_at_rest(default), _owner(default)) == (True, KeyOwner.PROVIDER)
    assert "defaults to Enabled" in default.notes["encryption.at_rest"]
    assert _at_rest(resources["azurerm_data_lake_store.off"]) is False
    assert _owner(resources["azurerm_data_lake_store.user"]) is KeyOwner.CUSTOMER
    pool = resources["azurerm_synapse_sql_pool.pool"]
    assert _at_rest(pool) is True and _owner(pool) is None and pool.region == "francecentral"
    assert _at_rest(resources["azurerm_synapse_sql_pool.plain"]) is False


# -- the verdict carries the default's source as evidence -------------------------------------


def test_finding_evidence_cites_the_providers_default(tmp_path: Path, geo: GeoTables) -> None:
    resources = _state(
        tmp_path,
        geo,
        Spec("aws_ecr_repository", "images", {"region": "eu-west-3"}),
        Spec("aws_kinesis_stream", "events", {"region": "eu-west-3"}),
    )
    policies = [p for p in builtin_policies() if p.id == "HDS_ENC_001"]
    findings = {
        f.resource.id: f
        for f in evaluate(policies, list(resources.values()), AllowedArea.parse("eu"))
    }
    ecr = findings["aws_ecr_repository.images"]
    assert ecr.status.value == "pass"
    assert "encryption-at-rest.html" in (ecr.evidence[0].note or "")
    kinesis = findings["aws_kinesis_stream.events"]
    assert kinesis.status.value == "fail"
    assert "encryption_type defaults to NONE" in (kinesis.evidence[0].note or "")


def test_live_ebs_readings_of_several_accounts_leave_the_plan_unknown(
    tmp_path: Path, geo: GeoTables
) -> None:
    from hds_audit.collectors.account_settings import settle_ebs_defaults
    from hds_audit.model import Source, SourceKind

    resources = _plan(
        tmp_path, geo, Spec("aws_instance", "app", {"ami": "ami-1"}, unknown=["root_block_device"])
    )
    root = resources["aws_instance.app.root_block_device[implicit]"]

    def live(account: str, enabled: bool) -> Resource:
        return Resource(
            id=f"arn:aws:ec2:eu-west-3:{account}:volume/vol-1",
            provider="aws",
            type="aws_ebs_volume",
            kind=Kind.BLOCK_STORAGE,
            location=geo.locate("aws", "eu-west-3"),
            source=Source(kind=SourceKind.AWS_API, account=account, region="eu-west-3"),
            attributes={"account": account, "ebs_encryption_by_default": enabled},
        )

    one = settle_ebs_defaults([root, live("111111111111", True)])[0]
    assert _at_rest(one) is True and "111111111111" in one.notes["encryption.at_rest"]
    two = settle_ebs_defaults([root, live("111111111111", True), live("222222222222", False)])
    assert _at_rest(two[0]) is None  # which account the plan is for is not known
    elsewhere = settle_ebs_defaults(
        [root, replace(live("1", True), location=geo.locate("aws", "eu-west-1"))]
    )
    assert _at_rest(elsewhere[0]) is None
