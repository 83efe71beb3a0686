"""Google Cloud resources in Terraform states and plans: location, keys and copies judged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Finding, KeyOwner, Resource
from hds_audit.testing import Spec, plan_document, state_document

GEO = GeoTables.default()
POLICIES = builtin_policies()
KEY = "projects/hds/locations/europe-west9/keyRings/ring/cryptoKeys/records"


def _collect(tmp_path: Path, document: dict[str, Any]) -> list[Resource]:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], GEO)
    assert collection.errors == []
    return collection.resources


def _findings(resources: Sequence[Resource], area: str = "eu") -> dict[tuple[str, str], Finding]:
    return {
        (f.resource.id.split(".", 1)[-1], f.policy.id): f
        for f in evaluate(POLICIES, list(resources), AllowedArea.parse(area))
        if f.resource is not None
    }


def _status(findings: dict[tuple[str, str], Finding], name: str, policy: str) -> str:
    return findings[(name, policy)].status.value


def _notes(finding: Finding) -> str:
    return " ".join(str(e.note) for e in finding.evidence)


BUCKETS = [
    Spec("google_storage_bucket", "pass_eu", {"name": "records-eu", "location": "EU"}),
    Spec("google_storage_bucket", "fail_us", {"name": "records-us", "location": "US"}),
    Spec("google_storage_bucket", "pass_eur4", {"name": "records-eur4", "location": "EUR4"}),
    Spec("google_storage_bucket", "fail_eur5", {"name": "records-eur5", "location": "EUR5"}),
    Spec("google_storage_bucket", "pass_paris", {"name": "p", "location": "EUROPE-WEST9"}),
    Spec("google_storage_bucket", "unknown_code", {"name": "u", "location": "EUROPE-MOON1"}),
]


def test_bucket_multi_and_dual_regions_resolve_to_their_countries(tmp_path: Path) -> None:
    findings = _findings(_collect(tmp_path, state_document(BUCKETS)))
    verdicts = {
        name: f.status.value for (name, policy), f in findings.items() if policy == "HDS_RES_001"
    }
    assert verdicts == {
        "pass_eu": "pass",
        "fail_us": "fail",
        "pass_eur4": "pass",
        "fail_eur5": "fail",
        "pass_paris": "pass",
        "unknown_code": "unknown",
    }
    assert "EUROPE-MOON1" in _notes(findings[("unknown_code", "HDS_RES_001")])


def test_eu_multi_region_fails_in_france_only_mode(tmp_path: Path) -> None:
    findings = _findings(_collect(tmp_path, state_document(BUCKETS[:1])), area="fr")
    assert _status(findings, "pass_eu", "HDS_RES_001") == "fail"


def test_default_encryption_is_on_with_its_source_and_cmek_is_the_customers(
    tmp_path: Path,
) -> None:
    specs = [
        Spec("google_storage_bucket", "default_key", {"name": "d", "location": "EU"}),
        Spec(
            "google_storage_bucket",
            "cmek",
            {"name": "c", "location": "EU", "encryption": [{"default_kms_key_name": KEY}]},
        ),
        Spec(
            "google_compute_disk",
            "csek",
            {"name": "disk", "zone": "europe-west9-a", "disk_encryption_key": [{"raw_key": "x"}]},
        ),
        Spec(
            "google_compute_disk",
            "csek_sensitive",
            {"name": "d2", "zone": "europe-west9-b", "disk_encryption_key": [{"raw_key": "x"}]},
            sensitive=["disk_encryption_key"],
        ),
        Spec("google_sql_database_instance", "sql", {"name": "db", "region": "europe-west9"}),
    ]
    resources = {r.id.split(".", 1)[-1]: r for r in _collect(tmp_path, state_document(specs))}
    default = resources["default_key"].encryption
    assert default is not None and default.at_rest is True
    assert default.key_owner is KeyOwner.PROVIDER
    assert "cloud.google.com/docs/security/encryption/default-encryption" in str(default.key_id)
    findings = _findings(list(resources.values()))
    assert _status(findings, "default_key", "HDS_ENC_001") == "pass"
    assert _status(findings, "default_key", "HDS_KEY_001") == "fail"
    assert _status(findings, "cmek", "HDS_KEY_001") == "pass"
    assert _status(findings, "csek", "HDS_KEY_001") == "pass"
    assert _status(findings, "csek_sensitive", "HDS_KEY_001") == "pass"
    assert _status(findings, "sql", "HDS_KEY_001") == "fail"
    assert resources["csek"].location.country == "FR"
    assert "customer-supplied" in str(resources["csek"].encryption)


def test_plan_key_known_after_apply(tmp_path: Path) -> None:
    specs = [
        Spec(
            "google_storage_bucket",
            "created_key",
            {"name": "a", "location": "EU", "encryption": [{}]},
            unknown=["encryption.0.default_kms_key_name"],
            references={"encryption.default_kms_key_name": ["google_kms_crypto_key.records.id"]},
        ),
        Spec(
            "google_storage_bucket",
            "variable_key",
            {"name": "b", "location": "EU", "encryption": [{}]},
            unknown=["encryption.0.default_kms_key_name"],
        ),
        Spec("google_storage_bucket", "later_location", {"name": "c"}, unknown=["location"]),
        Spec("google_compute_region_disk", "provider_region", {"name": "d"}),
    ]
    plan = plan_document(specs, provider_regions={"google": "europe-west9"})
    findings = _findings(_collect(tmp_path, plan))
    assert _status(findings, "created_key", "HDS_KEY_001") == "pass"
    assert _status(findings, "variable_key", "HDS_KEY_001") == "unknown"
    assert "known only after apply" in _notes(findings[("variable_key", "HDS_KEY_001")])
    assert _status(findings, "later_location", "HDS_RES_001") == "unknown"
    assert "location known only after apply" in _notes(findings[("later_location", "HDS_RES_001")])
    assert _status(findings, "provider_region", "HDS_RES_001") == "pass"


def _sql(name: str, region: str, **extra: Any) -> Spec:
    return Spec("google_sql_database_instance", name, {"name": name, "region": region, **extra})


def test_cloud_sql_read_replicas_and_backups(tmp_path: Path) -> None:
    backups_eu = {"settings": [{"backup_configuration": [{"enabled": True, "location": "eu"}]}]}
    backups_default = {"settings": [{"backup_configuration": [{"enabled": True}]}]}
    specs = [
        _sql("pass_primary", "europe-west9", **backups_eu),
        _sql("pass_replica", "europe-west1", master_instance_name="pass_primary"),
        _sql("fail_primary", "europe-west9"),
        _sql("fail_replica", "us-east1", master_instance_name="hds:fail_primary", project="hds"),
        _sql("unknown_backups", "europe-west9", **backups_default),
    ]
    findings = _findings(_collect(tmp_path, state_document(specs)))
    assert _status(findings, "pass_primary", "HDS_REP_001") == "pass"
    assert _status(findings, "fail_primary", "HDS_REP_001") == "fail"
    assert "us-east1" in _notes(findings[("fail_primary", "HDS_REP_001")])
    assert _status(findings, "unknown_backups", "HDS_REP_001") == "unknown"


def test_spanner_bigtable_pubsub_secrets_and_parents(tmp_path: Path) -> None:
    specs = [
        Spec("google_spanner_instance", "pass_regional", {"config": "regional-europe-west9"}),
        Spec("google_spanner_instance", "pass_eur3", {"name": "s3", "config": "eur3"}),
        Spec("google_spanner_instance", "fail_eur6", {"config": "eur6"}),
        Spec("google_spanner_instance", "unknown_config", {"config": "nam-eur-asia1"}),
        Spec(
            "google_bigtable_instance",
            "fail_clusters",
            {"cluster": [{"cluster_id": "a", "zone": "europe-west1-b"}, {"zone": "us-east1-c"}]},
        ),
        Spec("google_pubsub_topic", "unknown_topic", {"name": "t"}),
        Spec(
            "google_pubsub_topic",
            "pass_topic",
            {
                "name": "t2",
                "message_storage_policy": [
                    {"allowed_persistence_regions": ["europe-west9", "europe-west1"]}
                ],
            },
        ),
        Spec("google_secret_manager_secret", "unknown_auto", {"replication": [{"auto": [{}]}]}),
        Spec(
            "google_secret_manager_secret",
            "fail_user_managed",
            {
                "replication": [
                    {
                        "user_managed": [
                            {"replicas": [{"location": "europe-west9"}, {"location": "us-east1"}]}
                        ]
                    }
                ]
            },
        ),
        Spec("google_bigquery_dataset", "eu_dataset", {"dataset_id": "records", "location": "EU"}),
        Spec("google_bigquery_dataset", "us_copy", {"dataset_id": "copy", "location": "US"}),
        Spec(
            "google_bigquery_data_transfer_config",
            "copy_job",
            {
                "location": "US",
                "data_source_id": "cross_region_copy",
                "destination_dataset_id": "copy",
                "params": {"source_dataset_id": "records", "source_project_id": "hds"},
            },
        ),
        Spec("google_bigquery_table", "pass_table", {"dataset_id": "records", "table_id": "t"}),
        Spec("google_bigquery_table", "unknown_table", {"dataset_id": "elsewhere"}),
        Spec("google_kms_key_ring", "ring", {"name": "ring", "location": "us"}),
        Spec(
            "google_kms_crypto_key",
            "fail_key",
            {"name": "k", "key_ring": "projects/hds/locations/us-east1/keyRings/ring"},
        ),
    ]
    findings = _findings(_collect(tmp_path, state_document(specs)))
    assert _status(findings, "pass_regional", "HDS_RES_001") == "pass"
    assert _status(findings, "pass_eur3", "HDS_REP_001") == "pass"
    assert _status(findings, "fail_eur6", "HDS_REP_001") == "fail"
    assert _status(findings, "unknown_config", "HDS_RES_001") == "unknown"
    assert "nam-eur-asia1" in _notes(findings[("unknown_config", "HDS_RES_001")])
    assert _status(findings, "fail_clusters", "HDS_RES_001") == "pass"
    assert _status(findings, "fail_clusters", "HDS_REP_001") == "fail"
    assert _status(findings, "unknown_topic", "HDS_RES_001") == "unknown"
    assert _status(findings, "pass_topic", "HDS_RES_001") == "pass"
    assert _status(findings, "pass_topic", "HDS_REP_001") == "pass"
    assert _status(findings, "unknown_auto", "HDS_RES_001") == "unknown"
    assert _status(findings, "unknown_auto", "HDS_REP_001") == "unknown"
    assert _status(findings, "fail_user_managed", "HDS_RES_001") == "pass"
    assert _status(findings, "fail_user_managed", "HDS_REP_001") == "fail"
    assert _status(findings, "eu_dataset", "HDS_REP_001") == "fail"
    assert _status(findings, "pass_table", "HDS_RES_001") == "pass"
    assert _status(findings, "unknown_table", "HDS_RES_001") == "unknown"
    assert _status(findings, "ring", "HDS_RES_001") == "fail"
    assert _status(findings, "fail_key", "HDS_RES_001") == "fail"


@pytest.mark.parametrize(
    ("location", "in_eu"),
    [("EU", True), ("eur4", True), ("EUR8", False), ("NAM4", False), ("ASIA1", False)],
)
def test_multi_region_codes_are_data(location: str, in_eu: bool) -> None:
    found = GEO.locate("google", location)
    assert found.members and found.in_eu is in_eu


def test_google_beta_resources_are_google_cloud(tmp_path: Path) -> None:
    document = state_document(
        [Spec("google_storage_bucket", "beta", {"name": "b", "location": "EUROPE-WEST9"})]
    )
    document["resources"][0]["provider"] = 'provider["registry.terraform.io/hashicorp/google-beta"]'
    (resource,) = _collect(tmp_path, document)
    assert resource.provider == "gcp"
    assert resource.location.country == "FR"


def test_a_customer_supplied_key_marked_sensitive_in_a_nested_block_is_redacted(
    tmp_path: Path,
) -> None:
    raw = "c2VjcmV0LWN1c3RvbWVyLWtleQ=="
    document = state_document(
        [
            Spec(
                "google_compute_disk",
                "csek",
                {"name": "d", "zone": "europe-west9-a", "disk_encryption_key": [{"raw_key": raw}]},
            )
        ]
    )
    # what terraform writes for google's sensitive raw_key: get_attr / index / get_attr
    document["resources"][0]["instances"][0]["sensitive_attributes"] = [
        [
            {"type": "get_attr", "value": "disk_encryption_key"},
            {"type": "index", "value": {"value": 0, "type": "number"}},
            {"type": "get_attr", "value": "raw_key"},
        ]
    ]
    (resource,) = _collect(tmp_path, document)
    assert raw not in repr(resource)
    assert resource.encryption is not None and resource.encryption.key_owner is KeyOwner.CUSTOMER


def test_location_attribute_per_type(tmp_path: Path) -> None:
    specs = [
        Spec(
            "google_compute_snapshot", "pass_snapshot", {"name": "s", "storage_locations": ["eu"]}
        ),
        Spec("google_compute_snapshot", "unknown_snapshot", {"name": "s2"}),
        Spec("google_redis_instance", "pass_redis", {"name": "r", "region": "europe-west9"}),
        Spec(
            "google_filestore_instance", "fail_filestore", {"name": "f", "location": "us-east1-b"}
        ),
        Spec("google_artifact_registry_repository", "pass_repo", {"location": "europe-west9"}),
        Spec("google_alloydb_cluster", "pass_alloydb", {"location": "europe-west1"}),
        Spec("google_dataproc_cluster", "fail_dataproc", {"name": "d", "region": "us-central1"}),
        Spec(
            "google_storage_bucket",
            "fail_custom_dual",
            {
                "name": "c",
                "location": "EU",
                "custom_placement_config": [{"data_locations": ["EUROPE-WEST1", "US-EAST1"]}],
            },
        ),
    ]
    findings = _findings(_collect(tmp_path, state_document(specs)))
    assert _status(findings, "pass_snapshot", "HDS_RES_001") == "pass"
    assert _status(findings, "unknown_snapshot", "HDS_RES_001") == "unknown"
    assert "storage_locations not set" in _notes(findings[("unknown_snapshot", "HDS_RES_001")])
    assert _status(findings, "pass_redis", "HDS_RES_001") == "pass"
    assert _status(findings, "fail_filestore", "HDS_RES_001") == "fail"
    assert _status(findings, "pass_repo", "HDS_RES_001") == "pass"
    assert _status(findings, "pass_alloydb", "HDS_RES_001") == "pass"
    assert _status(findings, "fail_dataproc", "HDS_RES_001") == "fail"
    assert _status(findings, "fail_custom_dual", "HDS_REP_001") == "fail"


def test_a_boot_disk_created_with_its_vm_is_judged_as_block_storage(tmp_path: Path) -> None:
    def vm(name: str, **boot: object) -> Spec:
        disk = {"initialize_params": [{"image": "debian-12"}], **boot}
        return Spec(
            "google_compute_instance",
            name,
            {"name": name, "zone": "europe-west9-a", "boot_disk": [disk]},
        )

    specs = [
        vm("cmek_vm", kms_key_self_link=KEY),
        vm("default_vm"),
        Spec(
            "google_compute_instance",
            "attached_vm",
            {"name": "a", "zone": "europe-west9-a", "boot_disk": [{"source": "disk-1"}]},
        ),
    ]
    resources = {r.id: r for r in _collect(tmp_path, state_document(specs))}
    assert "google_compute_instance.attached_vm.boot_disk" not in resources
    findings = _findings(list(resources.values()))
    assert _status(findings, "cmek_vm.boot_disk", "HDS_KEY_001") == "pass"
    assert _status(findings, "default_vm.boot_disk", "HDS_KEY_001") == "fail"
    assert _status(findings, "default_vm.boot_disk", "HDS_RES_001") == "pass"
    assert resources["google_compute_instance.default_vm.boot_disk"].kind.value == "block_storage"
