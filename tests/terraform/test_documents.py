"""Every Terraform shape lands on the same instances: addresses, modules, providers, unknowns."""

from __future__ import annotations

import json
from pathlib import Path

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.geo import GeoTables
from hds_audit.model import KeyOwner, SourceKind
from hds_audit.testing import Spec, plan_document, state_document


def _collect(tmp_path: Path, geo: GeoTables, document: dict[str, object]) -> dict[str, object]:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    assert collection.errors == []
    return {r.id: r for r in collection.resources}


def test_state_modules_count_for_each_and_alias(tmp_path: Path, geo: GeoTables) -> None:
    specs = [
        Spec(
            "aws_ebs_volume",
            "data",
            {"availability_zone": "eu-west-3a", "encrypted": True},
            module="module.storage.module.backup",
            index=0,
        ),
        Spec(
            "aws_ebs_volume",
            "data",
            {"availability_zone": "eu-west-3b", "encrypted": True},
            module="module.storage.module.backup",
            index=1,
        ),
        Spec("aws_s3_bucket", "site", {"bucket": "fr", "region": "eu-west-3"}, index="fr"),
        # No region attribute: the region of its provider configuration (aws.us) is inferred
        # from the other resources of that configuration.
        Spec("aws_s3_bucket", "dr", {"bucket": "dr", "region": "us-east-1"}, alias="us"),
        Spec("aws_s3_bucket_versioning", "dr", {"bucket": "dr"}, alias="us"),
    ]
    resources = _collect(tmp_path, geo, state_document(specs))
    assert set(resources) == {
        "module.storage.module.backup.aws_ebs_volume.data[0]",
        "module.storage.module.backup.aws_ebs_volume.data[1]",
        'aws_s3_bucket.site["fr"]',
        "aws_s3_bucket.dr",
        "aws_s3_bucket_versioning.dr",
    }
    assert resources["aws_s3_bucket_versioning.dr"].region == "us-east-1"  # type: ignore[attr-defined]
    volume = resources["module.storage.module.backup.aws_ebs_volume.data[1]"]
    assert volume.region == "eu-west-3"  # type: ignore[attr-defined]
    assert volume.source.kind is SourceKind.TERRAFORM_STATE  # type: ignore[attr-defined]


def test_plan_provider_alias_region_and_unknowns(tmp_path: Path, geo: GeoTables) -> None:
    specs = [
        Spec("aws_kms_key", "k", {"description": "k"}, unknown=["arn"]),
        Spec("aws_s3_bucket", "dr", {"bucket": "dr"}, alias="us", module="module.dr"),
        Spec(
            "aws_db_instance",
            "db",
            {"storage_encrypted": True},
            unknown=["kms_key_id"],
            references={"kms_key_id": ["aws_kms_key.k.arn", "aws_kms_key.k"]},
        ),
        Spec("aws_ebs_volume", "v", {"availability_zone": "eu-west-3a"}, unknown=["encrypted"]),
    ]
    document = plan_document(specs, {"aws": "eu-west-3", "aws.us": "us-east-1"})
    resources = _collect(tmp_path, geo, document)
    assert resources["module.dr.aws_s3_bucket.dr"].region == "us-east-1"  # type: ignore[attr-defined]
    db = resources["aws_db_instance.db"]
    assert db.source.kind is SourceKind.TERRAFORM_PLAN  # type: ignore[attr-defined]
    assert db.encryption.key_owner is KeyOwner.CUSTOMER  # type: ignore[attr-defined]
    volume = resources["aws_ebs_volume.v"]
    assert volume.encryption.at_rest is None  # type: ignore[attr-defined]
    assert "after apply" in volume.unknowns["encryption.at_rest"]  # type: ignore[attr-defined]


def test_legacy_state_v3_flatmap(tmp_path: Path, geo: GeoTables) -> None:
    document = {
        "version": 3,
        "terraform_version": "0.11.14",
        "serial": 3,
        "modules": [
            {
                "path": ["root", "storage"],
                "resources": {
                    "aws_ebs_volume.data.0": {
                        "type": "aws_ebs_volume",
                        "provider": "provider.aws",
                        "primary": {
                            "id": "vol-1",
                            "attributes": {
                                "availability_zone": "eu-west-3a",
                                "encrypted": "false",
                                "tags.%": "1",
                                "tags.Name": "legacy",
                            },
                        },
                    }
                },
            }
        ],
    }
    path = tmp_path / "v3.tfstate"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    [volume] = collection.resources
    assert volume.id == "module.storage.aws_ebs_volume.data[0]"
    assert volume.name == "legacy"
    assert any("version 3" in note for note in collection.sources[0].notes)


def test_show_json_state_values(tmp_path: Path, geo: GeoTables) -> None:
    document = {
        "format_version": "1.0",
        "terraform_version": "1.11.4",
        "values": {
            "root_module": {
                "resources": [],
                "child_modules": [
                    {
                        "address": "module.db",
                        "resources": [
                            {
                                "address": "module.db.aws_db_instance.main",
                                "mode": "managed",
                                "type": "aws_db_instance",
                                "name": "main",
                                "provider_name": "registry.terraform.io/hashicorp/aws",
                                "values": {
                                    "arn": "arn:aws:rds:eu-west-3:1:db:main",
                                    "storage_encrypted": True,
                                    "kms_key_id": "",
                                    "password": "FixtureSecret-show-json",
                                },
                                "sensitive_values": {"password": True},
                            }
                        ],
                    }
                ],
            }
        },
    }
    resources = _collect(tmp_path, geo, document)
    db = resources["module.db.aws_db_instance.main"]
    assert db.region == "eu-west-3"  # type: ignore[attr-defined]
    assert db.attributes["password"] == "[REDACTED]"  # type: ignore[attr-defined]


def test_provider_alias_is_kept_per_resource(tmp_path: Path, geo: GeoTables) -> None:
    """Two aliases whose resources lack a region attribute each get their own region."""
    specs = [
        Spec("aws_s3_bucket", "us", {"bucket": "us", "region": "us-east-1"}, alias="us"),
        Spec("aws_s3_bucket_versioning", "us", {"bucket": "us"}, alias="us"),
        Spec("aws_s3_bucket", "fr", {"bucket": "fr", "region": "eu-west-3"}),
        Spec("aws_s3_bucket_versioning", "fr", {"bucket": "fr"}),
    ]
    resources = _collect(tmp_path, geo, state_document(specs))
    assert resources["aws_s3_bucket_versioning.us"].region == "us-east-1"  # type: ignore[attr-defined]
    assert resources["aws_s3_bucket_versioning.fr"].region == "eu-west-3"  # type: ignore[attr-defined]
