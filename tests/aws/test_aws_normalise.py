"""Normalisers on API shapes moto cannot produce, and parity with the Terraform normaliser:
the same facts, read live or from a state, get the same verdicts from the same policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from hds_audit.collectors.aws.keys import KeyResolver
from hds_audit.collectors.aws.normalise import (
    NORMALISERS,
    Listed,
    TaskContext,
    TaskData,
    Unavailable,
)
from hds_audit.collectors.aws.session import Account, AwsSettings, Connector
from hds_audit.collectors.aws.table import service_table
from hds_audit.collectors.terraform import collect_file
from hds_audit.engine import evaluate, load_policies
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import KeyOwner, Resource, Source, SourceKind

ACCOUNT = "111122223333"
CMK = f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
AWS_KEY = f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/aaaaaaaa-2222-3333-4444-555555555555"
GEO = GeoTables.default()


def context(
    aws_env: None, region: str = "eu-west-3", buckets: dict[str, str | None] | None = None
) -> TaskContext:
    """A context whose key cache already knows two keys: no call is ever made."""
    keys = KeyResolver(Connector(AwsSettings(endpoint_url="http://127.0.0.1:9"), service_table()))
    keys.cache.put(CMK, {"Arn": CMK, "KeyManager": "CUSTOMER"})
    keys.cache.put(AWS_KEY, {"Arn": AWS_KEY, "KeyManager": "AWS"})
    known = buckets or {}

    def bucket_region(name: str) -> tuple[str | None, str | None]:
        if name in known:
            return known[name], None
        return None, "s3:GetBucketLocation failed: access denied (AccessDenied): no"

    return TaskContext(
        account=Account(ACCOUNT, boto3.session.Session(region_name=region), "test"),
        region=region,
        geo=GEO,
        source=Source(kind=SourceKind.AWS_API, account=ACCOUNT, region=region),
        keys=keys,
        bucket_region=bucket_region,
        inventory_types=service_table().inventory_types,
    )


def data(lists: dict[str, list[Any]], context: dict[str, Any] | None = None) -> TaskData:
    return TaskData(
        context=context or {},
        lists={
            k: [v if isinstance(v, Listed) else Listed(v) for v in items]
            for k, items in lists.items()
        },
    )


def regions(resource: Resource) -> list[tuple[str, str | None]]:
    return [(r.kind, r.location.region) for r in resource.replicas or ()]


def test_rds_cross_region_replicas_backups_and_global_clusters(aws_env: None) -> None:
    ctx = context(aws_env)
    db = {
        "DBInstanceArn": f"arn:aws:rds:eu-west-3:{ACCOUNT}:db:records",
        "DBInstanceIdentifier": "records",
        "AvailabilityZone": "eu-west-3a",
        "StorageEncrypted": True,
        "KmsKeyId": CMK,
        "ReadReplicaDBInstanceIdentifiers": [
            "records-replica",
            f"arn:aws:rds:us-east-1:{ACCOUNT}:db:records-virginia",
        ],
        "DBInstanceAutomatedBackupsReplications": [
            {
                "DBInstanceAutomatedBackupsArn": (
                    f"arn:aws:rds:eu-central-1:{ACCOUNT}:auto-backup:ab-1"
                )
            }
        ],
    }
    cluster_arn = f"arn:aws:rds:eu-west-3:{ACCOUNT}:cluster:aurora"
    cluster = {"DBClusterArn": cluster_arn, "StorageEncrypted": True, "KmsKeyId": AWS_KEY}
    member = {
        "DBInstanceArn": f"arn:aws:rds:eu-west-3:{ACCOUNT}:db:aurora-1",
        "DBClusterIdentifier": "aurora",
    }
    globals_ = [
        {
            "GlobalClusterMembers": [
                {"DBClusterArn": cluster_arn},
                {"DBClusterArn": f"arn:aws:rds:ap-southeast-2:{ACCOUNT}:cluster:aurora-sydney"},
            ]
        }
    ]
    out = NORMALISERS["rds"](
        ctx, data({"instances": [db, member], "clusters": [cluster]}, {"global_clusters": globals_})
    )
    by_id = {r.id: r for r in out}
    instance = by_id[db["DBInstanceArn"]]
    assert regions(instance) == [
        ("read_replica", "eu-west-3"),
        ("read_replica", "us-east-1"),
        ("backup_replication", "eu-central-1"),
    ]
    assert instance.encryption is not None and instance.encryption.key_owner is KeyOwner.CUSTOMER
    aurora = by_id[cluster_arn]
    assert regions(aurora) == [("global_database", "ap-southeast-2")]
    assert aurora.encryption is not None and aurora.encryption.key_owner is KeyOwner.PROVIDER
    assert by_id[member["DBInstanceArn"]].type == "aws_rds_cluster_instance"


def test_s3_replication_to_a_bucket_whose_region_is_unknown(aws_env: None) -> None:
    ctx = context(aws_env, buckets={"known-replica": "eu-central-1"})
    bucket = Listed(
        {"Name": "records", "BucketRegion": "eu-west-3"},
        {
            "encryption": None,
            "replication": {
                "Rules": [
                    {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::known-replica"}},
                    {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::other-account"}},
                    {"Status": "Disabled", "Destination": {"Bucket": "arn:aws:s3:::ignored"}},
                ]
            },
            "public_access_block": None,
        },
    )
    [resource] = NORMALISERS["s3_bucket"](ctx, data({"buckets": [bucket]}))
    assert regions(resource) == [("replication", "eu-central-1"), ("replication", None)]
    assert "other-account" in resource.unknowns["replicas"]
    assert resource.encryption is not None
    assert resource.encryption.key_owner is KeyOwner.PROVIDER


def test_efs_kms_and_backup_copies(aws_env: None) -> None:
    ctx = context(aws_env)
    fs = {
        "FileSystemArn": f"arn:aws:elasticfilesystem:eu-west-3:{ACCOUNT}:file-system/fs-1",
        "FileSystemId": "fs-1",
        "Encrypted": True,
        "KmsKeyId": CMK,
    }
    replications = [{"SourceFileSystemId": "fs-1", "Destinations": [{"Region": "us-west-2"}]}]
    [efs] = NORMALISERS["efs_file_system"](
        ctx, data({"file_systems": [fs]}, {"replications": replications})
    )
    assert regions(efs) == [("replication", "us-west-2")]
    [unknown] = NORMALISERS["efs_file_system"](
        ctx, data({"file_systems": [fs]}, {"replications": Unavailable("denied")})
    )
    assert unknown.replicas is None and "denied" in unknown.unknowns["replicas"]

    key = Listed(
        {"KeyArn": CMK},
        {
            "metadata": {
                "Arn": CMK,
                "KeyManager": "CUSTOMER",
                "MultiRegion": True,
                "MultiRegionConfiguration": {
                    "MultiRegionKeyType": "PRIMARY",
                    "ReplicaKeys": [
                        {"Arn": CMK.replace("eu-west-3", "us-east-1"), "Region": "us-east-1"}
                    ],
                },
            },
            "rotation": True,
        },
    )
    [kms] = NORMALISERS["kms_key"](ctx, data({"keys": [key]}))
    assert regions(kms) == [("key_replica", "us-east-1")]
    assert kms.attributes["rotation_enabled"] is True

    target = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:dr"
    plan = Listed(
        {
            "BackupPlanArn": f"arn:aws:backup:eu-west-3:{ACCOUNT}:backup-plan:p1",
            "BackupPlanName": "daily",
        },
        {
            "plan": {
                "Rules": [
                    {
                        "TargetBackupVaultName": "main",
                        "CopyActions": [{"DestinationBackupVaultArn": target}],
                    }
                ]
            }
        },
    )
    vault = {
        "BackupVaultArn": f"arn:aws:backup:eu-west-3:{ACCOUNT}:backup-vault:main",
        "BackupVaultName": "main",
        "EncryptionKeyArn": CMK,
    }
    out = {
        r.type: r for r in NORMALISERS["backup"](ctx, data({"plans": [plan], "vaults": [vault]}))
    }
    assert regions(out["aws_backup_plan"]) == [("backup_copy", "us-east-1")]
    assert regions(out["aws_backup_vault"]) == [("backup_copy", "us-east-1")]


def _tf_state(resources: list[dict[str, Any]]) -> dict[str, Any]:
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    return {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 1,
        "lineage": "p",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": t,
                "name": n,
                "provider": provider,
                "instances": [{"schema_version": 0, "attributes": a}],
            }
            for t, n, a in ((r["type"], r["name"], r["attributes"]) for r in resources)
        ],
    }


@pytest.mark.parametrize(
    ("terraform", "normaliser", "listed", "lists"),
    [
        pytest.param(
            {
                "type": "aws_s3_bucket",
                "name": "b",
                "attributes": {"bucket": "b", "arn": "arn:aws:s3:::b", "region": "eu-west-3"},
            },
            "s3_bucket",
            Listed(
                {"Name": "b", "BucketRegion": "eu-west-3"},
                {"encryption": None, "replication": None, "public_access_block": None},
            ),
            "buckets",
            id="s3 default encryption",
        ),
        pytest.param(
            {
                "type": "aws_ebs_volume",
                "name": "v",
                "attributes": {
                    "id": "vol-1",
                    "availability_zone": "eu-west-3a",
                    "encrypted": False,
                },
            },
            "ebs",
            {"VolumeId": "vol-1", "AvailabilityZone": "eu-west-3a", "Encrypted": False},
            "volumes",
            id="ebs unencrypted",
        ),
        pytest.param(
            {
                "type": "aws_dynamodb_table",
                "name": "t",
                "attributes": {"name": "t", "arn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"},
            },
            "dynamodb_table",
            Listed("t", {"table": {"TableArn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"}}),
            "tables",
            id="dynamodb aws-owned key, outside the EU",
        ),
        pytest.param(
            {
                "type": "aws_db_instance",
                "name": "d",
                "attributes": {
                    "arn": f"arn:aws:rds:eu-west-3:{ACCOUNT}:db:d",
                    "storage_encrypted": True,
                    "kms_key_id": "alias/aws/rds",
                },
            },
            "rds",
            {
                "DBInstanceArn": f"arn:aws:rds:eu-west-3:{ACCOUNT}:db:d",
                "StorageEncrypted": True,
                "KmsKeyId": "alias/aws/rds",
            },
            "instances",
            id="rds aws-managed key",
        ),
    ],
)
def test_live_and_terraform_get_the_same_verdicts(
    aws_env: None,
    tmp_path: Path,
    terraform: dict[str, Any],
    normaliser: str,
    listed: Any,
    lists: str,
) -> None:
    state = tmp_path / "state.tfstate"
    state.write_text(json.dumps(_tf_state([terraform])))
    [from_state] = collect_file(state, str(state), GEO).resources
    region = from_state.region or "eu-west-3"
    empty = {"volumes": [], "snapshots": [], "instances": [], "clusters": []}
    live = NORMALISERS[normaliser](
        context(aws_env, region), data({**empty, lists: [listed]}, {"global_clusters": []})
    )
    [from_api] = live
    policies = load_policies()
    area = AllowedArea.parse("eu")
    verdict_state = {f.policy_id: f.status for f in evaluate(policies, [from_state], area)}
    verdict_api = {f.policy_id: f.status for f in evaluate(policies, [from_api], area)}
    assert verdict_api == verdict_state
    assert from_api.kind == from_state.kind and from_api.type == from_state.type
