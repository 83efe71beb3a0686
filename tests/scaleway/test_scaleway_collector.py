"""The real ``scaleway`` SDK against the loopback Scaleway API; buckets through boto3 against
moto's server."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from api_server import ScalewayApiServer, ScalewayEstate, serve
from scw_estates import (
    ACCESS_KEY,
    ALPHA,
    ALPHA_NAMES,
    BETA,
    FAILING_ZONE,
    GAMMA,
    GAMMA_NAMES,
    SECRET_KEY,
    SERVERS,
    Builder,
)

from hds_audit.collectors.base import Collection
from hds_audit.collectors.scaleway import ScalewayCollector, scaleway_table
from hds_audit.collectors.scaleway.environment import (
    ReadOnlyViolation,
    ScalewayEnvironment,
    ScalewayEnvSpec,
    load_credentials,
)
from hds_audit.collectors.scaleway.tasks import ListBuckets, ListLocality
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.errors import UsageError
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import KeyOwner
from hds_audit.sharding import Shard

GEO = GeoTables.default()


def _collect(
    api: ScalewayApiServer,
    s3_url: str,
    shard: Shard | None = None,
    **settings: object,
) -> Collection:
    collector = ScalewayCollector(
        api_url=api.url,
        s3_endpoint_url=s3_url,
        shard=shard,
        **settings,  # type: ignore[arg-type]
    )
    collector.preflight()
    return collector.collect(GEO)


def test_organisation_audits_readable_projects_denied_and_failing_scopes_are_errors(
    api: ScalewayApiServer, s3_url: str
) -> None:
    collection = _collect(api, s3_url)
    names = {r.name for r in collection.resources if r.type != "scaleway_object_bucket"}
    assert names == ALPHA_NAMES | GAMMA_NAMES  # the sbs twin and hidden items are not there
    assert {r.source.account for r in collection.resources} == {ALPHA, GAMMA}
    errors = {e.scope: e for e in collection.errors}
    assert set(errors) == {
        f"scaleway:{BETA}",
        f"scaleway:{ALPHA}/{FAILING_ZONE}",
        f"scaleway:{GAMMA}/{FAILING_ZONE}",
    }
    assert errors[f"scaleway:{BETA}"].kind == "access_denied"
    assert "HTTP 403" in errors[f"scaleway:{BETA}"].message
    assert errors[f"scaleway:{ALPHA}/{FAILING_ZONE}"].message == (
        f"HTTP 503: {FAILING_ZONE} is unavailable"
    )
    assert errors[f"scaleway:{BETA}"].details["source_kind"] == "scaleway-api"
    # real HTTP: the SDK paged through the loopback server, with GET only
    sent = api.requests()
    assert sent and all(r.method == "GET" for r in sent)
    servers = [r for r in sent if r.path == "/instance/v1/zones/fr-par-1/servers"]
    alpha_pages = [r.query["page"][0] for r in servers if r.query.get("project") == [ALPHA]]
    assert alpha_pages == [str(p) for p in range(1, (SERVERS + 1) // 2 + 1)]
    rdb = [r for r in sent if r.path == "/rdb/v1/regions/fr-par/instances"]
    assert all(r.query.get("page_size") == ["100"] for r in rdb)
    assert [r.query.get("organization_id") for r in sent if r.path == "/account/v3/projects"]


def test_api_answers_are_judged_by_the_policies(api: ScalewayApiServer, s3_url: str) -> None:
    collection = _collect(api, s3_url)
    findings = {
        (f.resource.name, f.policy.id): f.status.value
        for f in evaluate(builtin_policies(), collection.resources, AllowedArea.parse("eu"))
        if f.resource is not None and f.resource.provider == "scaleway"
    }
    assert findings[("pass_kms_volume", "HDS_ENC_001")] == "pass"
    assert findings[("pass_kms_volume", "HDS_KEY_001")] == "pass"
    assert findings[("unknown_block_volume", "HDS_ENC_001")] == "unknown"
    assert findings[("unknown_local_volume", "HDS_ENC_001")] == "unknown"
    assert findings[("fail_unencrypted_db", "HDS_ENC_001")] == "fail"
    assert findings[("pass_db", "HDS_ENC_001")] == "pass"
    assert findings[("pass_db", "HDS_REP_001")] == "pass"
    assert findings[("unknown_backups_db", "HDS_REP_001")] == "unknown"
    assert findings[("pass-par-sse", "HDS_ENC_001")] == "pass"
    assert findings[("fail-ams-plain", "HDS_ENC_001")] == "fail"
    assert findings[("waw_db", "HDS_RES_001")] == "pass"
    assert findings[("pass-par-sse", "HDS_RES_001")] == "pass"
    db = next(r for r in collection.resources if r.name == "pass_db")
    assert [(c.kind, c.location.region) for c in db.replicas or ()] == [
        ("read_replica", "fr-par"),
        ("snapshot", "fr-par"),
    ]
    volume = next(r for r in collection.resources if r.name == "pass_kms_volume")
    assert volume.encryption is not None and volume.encryption.key_owner is KeyOwner.CUSTOMER
    bucket = next(r for r in collection.resources if r.name == "fail-ams-plain")
    assert bucket.location.region == "nl-ams" and bucket.id == "scaleway:s3/nl-ams/fail-ams-plain"


def test_an_unknown_region_code_is_unknown_and_named(s3_url: str) -> None:
    estate = ScalewayEstate(secret_key=SECRET_KEY)
    Builder(estate).database(ALPHA, "fr-par", "unknown_region_db", encrypted=True)
    estate.items["/rdb/v1/regions/fr-par/instances"][0]["region"] = "de-fra"
    with serve(estate) as server:
        collection = _collect(server, s3_url, projects=(ALPHA,), regions=("fr-par",))
    findings = [
        f
        for f in evaluate(builtin_policies(), collection.resources, AllowedArea.parse("eu"))
        if f.resource is not None
        and f.resource.name == "unknown_region_db"
        and f.policy.id == "HDS_RES_001"
    ]
    assert [f.status.value for f in findings] == ["unknown"]
    assert "de-fra" in " ".join(str(e.note) for e in findings[0].evidence)


def test_read_only_guard_refuses_other_calls_before_sending(
    api: ScalewayApiServer, s3_url: str
) -> None:
    spec = ScalewayEnvSpec(api.url, s3_url)
    env = ScalewayEnvironment(spec, load_credentials())
    try:
        with pytest.raises(ReadOnlyViolation, match="delete_server refused"):
            env.api("instance").delete_server(server_id="x", zone="fr-par-1")
        # below the method guard, the SDK's request method refuses it too
        with pytest.raises(ReadOnlyViolation, match="HTTP POST"):
            env.api("instance")._api.create_volume(zone="fr-par-1", name="x")
        with pytest.raises(ReadOnlyViolation, match="s3:PutBucketEncryption refused"):
            env.s3("fr-par").put_bucket_encryption(
                Bucket="pass-par-sse", ServerSideEncryptionConfiguration={"Rules": []}
            )
        with pytest.raises(ReadOnlyViolation, match="s3:DeleteBucket refused"):
            env.s3("fr-par").delete_bucket(Bucket="pass-par-sse")
    finally:
        env.close()
    assert api.requests() == []
    assert {c.call for c in scaleway_table().services.values()} == {
        "list_servers",
        "list_volumes",
        "list_snapshots",
        "list_instances",
        "list_clusters",
        "list_namespaces",
    }


def test_shards_split_the_projects(api: ScalewayApiServer, s3_url: str) -> None:
    parts = [_collect(api, s3_url, shard=Shard(i, 2)) for i in (1, 2)]
    scopes = [{s.path for s in part.sources} for part in parts]
    assert scopes[0].isdisjoint(scopes[1])
    assert scopes[0] | scopes[1] == {
        *(f"scaleway:{p}" for p in (ALPHA, BETA, GAMMA)),
        f"scaleway:{ALPHA}/object-storage",  # the API key's preferred project
    }
    whole = _collect(api, s3_url)
    assert sorted(r.id for p in parts for r in p.resources) == sorted(r.id for r in whole.resources)


def test_projects_given_are_the_only_ones_read(api: ScalewayApiServer, s3_url: str) -> None:
    collection = _collect(api, s3_url, projects=(GAMMA,))
    assert {r.name for r in collection.resources} - {"pass-par-sse", "fail-ams-plain"} == (
        GAMMA_NAMES
    )
    assert not [r for r in api.requests() if r.path == "/account/v3/projects"]


def test_tasks_and_spec_travel_to_workers() -> None:
    for task in (ListLocality(ALPHA, "fr-par-1", "zone"), ListBuckets("nl-ams")):
        assert pickle.loads(pickle.dumps(task)) == task
    spec = ScalewayEnvSpec("http://127.0.0.1:1", None, "prod")
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert SECRET_KEY not in repr(load_credentials())


def test_no_credentials_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCW_SECRET_KEY")
    with pytest.raises(UsageError, match=r"SCW_SECRET_KEY not set\); set SCW_ACCESS_KEY"):
        ScalewayCollector().preflight()


def test_no_project_nor_organisation_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCW_DEFAULT_PROJECT_ID")
    monkeypatch.delenv("SCW_DEFAULT_ORGANIZATION_ID")
    with pytest.raises(UsageError, match="no project or organisation to audit"):
        ScalewayCollector().preflight()


def test_credentials_from_the_scaleway_config_profile(
    api: ScalewayApiServer, s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SCW_ACCESS_KEY", "SCW_SECRET_KEY", "SCW_DEFAULT_ORGANIZATION_ID"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("SCW_DEFAULT_PROJECT_ID")
    config = tmp_path / "scw" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        f"access_key: SCWAAAAAAAAAAAAAAAAA\nsecret_key: 00000000-0000-4000-8000-000000000000\n"
        f"profiles:\n  audit:\n    access_key: {ACCESS_KEY}\n    secret_key: {SECRET_KEY}\n"
        f"    default_project_id: {GAMMA}\n    api_url: {api.url}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SCW_CONFIG_PATH", str(config))
    collector = ScalewayCollector(profile="audit", regions=("pl-waw",), s3_endpoint_url=s3_url)
    collector.preflight()
    collection = collector.collect(GEO)
    assert {r.name for r in collection.resources} == GAMMA_NAMES
    with pytest.raises(UsageError, match="Profile 'missing' not found"):
        ScalewayCollector(profile="missing").preflight()


def test_rate_limited_calls_are_retried(
    api: ScalewayApiServer, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = "/rdb/v1/regions/fr-par/instances"
    api.estate.throttle[path] = 2
    collector = ScalewayCollector(
        projects=(ALPHA,), regions=("fr-par",), api_url=api.url, s3_endpoint_url=s3_url
    )
    collector.preflight()
    collection = collector.collect(GEO)
    assert collection.errors == []
    assert {"pass_db", "fail_unencrypted_db"} <= {r.name for r in collection.resources}
    sent = [r for r in api.requests() if r.path == path]
    assert len(sent) == 3
    # every request counted, retries included; and fr-par's S3 calls: ListBuckets, the
    # location of both buckets, the encryption of the one in fr-par
    assert collector.stats.requests == len(api.requests()) + 4


def test_types_the_terraform_table_knows_have_the_same_kind() -> None:
    from hds_audit.collectors.terraform.normalise import type_table

    terraform = type_table()
    table = scaleway_table()
    ours = {c.type: c.kind for c in table.services.values() if c.type}
    ours[table.buckets.type] = table.buckets.kind
    assert len(ours) == 9
    for name, kind in ours.items():
        if name in terraform.specs:  # parity once collectors/terraform describes the type
            assert terraform.spec(name).kind is kind, name


def test_an_unreadable_organisation_is_an_error_and_the_default_project_is_audited(
    api: ScalewayApiServer, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "0c1f6a52-3d4b-4a8e-9f10-aa0000000999"
    monkeypatch.setenv("SCW_DEFAULT_ORGANIZATION_ID", other)
    collection = _collect(api, s3_url, regions=("fr-par",))
    assert [(e.scope, e.kind) for e in collection.errors] == [
        (f"scaleway:organization/{other}", "access_denied")
    ]
    assert {r.source.account for r in collection.resources} == {ALPHA}


def test_an_unreachable_object_storage_is_an_error_per_region(api: ScalewayApiServer) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    collection = _collect(api, closed, projects=(GAMMA,), regions=("pl-waw", "fr-par"))
    assert [(e.scope, e.kind) for e in collection.errors] == [
        (f"scaleway:{ALPHA}/fr-par/object-storage", "unreachable"),
        (f"scaleway:{ALPHA}/pl-waw/object-storage", "unreachable"),
    ]
    assert "Object Storage unreachable" in str(collection.errors[0].message)
    assert {r.name for r in collection.resources} == GAMMA_NAMES
