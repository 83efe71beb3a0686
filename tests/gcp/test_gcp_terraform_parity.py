"""The same Google Cloud resources, read from a Terraform state and from the live API, get the
same verdicts (one policy set judges both)."""

from __future__ import annotations

import json
from pathlib import Path

from asset_server import AssetEstate, serve

from hds_audit.collectors.gcp import GcpCollector
from hds_audit.collectors.gcp.environment import ANONYMOUS
from hds_audit.collectors.terraform import collect_terraform
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Resource
from hds_audit.testing import Spec, state_document

GEO = GeoTables.default()
KEY = "projects/p/locations/europe-west9/keyRings/r/cryptoKeys/k"
# name -> (Terraform spec, asset type, API location, KMS keys)
SAME = {
    "eu_cmek": (
        Spec(
            "google_storage_bucket",
            "eu_cmek",
            {"name": "eu_cmek", "location": "EU", "encryption": [{"default_kms_key_name": KEY}]},
        ),
        "storage.googleapis.com/Bucket",
        "eu",
        [KEY],
    ),
    "us_default": (
        Spec("google_storage_bucket", "us_default", {"name": "us_default", "location": "US"}),
        "storage.googleapis.com/Bucket",
        "us",
        None,
    ),
    "paris_disk": (
        Spec("google_compute_disk", "paris_disk", {"name": "paris_disk", "zone": "europe-west9-a"}),
        "compute.googleapis.com/Disk",
        "europe-west9-a",
        None,
    ),
    "sql_cmek": (
        Spec(
            "google_sql_database_instance",
            "sql_cmek",
            {"name": "sql_cmek", "region": "europe-west1", "encryption_key_name": KEY},
        ),
        "sqladmin.googleapis.com/Instance",
        "europe-west1",
        [KEY],
    ),
    "eur8_bucket": (
        Spec("google_storage_bucket", "eur8_bucket", {"name": "eur8_bucket", "location": "EUR8"}),
        "storage.googleapis.com/Bucket",
        "eur8",
        None,
    ),
}


def _verdicts(resources: list[Resource]) -> dict[tuple[str, str], str]:
    return {
        (str(f.resource.name), f.policy.id): f.status.value
        for f in evaluate(builtin_policies(), resources, AllowedArea.parse("eu"))
        if f.resource is not None and f.resource.provider == "gcp"
    }


def test_terraform_and_gcp_api_get_the_same_verdicts(tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps(state_document(s for s, *_ in SAME.values())), encoding="utf-8")
    from_terraform = collect_terraform([str(state)], GEO)
    assert from_terraform.errors == []
    estate = AssetEstate()
    project = estate.project("7", "parity", "organizations/7")
    for name, (_, asset_type, location, keys) in SAME.items():
        detail = {"name": name, "settings": {"backupConfiguration": {"enabled": False}}}
        estate.asset(project, asset_type, name, location, keys, detail)
    with serve(estate) as server:
        collector = GcpCollector(
            scopes=(project,), endpoint_url=server.url, credential_spec=ANONYMOUS
        )
        collector.preflight()
        from_api = collector.collect(GEO)
    assert from_api.errors == []
    api, terraform = _verdicts(from_api.resources), _verdicts(from_terraform.resources)
    assert api == terraform
    assert api[("us_default", "HDS_RES_001")] == "fail"
    assert api[("eur8_bucket", "HDS_RES_001")] == "fail"
    assert api[("eu_cmek", "HDS_KEY_001")] == "pass"
    assert api[("paris_disk", "HDS_KEY_001")] == "fail"
