"""OVHcloud, Scaleway and 3DS Outscale resources in Terraform states and plans: location
(both OVH region schemes), encryption, replication and certified scope judged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Finding, KeyOwner, Resource
from hds_audit.testing import Spec, plan_document, state_document

GEO = GeoTables.default()
POLICIES = builtin_policies()
RDB = "fr-par/11111111-1111-1111-1111-111111111111"
# Scaleway's HDS certificate covers Object Storage in fr-par, not nl-ams (in the EU).
BUCKETS = [
    Spec("scaleway_object_bucket", "records", {"name": "records", "region": "fr-par"}),
    Spec("scaleway_object_bucket", "archive", {"name": "archive", "region": "nl-ams"}),
]


def _collect(tmp_path: Path, document: dict[str, Any]) -> dict[str, Resource]:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], GEO)
    assert collection.errors == []
    return {r.id.split(".", 1)[-1]: r for r in collection.resources}


def _verdicts(resources: Sequence[Resource], policy: str, area: str = "eu") -> dict[str, str]:
    return {
        f.resource.id.split(".", 1)[-1]: f.status.value
        for f in evaluate(POLICIES, list(resources), AllowedArea.parse(area))
        if f.resource is not None and f.policy.id == policy
    }


def _finding(resources: Sequence[Resource], name: str, policy: str) -> Finding:
    return next(
        f
        for f in evaluate(POLICIES, list(resources), AllowedArea.parse("eu"))
        if f.policy.id == policy and f.resource is not None and f.resource.id.endswith(name)
    )


def _notes(finding: Finding) -> str:
    return " ".join(str(e.note) for e in finding.evidence)


def test_both_ovh_region_schemes_and_scaleway_and_outscale_localities(tmp_path: Path) -> None:
    specs = [
        Spec("ovh_cloud_project_volume", "pass_gra11", {"id": "v1", "region_name": "GRA11"}),
        Spec("ovh_cloud_project_volume", "pass_sbg5", {"id": "v2", "region_name": "SBG5"}),
        Spec("ovh_cloud_project_volume", "pass_waw1", {"id": "v3", "region_name": "WAW1"}),
        Spec("ovh_cloud_project_volume", "fail_bhs5", {"id": "v4", "region_name": "BHS5"}),
        Spec("ovh_cloud_project_volume", "fail_uk1", {"id": "v5", "region_name": "UK1"}),
        Spec(
            "ovh_cloud_project_storage", "pass_v2_code", {"name": "s", "region_name": "eu-west-par"}
        ),
        Spec("ovh_cloud_project_database", "pass_nodes", {"id": "d", "nodes": [{"region": "GRA"}]}),
        Spec("ovh_cloud_project_volume", "unknown_code", {"id": "v6", "region_name": "MOON1"}),
        Spec("scaleway_block_volume", "pass_zone", {"id": "fr-par-2/v", "zone": "fr-par-2"}),
        Spec("scaleway_object_bucket", "pass_id_only", {"id": "nl-ams/records", "name": "records"}),
        Spec(
            "outscale_volume",
            "pass_subregion",
            {"volume_id": "vol-1", "subregion_name": "eu-west-2a"},
        ),
        Spec("outscale_vm", "vm_us", {"vm_id": "i-1", "placement_subregion_name": "us-east-2a"}),
    ]
    resources = _collect(tmp_path, state_document(specs))
    assert resources["pass_gra11"].location.region == "eu-west-gra"
    assert resources["pass_waw1"].location.region == "eu-central-waw"
    assert resources["fail_uk1"].location.region == "eu-west-eri"
    assert resources["pass_nodes"].location.region == "eu-west-gra"
    assert resources["pass_zone"].location.region == "fr-par"
    assert resources["pass_id_only"].location.region == "nl-ams"
    assert resources["pass_subregion"].location.region == "eu-west-2"
    assert resources["vm_us"].location.region == "us-east-2"
    verdicts = _verdicts(list(resources.values()), "HDS_RES_001")
    # A VM holds no data of its own (its volumes do): residency is judged on data.
    assert verdicts == {name: name.split("_", 1)[0] for name in resources if name != "vm_us"}
    assert "MOON1" in _notes(_finding(list(resources.values()), "unknown_code", "HDS_RES_001"))


def test_sovereign_locations_in_a_plan_from_the_provider_or_unknown(tmp_path: Path) -> None:
    specs = [
        # No region of its own: the provider configuration's region.
        Spec("scaleway_rdb_instance", "provider_region", {"encryption_at_rest": True}),
        Spec("ovh_cloud_project_storage", "after_apply", {"name": "x"}, unknown=["region_name"]),
    ]
    document = plan_document(specs, provider_regions={"scaleway": "fr-par", "ovh": "GRA"})
    resources = _collect(tmp_path, document)
    assert resources["provider_region"].location.region == "fr-par"
    assert resources["after_apply"].location.region is None
    assert resources["after_apply"].unknowns["region"] == "region_name known only after apply"


def test_scaleway_rdb_encryption_at_rest_pass_fail_unknown(tmp_path: Path) -> None:
    specs = [
        Spec(
            "scaleway_rdb_instance",
            "pass_on",
            {"id": RDB, "region": "fr-par", "encryption_at_rest": True, "disable_backup": True},
        ),
        Spec(
            "scaleway_rdb_instance",
            "fail_off",
            {
                "id": "fr-par/2",
                "region": "fr-par",
                "encryption_at_rest": False,
                "disable_backup": True,
            },
        ),
        Spec(
            "scaleway_rdb_read_replica",
            "pass_replica",
            {"id": "fr-par/3", "region": "fr-par", "instance_id": RDB},
        ),
        Spec(
            "scaleway_rdb_snapshot",
            "fail_snapshot_of_plain",
            {"id": "fr-par/4", "instance_id": "fr-par/2"},
        ),
        Spec(
            "scaleway_rdb_snapshot", "unknown_orphan", {"id": "fr-par/5", "instance_id": "fr-par/9"}
        ),
    ]
    resources = _collect(tmp_path, state_document(specs))
    verdicts = _verdicts(list(resources.values()), "HDS_ENC_001")
    assert verdicts == {name: name.split("_", 1)[0] for name in resources}
    assert resources["pass_on"].encryption is not None
    assert resources["pass_on"].encryption.key_owner is KeyOwner.PROVIDER
    assert resources["fail_snapshot_of_plain"].location.region == "fr-par"
    unknown = _finding(list(resources.values()), "unknown_orphan", "HDS_ENC_001")
    assert "instance is not in the audited sources" in _notes(unknown)
    plan = plan_document(
        [Spec("scaleway_rdb_instance", "unset", {"region": "fr-par"})],
        provider_regions={"scaleway": "fr-par"},
    )
    unset = _collect(tmp_path, plan)["unset"]
    assert unset.encryption is not None and unset.encryption.at_rest is None
    assert "encryption_at_rest not set" in unset.unknowns["encryption.at_rest"]


def test_scaleway_rdb_read_replicas_snapshots_and_backup_region(tmp_path: Path) -> None:
    specs = [
        Spec(
            "scaleway_rdb_instance",
            "fail_replica_outside",
            {"id": RDB, "region": "fr-par", "encryption_at_rest": True, "disable_backup": True},
        ),
        Spec(
            "scaleway_rdb_read_replica",
            "far",
            {"id": "nl-ams/r", "region": "nl-ams", "instance_id": RDB},
        ),
        Spec(
            "scaleway_rdb_instance",
            "pass_same_region",
            {
                "id": "fr-par/2",
                "region": "fr-par",
                "disable_backup": False,
                "backup_same_region": True,
            },
        ),
        Spec(
            "scaleway_rdb_snapshot",
            "snap",
            {"id": "fr-par/s", "region": "fr-par", "instance_id": "fr-par/2"},
        ),
        Spec(
            "scaleway_rdb_instance",
            "unknown_backups",
            {
                "id": "fr-par/3",
                "region": "fr-par",
                "disable_backup": False,
                "backup_same_region": False,
            },
        ),
    ]
    resources = _collect(tmp_path, state_document(specs))
    replicas = resources["fail_replica_outside"].replicas or ()
    assert [(r.kind, r.location.region) for r in replicas] == [("read_replica", "nl-ams")]
    same = resources["pass_same_region"].replicas or ()
    assert sorted((r.kind, r.location.region) for r in same) == [
        ("backup", "fr-par"),
        ("snapshot", "fr-par"),
    ]
    assert resources["unknown_backups"].replicas is None
    # France only: a read replica in Amsterdam leaves France; unknown backups stay unknown.
    verdicts = _verdicts(list(resources.values()), "HDS_REP_001", area="fr")
    assert verdicts["fail_replica_outside"] == "fail"
    assert verdicts["pass_same_region"] == "pass"
    assert verdicts["unknown_backups"] == "unknown"
    note = _notes(_finding(list(resources.values()), "unknown_backups", "HDS_REP_001"))
    assert "backup_same_region" in note


def test_ovh_database_backup_regions_and_storage_replication(tmp_path: Path) -> None:
    specs = [
        Spec(
            "ovh_cloud_project_database",
            "fail_backup_canada",
            {"id": "1", "nodes": [{"region": "GRA"}], "backup_regions": ["GRA", "BHS"]},
        ),
        Spec(
            "ovh_cloud_project_database",
            "pass_backup_france",
            {"id": "2", "nodes": [{"region": "GRA"}], "backup_regions": ["GRA", "SBG"]},
        ),
        Spec(
            "ovh_cloud_project_database",
            "unknown_no_backup_regions",
            {"id": "3", "nodes": [{"region": "GRA"}]},
        ),
        Spec(
            "ovh_cloud_project_storage",
            "fail_replicated_to_uk",
            {
                "name": "a",
                "region_name": "GRA",
                "replication": {
                    "rules": [
                        {"status": "enabled", "destination": {"name": "copy", "region": "UK"}}
                    ]
                },
            },
        ),
        Spec(
            "ovh_cloud_project_storage",
            "pass_replicated_to_rbx",
            {
                "name": "b",
                "region_name": "GRA",
                "replication": {
                    "rules": [
                        {"status": "enabled", "destination": {"name": "copy", "region": "RBX"}}
                    ]
                },
            },
        ),
    ]
    resources = _collect(tmp_path, state_document(specs))
    verdicts = _verdicts(list(resources.values()), "HDS_REP_001")
    assert verdicts == {name: name.split("_", 1)[0] for name in resources}
    backups = resources["fail_backup_canada"].replicas or ()
    assert [(r.kind, r.location.region) for r in backups] == [("backup", "ca-east-bhs")]


def test_ovh_storage_encryption_pass_fail_unknown(tmp_path: Path) -> None:
    specs = [
        Spec(
            "ovh_cloud_project_storage",
            "pass_aes",
            {"name": "a", "region_name": "GRA", "encryption": {"sse_algorithm": "AES256"}},
        ),
        Spec(
            "ovh_cloud_project_storage",
            "fail_plaintext",
            {"name": "b", "region_name": "GRA", "encryption": {"sse_algorithm": "plaintext"}},
        ),
        Spec("ovh_cloud_project_storage", "unknown_unset", {"name": "c", "region_name": "GRA"}),
        Spec("ovh_cloud_project_volume", "unknown_volume", {"id": "v", "region_name": "GRA11"}),
    ]
    resources = _collect(tmp_path, state_document(specs))
    verdicts = _verdicts(list(resources.values()), "HDS_ENC_001")
    assert verdicts == {name: name.split("_", 1)[0] for name in resources}
    note = _notes(_finding(list(resources.values()), "unknown_volume", "HDS_ENC_001"))
    assert "exposes no encryption flag" in note


def test_outscale_snapshot_copies_and_bucket_encryption(tmp_path: Path) -> None:
    specs = [
        Spec(
            "outscale_volume",
            "records",
            {"volume_id": "vol-1", "subregion_name": "cloudgouv-eu-west-1a"},
        ),
        Spec("outscale_snapshot", "source", {"snapshot_id": "snap-1", "volume_id": "vol-1"}),
        Spec(
            "outscale_snapshot",
            "copy",
            {
                "snapshot_id": "snap-2",
                "source_snapshot_id": "snap-1",
                "source_region_name": "cloudgouv-eu-west-1",
            },
        ),
        Spec("outscale_oos_bucket", "pass_encrypted", {"id": "enc", "name": "enc"}),
        Spec(
            "outscale_oos_bucket_encryption",
            "enc",
            {"id": "enc", "bucket": "enc", "encryption_type": "AES256"},
        ),
        Spec("outscale_oos_bucket", "unknown_plain", {"id": "plain", "name": "plain"}),
    ]
    document = plan_document(specs, provider_regions={"outscale": "eu-west-2"})
    resources = _collect(tmp_path, document)
    source = resources["source"]
    assert source.location.region == "cloudgouv-eu-west-1"  # where its volume is
    copy = resources["copy"]
    assert copy.location.region == "eu-west-2"  # the provider's region
    assert [(r.kind, r.location.region) for r in source.replicas or ()] == [
        ("snapshot_copy", "eu-west-2")
    ]
    verdicts = _verdicts(list(resources.values()), "HDS_ENC_001")
    assert verdicts["pass_encrypted"] == "pass"
    assert verdicts["unknown_plain"] == "unknown"
    assert resources["pass_encrypted"].location.region == "eu-west-2"


def test_certified_scope_applied_to_scaleway_resources(tmp_path: Path) -> None:
    specs = [
        *BUCKETS,
        Spec(
            "scaleway_rdb_instance",
            "database",
            {"id": RDB, "region": "fr-par", "encryption_at_rest": True, "disable_backup": True},
        ),
    ]
    resources = list(_collect(tmp_path, state_document(specs)).values())
    cert = [
        f
        for f in evaluate(POLICIES, resources, AllowedArea.parse("eu"))
        if f.policy.id == "HDS_CERT_001"
    ]
    by_scope = {f.resource_id: f for f in cert}
    assert set(by_scope) == {
        "hds-host:scaleway",
        "hds-host:scaleway/nl-ams",
        "hds-host:scaleway/database",
    }
    # In the EU, but outside Scaleway's certified region: a fail naming the scope.
    assert by_scope["hds-host:scaleway/nl-ams"].status.value == "fail"
    assert "outside the certificate's scope (fr-par)" in _notes(
        by_scope["hds-host:scaleway/nl-ams"]
    )
    assert by_scope["hds-host:scaleway/database"].status.value == "fail"
    # Inside the scope, the certificate's expiry is not in the registry: unknown, never pass.
    assert by_scope["hds-host:scaleway"].status.value == "unknown"


def test_scan_of_a_sovereign_state_end_to_end(tmp_path: Path) -> None:
    from html import unescape

    from hds_audit.testing import run_cli

    specs = [
        *BUCKETS,
        Spec(
            "outscale_volume",
            "data",
            {"volume_id": "vol-1", "subregion_name": "cloudgouv-eu-west-1a"},
        ),
    ]
    state = tmp_path / "sovereign.tfstate"
    state.write_text(json.dumps(state_document(specs)), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        ["scan", str(state), "-o", str(out), "--audit-date", "2026-11-29", "--no-history"]
    )
    assert result.exit_code == 1, result.output  # fails: a bucket outside the scope
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    cert = {
        f["resource_id"]: f["status"]
        for f in report["findings"]
        if f["policy_id"] == "HDS_CERT_001"
    }
    assert cert == {
        "hds-host:scaleway": "unknown",
        "hds-host:scaleway/nl-ams": "fail",
        "hds-host:outscale": "unknown",
    }
    frameworks = {f["id"] for f in report["compliance"]["frameworks"]}
    assert "secnumcloud" in frameworks
    html = unescape((out / "report.html").read_text(encoding="utf-8"))
    hosts = html[html.index('id="hosts"') : html.index("</section>", html.index('id="hosts"'))]
    assert "3DS Outscale IaaS (SecNumCloud 3.2)" in hosts  # the host's qualified offer
    assert 'id="fw-secnumcloud"' in html
    # The host row says why: the scope, named, in the reader's language.
    french = tmp_path / "fr"
    run_cli(["scan", str(state), "-o", str(french), "--lang", "fr", "--no-history"])
    page = unescape((french / "report.html").read_text(encoding="utf-8"))
    assert "la région nl-ams est hors du périmètre du certificat (fr-par) [S15]" in page


def test_scaleway_bucket_server_side_encryption_and_customer_key(tmp_path: Path) -> None:
    sse = "scaleway_object_bucket_server_side_encryption_configuration"

    def rule(**default: str) -> list[dict[str, Any]]:
        return [{"apply_server_side_encryption_by_default": [default]}]

    key = "fr-par/22222222-2222-2222-2222-222222222222"
    specs = [
        Spec("scaleway_object_bucket", "pass_sse", {"name": "sse", "region": "fr-par"}),
        Spec(sse, "sse", {"bucket": "sse", "rule": rule(sse_algorithm="AES256")}),
        Spec("scaleway_object_bucket", "pass_kms", {"name": "kms", "region": "fr-par"}),
        Spec(sse, "kms", {"bucket": "kms", "rule": rule(kms_master_key_id=key)}),
        Spec("scaleway_object_bucket", "unknown_none", {"name": "none", "region": "fr-par"}),
    ]
    resources = _collect(tmp_path, state_document(specs))
    buckets = [r for name, r in resources.items() if r.type == "scaleway_object_bucket"]
    assert _verdicts(buckets, "HDS_ENC_001") == {
        "pass_sse": "pass",
        "pass_kms": "pass",
        "unknown_none": "unknown",
    }
    keys = _verdicts(buckets, "HDS_KEY_001")
    assert keys["pass_kms"] == "pass" and keys["pass_sse"] == "fail"
    assert resources["pass_kms"].encryption is not None
    assert resources["pass_kms"].encryption.key_id == key
    note = _notes(_finding(buckets, "unknown_none", "HDS_ENC_001"))
    assert f"no {sse} for this bucket" in note
