"""The Scaleway collection on a real Dask LocalCluster: workers read the SCW_* variables of
their own environment and list their projects' zones and regions."""

from __future__ import annotations

from api_server import ScalewayApiServer

from hds_audit.collectors.base import Collection
from hds_audit.collectors.scaleway import ScalewayCollector
from hds_audit.executors.base import Executor
from hds_audit.executors.cluster import DaskExecutor
from hds_audit.geo import GeoTables

GEO = GeoTables.default()


def _collect(api: ScalewayApiServer, s3_url: str, executor: Executor | None) -> Collection:
    collector = ScalewayCollector(api_url=api.url, s3_endpoint_url=s3_url, executor=executor)
    collector.preflight()
    return collector.collect(GEO)


def test_dask_cluster_collects_what_the_local_pool_does(
    api: ScalewayApiServer, s3_url: str
) -> None:
    local = _collect(api, s3_url, None)
    executor = DaskExecutor.connect(None, workers=1, threads_per_worker=2)
    try:
        remote = _collect(api, s3_url, executor)
    finally:
        executor.close()
    assert sorted(r.id for r in remote.resources) == sorted(r.id for r in local.resources)
    assert sorted(remote.resources, key=lambda r: r.id) == sorted(
        local.resources, key=lambda r: r.id
    )
    assert [(e.scope, e.kind) for e in remote.errors] == [(e.scope, e.kind) for e in local.errors]
    assert any("collected on" in note for s in remote.sources for note in s.notes)
