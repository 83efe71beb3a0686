"""The 3DS Outscale collector: the real ``osc-sdk-python`` gateway against the loopback OSC API."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from osc_server import OscServer, planted, serve

from hds_audit.collectors.outscale import OutscaleCollector
from hds_audit.collectors.outscale.collect import (
    ReadOnlyViolation,
    oos_service,
    outscale_services,
    read_only_gateway,
)
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.i18n import Msg, messages
from hds_audit.reports.json_report import schema_text
from hds_audit.testing import run_cli

GEO = GeoTables.default()
REGIONS = ("eu-west-2", "cloudgouv-eu-west-1", "us-east-2")


def test_regions_read_page_by_page_with_one_region_refusing_the_keys(osc_api: OscServer) -> None:
    collector = OutscaleCollector(regions=REGIONS, endpoint_url=osc_api.url)
    collector.preflight()
    collection = collector.collect(GEO)
    by_id = {r.id: r for r in collection.resources}
    assert sorted(by_id) == sorted(
        [f"outscale:eu-west-2/vol-{i}" for i in range(5)]
        + ["outscale:eu-west-2/snap-1", "outscale:eu-west-2/i-1", "outscale:eu-west-2/ami-own"]
        + ["outscale:cloudgouv-eu-west-1/vol-gov"]
    )
    gov = by_id["outscale:cloudgouv-eu-west-1/vol-gov"]
    assert gov.location.region == "cloudgouv-eu-west-1" and gov.name == "records"
    assert by_id["outscale:eu-west-2/snap-1"].location.region == "eu-west-2"
    assert {e.scope: e.kind for e in collection.errors} == {"outscale:us-east-2": "access_denied"}
    # Five volumes at two per page: three ReadVolumes calls in Paris, each after the last token.
    pages = [body for path, body in osc_api.requests if path == "/eu-west-2/api/v1/ReadVolumes"]
    assert [body.get("NextPageToken") for body in pages] == [None, "2", "4"]


def test_the_accounts_private_images_read_and_judged(osc_api: OscServer) -> None:
    collector = OutscaleCollector(regions=("eu-west-2",), endpoint_url=osc_api.url)
    collector.preflight()
    resources = collector.collect(GEO).resources
    images = {r.id: r for r in resources if r.type == "outscale_image"}
    # Outscale's public catalogue is not the account's data: only private OMIs are asked for.
    assert list(images) == ["outscale:eu-west-2/ami-own"]
    image = images["outscale:eu-west-2/ami-own"]
    assert image.location.region == "eu-west-2"  # the region read
    assert image.unknowns["encryption.at_rest"] == Msg("collect.outscale.image_at_rest")
    asked = [body for path, body in osc_api.requests if path.endswith("/ReadImages")]
    assert [body.get("Filters") for body in asked] == [
        {"PermissionsToLaunchGlobalPermission": False}
    ]
    findings = {
        (f.resource.id, f.policy.id): f.status.value
        for f in evaluate(builtin_policies(), resources, AllowedArea.parse("eu"))
        if f.resource is not None
    }
    assert findings[(image.id, "HDS_RES_001")] == "pass"
    assert findings[(image.id, "HDS_ENC_001")] == "unknown"


def test_an_image_outside_the_allowed_area_fails_residency() -> None:
    estate = planted()
    estate.refused.clear()
    with serve(estate) as api:
        collector = OutscaleCollector(regions=("us-east-2",), endpoint_url=api.url)
        collector.preflight()
        resources = collector.collect(GEO).resources
    findings = {
        (f.resource.id, f.policy.id): f.status.value
        for f in evaluate(builtin_policies(), resources, AllowedArea.parse("eu"))
        if f.resource is not None
    }
    assert findings[("outscale:us-east-2/ami-us", "HDS_RES_001")] == "fail"


def test_every_reason_of_the_services_table_is_a_catalogue_key() -> None:
    keys = [s.at_rest_unknown for s in (*outscale_services()[1], oos_service())]
    assert [k for k in keys if k and k not in messages("en")] == []
    assert len([k for k in keys if k]) == 4


def test_the_gateway_refuses_anything_but_read_before_sending(osc_api: OscServer) -> None:
    gateway = read_only_gateway("eu-west-2", osc_api.url)
    with pytest.raises(ReadOnlyViolation):
        gateway.CreateVolume(SubregionName="eu-west-2a", Size=10)
    with pytest.raises(ReadOnlyViolation):
        gateway.raw("DeleteVolume", VolumeId="vol-0")
    assert osc_api.requests == []


def test_scan_outscale_end_to_end(osc_api: OscServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["scan", "--outscale-endpoint-url", osc_api.url, "-o", str(out), "--no-history"]
    for region in REGIONS:
        args += ["--outscale-region", region]
    result = run_cli(args)
    assert result.exit_code == 2, result.output  # one region unreadable: reported, rest audited
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(schema_text()))
    kinds = {f["source_kind"] for f in data["findings"] if f.get("subject") != "host"}
    assert kinds == {"outscale-api"}
    assert [e["scope"] for e in data["errors"]] == ["outscale:us-east-2"]


def test_missing_keys_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OSC_ACCESS_KEY")
    monkeypatch.delenv("OSC_SECRET_KEY")
    result = run_cli(["scan", "--outscale", "-o", str(tmp_path / "out"), "--no-history"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Outscale: no access key; set OSC_ACCESS_KEY" in lines[0]


def test_permissions_outscale_is_an_eim_policy_of_read_actions() -> None:
    result = run_cli(["permissions", "outscale"])
    assert result.exit_code == 0
    (statement,) = json.loads(result.output)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == [
        "api:ReadVolumes",
        "api:ReadSnapshots",
        "api:ReadVms",
        "api:ReadImages",
    ]


def test_oos_buckets_through_the_s3_compatible_endpoint(osc_api: OscServer, oos_url: str) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=oos_url,
        region_name="eu-west-2",
        aws_access_key_id="TESTACCESSKEY",
        aws_secret_access_key="TESTSECRETKEY",
    )
    names = ("hds-oos-records", "hds-oos-exports")  # moto's store is shared: own names, removed
    for name in names:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    try:
        s3.put_bucket_encryption(
            Bucket=names[0],
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        collector = OutscaleCollector(
            regions=("eu-west-2",), endpoint_url=osc_api.url, oos_endpoint_url=oos_url
        )
        collector.preflight()
        collection = collector.collect(GEO)
    finally:
        for name in names:
            s3.delete_bucket(Bucket=name)
    buckets = {r.id: r for r in collection.resources if r.type == "outscale_oos_bucket"}
    assert set(buckets) >= {f"outscale:eu-west-2/{n}" for n in names}
    records = buckets["outscale:eu-west-2/hds-oos-records"]
    assert records.location.region == "eu-west-2"
    assert records.encryption is not None and records.encryption.at_rest is True
    exports = buckets["outscale:eu-west-2/hds-oos-exports"]
    assert exports.encryption is None
    assert exports.unknowns["encryption.at_rest"] == Msg("collect.outscale.bucket_at_rest")
    assert collection.errors == []


def test_oos_calls_other_than_list_and_get_are_refused(oos_url: str) -> None:
    from hds_audit.collectors.outscale.collect import read_only_s3

    client = read_only_s3(oos_url, "eu-west-2")
    with pytest.raises(ReadOnlyViolation):
        client.create_bucket(Bucket="refused")
    with pytest.raises(ReadOnlyViolation):
        client.delete_bucket(Bucket="records")
    names = {b["Name"] for b in client.list_buckets().get("Buckets") or ()}
    assert "refused" not in names


def test_each_cloud_missing_its_keys_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OSC_ACCESS_KEY")
    for name in ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ovh.conf here
    result = run_cli(["scan", "--ovh", "--outscale", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "OVHcloud: no API endpoint" in lines[0]
    assert lines[1].startswith("Outscale: no access key")
