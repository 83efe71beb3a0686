"""The collector against the loopback ARM server: paging, retries, faults, read-only, bounds."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from arm_server import ArmEstate, ArmServer, StaticCredential, serve
from azure_estates import KEY, PROD, RG, planted
from conftest import loopback_cloud

from hds_audit.collectors.azure import AzureCollector
from hds_audit.collectors.azure.pipeline import ClientFactory, ReadOnlyViolation
from hds_audit.collectors.azure.progress import LiveProgress, LogProgress
from hds_audit.collectors.azure.table import azure_table
from hds_audit.geo import GeoTables
from hds_audit.model import KeyOwner, Kind

GEO = GeoTables.default()


def collector(server: ArmServer, ca: str, **kwargs: object) -> AzureCollector:
    return AzureCollector(
        cloud=loopback_cloud(server),
        credential=StaticCredential(),
        connection_verify=ca,
        **kwargs,  # type: ignore[arg-type]
    )


def small_estate() -> ArmEstate:
    e = ArmEstate()
    e.subscription(PROD, "hds-prod")
    e.resource_group(PROD, RG, "francecentral")
    return e


def by_name(resources: list) -> dict:  # type: ignore[type-arg]
    return {r.name: r for r in resources}


def test_paging_follows_next_link_to_the_last_page() -> None:
    e = small_estate()
    for i in range(250):
        e.generic(PROD, RG, "Microsoft.Network/networkInterfaces", f"nic{i}", "francecentral")
    with serve(e, page_size=100) as (server, ca):
        result = collector(server, ca).collect(GEO)
        pages = [r for r in server.requests() if r.path.endswith("/resources")]
    nics = [r for r in result.resources if r.type == "Microsoft.Network/networkInterfaces"]
    assert len(nics) == 250
    assert [("skiptoken" in p.query) for p in pages] == [False, True, True]
    assert result.errors == []


def test_429_retry_after_is_honoured_by_the_sdk_retry_policy() -> None:
    e = planted()
    path = f"/subscriptions/{PROD}/providers/microsoft.storage/storageaccounts"
    e.throttle[path] = 2
    e.retry_after = "0.4"
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
        calls = [r for r in server.requests() if r.path.lower() == path]
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[1].at - calls[0].at >= 0.4
    assert calls[2].at - calls[1].at >= 0.4
    assert "frgrs" in by_name(result.resources)
    assert not [err for err in result.errors if "Microsoft.Storage" in err.scope]


def test_429_without_end_becomes_a_throttled_error_and_the_run_completes() -> None:
    e = planted()
    path = f"/subscriptions/{PROD}/providers/microsoft.compute/disks"
    e.throttle[path] = 100
    e.retry_after = "0.05"
    with serve(e) as (server, ca):
        result = collector(server, ca, retry_total=2).collect(GEO)
    errors = {err.scope: err for err in result.errors}
    assert errors[f"azure:{PROD}/Microsoft.Compute"].kind == "throttled"
    disk = by_name(result.resources)["vm-os"]  # from the inventory, details unknown
    assert disk.encryption is not None and disk.encryption.at_rest is None
    assert "details not readable: throttled" in disk.unknowns["encryption.at_rest"]


def test_unregistered_namespace_is_an_error_and_nothing_is_registered() -> None:
    with serve(planted()) as (server, ca):
        result = collector(server, ca).collect(GEO)
        methods = {r.method for r in server.requests()}
    errors = {err.scope: err for err in result.errors}
    error = errors[f"azure:{PROD}/Microsoft.DataProtection"]
    assert error.kind == "not_registered"
    assert "not registered" in error.message and "read-only" in error.message
    assert methods == {"GET"}  # the SDK's automatic registration POST never left the process


def test_read_only_policy_refuses_writes_before_they_are_sent() -> None:
    with serve(planted()) as (server, ca):
        factory = ClientFactory(StaticCredential(), loopback_cloud(server), connection_verify=ca)
        storage = factory.client(azure_table().clients["storage"], PROD)
        with pytest.raises(ReadOnlyViolation, match="refused POST"):
            storage.storage_accounts.list_keys(RG, "frgrs")
        factory.close()
        assert server.requests("POST") == []


def test_forbidden_subscription_collapses_to_one_error_others_still_audited() -> None:
    with serve(planted()) as (server, ca):
        result = collector(server, ca).collect(GEO)
    denied = [err for err in result.errors if "a002" in err.scope]
    assert [(e.scope, e.kind) for e in denied] == [
        ("azure:0a1b2c3d-0000-4000-8000-00000000a002", "access_denied")
    ]
    assert "hds-denied" in denied[0].message
    assert denied[0].details["provider"] == "azure"
    assert {"frgrs", "weragrs", "ukdata", "patients", "vm-os"} <= set(by_name(result.resources))


def test_detail_failure_makes_that_fact_unknown_with_the_reason() -> None:
    e = planted()
    server_id = (
        f"/subscriptions/{PROD}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/records-sql"
    )
    e.faults[f"{server_id}/replicationLinks".lower()] = (403, "AuthorizationFailed")
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
    patients = by_name(result.resources)["patients"]
    assert patients.replicas is None
    assert "replication links not readable: access denied" in patients.unknowns["replicas"]
    scopes = {err.scope for err in result.errors}
    assert f"azure:{server_id}/replication_links" in scopes


def test_normalised_facts_of_the_planted_estate() -> None:
    with serve(planted()) as (server, ca):
        result = collector(server, ca).collect(GEO)
    r = by_name(result.resources)
    assert [(x.kind, x.location.region) for x in r["frgrs"].replicas or ()] == [
        ("geo_pair", "francesouth")
    ]
    assert r["frgrs"].encryption is not None
    assert r["frgrs"].encryption.key_owner is KeyOwner.CUSTOMER
    assert (
        r["frgrs"].encryption.key_id
        == "https://kv-hds.vault.azure.net/keys/hds/0123456789abcdef/hds"
    )
    assert [x.location.region for x in r["weragrs"].replicas or ()] == ["northeurope"]
    assert r["ukdata"].replicas == ()
    assert [(x.kind, x.location.region) for x in r["patients"].replicas or ()] == [
        ("geo_replica", "eastus")
    ]
    assert r["vm-os"].encryption is not None
    assert r["vm-os"].encryption.key_owner is KeyOwner.PROVIDER
    assert [x.location.region for x in r["cosmos-hds"].replicas or ()] == ["switzerlandnorth"]
    assert [x.location.region for x in r["kv-hds"].replicas or ()] == ["francesouth"]
    assert "master" not in r  # system database
    assert r["vm"].kind is Kind.COMPUTE
    boundary = next(x for x in result.resources if x.type == "Microsoft.Resources/dataBoundaries")
    assert boundary.attributes["data_boundary"] == "EU"
    assert boundary.location.non_regional
    assert KEY in (r["cosmos-hds"].encryption.key_id or "")


def test_global_and_empty_locations_are_non_regional_never_a_pass() -> None:
    e = small_estate()
    e.generic(PROD, RG, "Microsoft.Network/frontDoors", "fd", "global")
    e.generic(PROD, RG, "Microsoft.Cache/redis", "cache", "")
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
    r = by_name(result.resources)
    assert r["fd"].location.non_regional and r["fd"].kind is Kind.NETWORK
    assert r["cache"].location.non_regional
    assert r["cache"].unknowns["region"] == "no location in the ARM resource: non-regional"


def test_object_replication_target_is_located_after_collection() -> None:
    e = small_estate()
    target = e.storage(PROD, RG, "copyuk", "uksouth", "Standard_LRS", KEY)
    e.storage(
        PROD, RG, "source", "francecentral", "Standard_LRS", KEY, object_replication_to=target
    )
    e.storage(
        PROD,
        RG,
        "elsewhere",
        "francecentral",
        "Standard_LRS",
        KEY,
        object_replication_to="/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/gone",
    )
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
    r = by_name(result.resources)
    assert [(x.kind, x.location.region) for x in r["source"].replicas or ()] == [
        ("object_replication", "uksouth")
    ]
    assert [x.location.region for x in r["elsewhere"].replicas or ()] == [None]
    assert "not among the audited resources" in r["elsewhere"].unknowns["replicas"]


def test_parallelism_is_bounded_per_subscription() -> None:
    e = small_estate()
    for i in range(30):
        e.storage(PROD, RG, f"st{i}", "francecentral", "Standard_LRS", KEY)
    with serve(e, latency=0.02) as (server, ca):
        cloud = replace(loopback_cloud(server), data_boundaries=False)  # no tenant-wide call
        AzureCollector(
            cloud=cloud,
            credential=StaticCredential(),
            connection_verify=ca,
            max_workers=16,
            per_subscription=3,
        ).collect(GEO)
        assert 1 <= server.peak <= 3


def test_explicit_subscriptions_are_read_with_get_not_list() -> None:
    with serve(planted()) as (server, ca):
        result = collector(server, ca, subscriptions=(PROD,)).collect(GEO)
        paths = {r.path for r in server.requests()}
    assert "/subscriptions" not in paths
    assert f"/subscriptions/{PROD}" in paths
    assert not any("a002" in p for p in paths)
    assert result.sources[0].path == f"azure:{PROD}"


def test_progress_log_lines_and_live_display() -> None:
    log = io.StringIO()
    with serve(planted()) as (server, ca):
        collector(server, ca, progress=LogProgress(log)).collect(GEO)
    lines = log.getvalue().splitlines()
    assert (
        "azure: hds-prod (0a1b2c3d-0000-4000-8000-00000000a001): storage_accounts: 3 resource(s)"
        in lines
    )
    assert any("hds-denied" in line and "error(s): access denied" in line for line in lines)
    live = io.StringIO()
    services = 1 + len(azure_table().services)
    with serve(planted()) as (server, ca):
        collector(server, ca, progress=LiveProgress(live, services, interval=0)).collect(GEO)
    screen = live.getvalue()
    assert "\x1b[2K" in screen and "\x1b[2F" in screen
    assert "done services" in screen.splitlines()[-1] or "done services" in screen


def test_every_table_operation_exists_on_the_real_sdk_client(tmp_path: Path) -> None:
    from hds_audit.collectors.azure.clouds import CLOUDS
    from hds_audit.collectors.azure.pipeline import operation

    table = azure_table()
    factory = ClientFactory(StaticCredential(), CLOUDS["public"])
    calls = [
        (c.client, c.operation)
        for c in (
            table.subscriptions_list,
            table.subscriptions_get,
            table.data_boundary,
            *table.inventory,
        )
    ]
    for service in table.services:
        calls.append((service.client, service.operation))
        calls.extend((service.client, d.operation) for d in service.details)
    for client, dotted in calls:
        assert callable(operation(factory.client(table.clients[client], PROD), dotted)), dotted
    factory.close()


def test_every_action_is_a_read_and_every_service_declares_some() -> None:
    table = azure_table()
    assert all(a.endswith("/read") for a in table.actions())
    for service in table.services:
        assert service.actions and all(d.actions for d in service.details)
        from hds_audit.collectors.azure.normalise import NORMALISERS

        assert service.normaliser in NORMALISERS


@pytest.mark.parametrize("setting", ["Global", "NotDefined"])
def test_tenant_outside_the_eu_data_boundary_fails(setting: str) -> None:
    from hds_audit.engine import builtin_policies, evaluate
    from hds_audit.geo import AllowedArea

    e = small_estate()
    e.routes["/providers/microsoft.resources/databoundaries/default"]["properties"][
        "dataBoundary"
    ] = setting
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
    tenant = [p for p in builtin_policies() if p.id == "HDS_TEN_001"]
    findings = evaluate(tenant, result.resources, AllowedArea.parse("eu"))
    judged = {f.resource.type: f.status.value for f in findings}
    assert judged["Microsoft.Resources/dataBoundaries"] == "fail"


def test_unreadable_data_boundary_is_an_error_on_the_tenant_scope() -> None:
    e = small_estate()
    e.faults["/providers/microsoft.resources/databoundaries/default"] = (
        403,
        "AuthorizationFailed",
    )
    with serve(e) as (server, ca):
        result = collector(server, ca).collect(GEO)
    assert [(err.scope, err.kind) for err in result.errors] == [
        ("azure:tenant/7d2c5a1e-0000-4000-8000-00000000aaaa/dataBoundaries", "access_denied")
    ]
    assert not [r for r in result.resources if r.type == "Microsoft.Resources/dataBoundaries"]


def test_non_public_clouds_have_no_data_boundary_call() -> None:
    with serve(small_estate()) as (server, ca):
        cloud = replace(loopback_cloud(server), data_boundaries=False)
        AzureCollector(cloud=cloud, credential=StaticCredential(), connection_verify=ca).collect(
            GEO
        )
        assert not [r for r in server.requests() if "dataBoundaries" in r.path]


def test_parallelism_is_bounded_per_service() -> None:
    from hds_audit.collectors.azure.runner import Task, run_tasks

    lock = threading.Lock()
    active = {"storage": 0, "sql": 0}
    peak = {"storage": 0, "sql": 0}

    def call(service: str) -> list[Task]:
        with lock:
            active[service] += 1
            peak[service] = max(peak[service], active[service])
        time.sleep(0.01)
        with lock:
            active[service] -= 1
        return []

    tasks = [
        Task("sub", ("sub", service), partial(call, service))
        for service in ("storage", "sql")
        for _ in range(20)
    ]
    run_tasks(tasks, max_workers=8, per_key=8, per_group=2)
    assert peak == {"storage": 2, "sql": 2}
