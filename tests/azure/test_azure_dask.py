"""The Azure collection on a real Dask LocalCluster (two worker processes on loopback).

Workers build their own environment from the spec -- the loopback ARM server's endpoints and
CA bundle, and a credential factory they import -- and return normalised results; the
collector assembles them here. Same estate, same collection and findings as the local
thread pool; a worker killed mid-call is retried, or its scope is ``unknown`` with the reason;
shards 1/2 and 2/2 together audit exactly what one unsharded run does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from arm_server import ArmEstate, ArmServer, StaticCredential, serve
from azure_estates import KEY, PROD, RG, planted
from conftest import loopback_cloud

from hds_audit.collectors.azure import AzureCollector
from hds_audit.collectors.azure.table import azure_table
from hds_audit.collectors.azure.testing import LOOPBACK_CREDENTIAL, LOOPBACK_TOKEN
from hds_audit.collectors.base import Collection
from hds_audit.errors import UsageError
from hds_audit.executors.cluster import DaskExecutor
from hds_audit.geo import GeoTables
from hds_audit.model import Status
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.sharding import Shard, shard_of

GEO = GeoTables.default()
VAULTS = f"/subscriptions/{PROD}/providers/Microsoft.KeyVault/vaults"
# (subscription, service) groups of the planted estate: 2 subscriptions, inventory + services
GROUPS = 2 * (1 + len(azure_table().services))
T = TypeVar("T")


@pytest.fixture(scope="module")
def dask() -> Iterator[DaskExecutor]:
    """One LocalCluster for the module: 2 worker processes, 4 threads each, on 127.0.0.1."""
    executor = DaskExecutor.connect(None, workers=2, threads_per_worker=4)
    try:
        yield executor
    finally:
        executor.close()


@pytest.fixture
def cluster(dask: DaskExecutor) -> DaskExecutor:
    """The module's cluster with both workers up (a test before may have killed one)."""
    dask.client.wait_for_workers(2, timeout=120)
    return dask


def collector(
    server: ArmServer, ca: str, executor: DaskExecutor | None = None, **kwargs: Any
) -> AzureCollector:
    """Local runs use the injected credential; workers import the loopback factory."""
    kwargs.setdefault("credential_spec", LOOPBACK_CREDENTIAL)
    return AzureCollector(
        cloud=loopback_cloud(server),
        credential=StaticCredential(),
        connection_verify=ca,
        executor=executor,
        **kwargs,
    )


def shape(collection: Collection) -> tuple[Any, ...]:
    """Everything but the notes (a Dask run says where it was collected)."""
    sources = [(s.path, s.kind, s.resources) for s in collection.sources]
    return collection.resources, collection.errors, sources


def in_background(run: Callable[[], T], then: Callable[[], None]) -> T:
    """``run`` on another thread while ``then`` acts on the cluster; ``run``'s result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run)
        then()
        return future.result(timeout=180)


class Seen:
    """Progress that counts the (subscription, service) results the collector has taken."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def subscription(self, subscription: str, label: str) -> None:
        return None

    def finished(
        self, subscription: str, service: str, resources: int, errors: int, message: str | None
    ) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def close(self) -> None:
        return None

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, timeout), self.count


def kill_worker_running(executor: DaskExecutor, fragment: str, timeout: float = 60.0) -> int:
    """SIGKILL the worker process running the task whose key contains ``fragment``; its pid."""
    client = executor.client
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processing = client.processing()
        holders = [a for a, keys in processing.items() if any(fragment in str(k) for k in keys)]
        if holders:
            address = holders[0]
            pid = int(client.run(os.getpid, workers=[address])[address])
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no worker ran a task matching {fragment!r} within {timeout} s")


def kill_during_vault_listing(server: ArmServer, executor: DaskExecutor, seen: Seen) -> int:
    """Once the key vault listing hangs at the server and every other result is back here,
    kill the worker making it (nothing else runs then); the held request is let go after."""
    try:
        assert server.held.wait(60), "the key vault listing never reached the server"
        seen.wait_for(GROUPS - 1)
        return kill_worker_running(executor, f"azure/{PROD}/key_vaults")
    finally:
        server.release.set()


