"""The Google Cloud collection on a real Dask LocalCluster: workers build their own client
from the spec (the loopback endpoint, anonymous credentials) and search their projects."""

from __future__ import annotations

from asset_server import AssetServer
from gcp_estates import ORG

from hds_audit.collectors.base import Collection
from hds_audit.collectors.gcp import GcpCollector
from hds_audit.collectors.gcp.environment import ANONYMOUS
from hds_audit.executors.base import Executor
from hds_audit.executors.cluster import DaskExecutor
from hds_audit.geo import GeoTables

GEO = GeoTables.default()


def _collect(server: AssetServer, executor: Executor | None) -> Collection:
    collector = GcpCollector(
        scopes=(ORG,), endpoint_url=server.url, credential_spec=ANONYMOUS, executor=executor
    )
    collector.preflight()
    return collector.collect(GEO)


def test_dask_cluster_collects_what_the_local_pool_does(asset: AssetServer) -> None:
    local = _collect(asset, None)
    executor = DaskExecutor.connect(None, workers=1, threads_per_worker=2)
    try:
        remote = _collect(asset, executor)
    finally:
        executor.close()
    assert [r.id for r in remote.resources] == [r.id for r in local.resources]
    assert remote.resources == local.resources
    assert [(e.scope, e.kind) for e in remote.errors] == [(e.scope, e.kind) for e in local.errors]
    assert any("collected on" in note for s in remote.sources for note in s.notes)