def test_dask_collection_equals_the_local_one(cluster: DaskExecutor) -> None:
    with serve(planted()) as (server, ca):
        local_run = collector(server, ca)
        local = local_run.collect(GEO)
        before = len(server.requests())
        remote_run = collector(server, ca, cluster)
        remote = remote_run.collect(GEO)
        remote_requests = server.requests()[before:]
    assert len(local.resources) >= 10 and local.errors  # the planted estate, with its faults
    assert shape(remote) == shape(local)
    # every call of the Dask run was made by a worker, with the credential it imported
    assert {r.token for r in remote_requests} == {LOOPBACK_TOKEN}
    assert remote_run.stats.requests == local_run.stats.requests == len(remote_requests)
    assert all(any("collected on Dask LocalCluster" in n for n in s.notes) for s in remote.sources)


def test_dask_scan_gives_the_same_findings(cluster: DaskExecutor) -> None:
    def scan(executor: DaskExecutor | None, server: ArmServer, ca: str) -> tuple[Any, Any]:
        report = run_scan(ScanOptions(collectors=[collector(server, ca, executor)]))
        findings = [
            (f.policy_id, f.resource_id, f.status, f.evidence, f.reason) for f in report.findings
        ]
        return findings, [(e.scope, e.kind, e.message) for e in report.errors]

    with serve(planted()) as (server, ca):
        local_findings, local_errors = scan(None, server, ca)
        remote_findings, remote_errors = scan(cluster, server, ca)
    assert remote_findings == local_findings
    assert remote_errors == local_errors
    assert {Status.PASS, Status.FAIL, Status.UNKNOWN} <= {f[2] for f in local_findings}


def sharded_estate() -> ArmEstate:
    """The planted estate and four more subscriptions, one storage account each."""
    e = planted()
    for i in range(4):
        sub = f"0c000000-0000-4000-8000-{i:012d}"
        e.subscription(sub, f"extra-{i}")
        e.resource_group(sub, RG, "francecentral")
        e.storage(sub, RG, f"extra{i}", "westeurope", "Standard_LRS", KEY)
    return e


def test_shards_together_audit_exactly_the_unsharded_run(cluster: DaskExecutor) -> None:
    with serve(sharded_estate()) as (server, ca):
        whole = collector(server, ca).collect(GEO)
        parts = []
        for index in (1, 2):
            before = len(server.requests())
            part = collector(server, ca, cluster, shard=Shard(index, 2)).collect(GEO)
            paths = [r.path.lower() for r in server.requests()[before:]]
            parts.append((index, part, paths))
    subscriptions = [s.path for s in whole.sources if not s.path.startswith("azure:tenant")]
    assert len(subscriptions) == 6
    owned: list[str] = []
    for index, part, paths in parts:
        mine = [s.path for s in part.sources if not s.path.startswith("azure:tenant")]
        assert mine and all(shard_of(p, 2) == index for p in mine)
        assert all(f"shard {index}/2" in s.notes for s in part.sources)
        # no call of this shard touched a subscription of the other
        others = {p.removeprefix("azure:").lower() for p in subscriptions} - {
            p.removeprefix("azure:").lower() for p in mine
        }
        assert not [p for p in paths if any(f"/subscriptions/{o}" in p for o in others)]
        owned.extend(mine)
    assert sorted(owned) == sorted(subscriptions)  # each subscription in exactly one shard

    def by_id(items: list[Any], key: Callable[[Any], str]) -> list[Any]:
        return sorted(items, key=key)

    combined = [r for _, part, _ in parts for r in part.resources]
    assert by_id(combined, lambda r: r.id) == by_id(whole.resources, lambda r: r.id)
    combined_errors = [e for _, part, _ in parts for e in part.errors]
    assert by_id(combined_errors, lambda e: e.scope) == by_id(whole.errors, lambda e: e.scope)
    tenant = shard_of("azure:tenant", 2)
    boundary = [
        (index, s.notes)
        for index, part, _ in parts
        for s in part.sources
        if s.path.startswith("azure:tenant")
    ]
    assert [index for index, _ in boundary] == [tenant]
    assert f"read by shard {tenant}/2 only (it owns azure:tenant)" in boundary[0][1]


def test_the_credential_is_checked_where_tasks_run(cluster: DaskExecutor) -> None:
    with serve(planted()) as (server, ca):
        collector(server, ca, cluster).preflight()  # the workers' imported credential works
        missing = "import:hds_audit.collectors.azure.testing:no_such_factory"
        with pytest.raises(UsageError, match="could not be checked where tasks run"):
            collector(server, ca, cluster, credential_spec=missing).preflight()
        with pytest.raises(UsageError, match="is not a credential source"):
            collector(server, ca, cluster, credential_spec="a-token-here").preflight()
        assert server.requests() == []


def test_worker_killed_mid_call_is_retried_and_the_collection_is_complete(
    cluster: DaskExecutor,
) -> None:
    with serve(planted()) as (server, ca):
        local = collector(server, ca).collect(GEO)
        server.hold(VAULTS, times=1)
        seen = Seen()
        killed: list[int] = []
        remote = in_background(
            lambda: collector(server, ca, cluster, progress=seen).collect(GEO),
            lambda: killed.append(kill_during_vault_listing(server, cluster, seen)),
        )
        vault_calls = [r for r in server.requests() if r.path.lower() == VAULTS.lower()]
    assert len(vault_calls) == 1 + 2  # the local run; the killed worker's call, its retry
    assert shape(remote) == shape(local)
    assert seen.count == GROUPS
    cluster.client.wait_for_workers(2, timeout=60)
    assert killed and killed[0] not in cluster.client.run(os.getpid).values()


def test_task_lost_for_good_makes_its_scope_unknown_with_the_reason(
    cluster: DaskExecutor,
) -> None:
    scheduler = cluster.cluster.scheduler  # the LocalCluster's, in this process
    allowed = scheduler.allowed_failures
    with serve(planted()) as (server, ca):
        local = collector(server, ca).collect(GEO)
        server.hold(VAULTS, times=100)
        seen = Seen()
        scan = ScanOptions(collectors=[collector(server, ca, cluster, progress=seen)])
        scheduler.allowed_failures = 0  # the first worker lost with the task is one too many
        try:
            report = in_background(
                lambda: run_scan(scan), lambda: kill_during_vault_listing(server, cluster, seen)
            )
        finally:
            scheduler.allowed_failures = allowed
    scope = f"azure:{PROD}/Microsoft.KeyVault"
    lost = [e for e in report.errors if e.kind == "task_lost"]
    assert [e.scope for e in lost] == [scope]
    assert lost[0].message.startswith("worker lost while running the task")
    assert "KilledWorker" in lost[0].message
    # the run completed, and the rest of it is as the local one
    assert seen.count == GROUPS
    assert [e for e in report.errors if e.scope != scope] == local.errors
    on_scope = [f for f in report.findings if f.resource_id == scope]
    assert on_scope and all(f.status is Status.UNKNOWN for f in on_scope)
    assert all(f.reason == f"not audited: {lost[0].message}" for f in on_scope)
    vault = next(r for r in report.resources if r.name == "kv-hds")
    assert vault.unknowns["replicas"] == f"details not readable: {lost[0].message}"
    assert {r.id for r in report.resources} == {r.id for r in local.resources}


def test_a_crashing_task_leaves_its_scope_unknown_locally_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hds_audit.collectors.azure import normalise

    def broken(*args: Any) -> list[Any]:
        raise ValueError("normaliser bug")

    monkeypatch.setitem(normalise.NORMALISERS, "key_vault", broken)
    with serve(planted()) as (server, ca):
        result = collector(server, ca).collect(GEO)
    errors = {e.scope: e for e in result.errors}
    crashed = errors[f"azure:{PROD}/Microsoft.KeyVault"]
    assert crashed.kind == "task_lost"
    assert crashed.message == "task crashed (ValueError: normaliser bug)"
    vault = next(r for r in result.resources if r.name == "kv-hds")  # from the inventory
    assert vault.unknowns["replicas"] == f"details not readable: {crashed.message}"
