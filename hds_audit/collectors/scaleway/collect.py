"""Collect live Scaleway projects through Scaleway's own SDK and the S3-compatible endpoint.

An organisation is first resolved to its projects (account API); then each (project, zone)
and (project, region) is one :class:`ListLocality` task and each region's Object Storage one
:class:`ListBuckets` task, run on the collector's executor (local threads or Dask) and sharded
by project (``scaleway:<project>``; buckets belong to the API key's preferred project). A
project that answers 403 everywhere is one ``errors`` entry; a zone or region that fails is an
error on ``scaleway:<project>/<zone>``; either way their findings are ``unknown`` while the
rest is audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hds_audit.collectors.api_common import add_scope
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.failure import Failure
from hds_audit.collectors.runs import (
    CollectStats,
    ScopeProgress,
    runs_elsewhere,
    source_notes,
    timed_run,
)
from hds_audit.collectors.scaleway.environment import (
    Credentials,
    ScalewayEnvironment,
    ScalewayEnvSpec,
    load_credentials,
)
from hds_audit.collectors.scaleway.failures import scaleway_error
from hds_audit.collectors.scaleway.normalise import bucket, normalise
from hds_audit.collectors.scaleway.table import ScalewayTable, scaleway_table
from hds_audit.collectors.scaleway.tasks import (
    BUCKETS,
    FindProjects,
    ListBuckets,
    Listed,
    ListLocality,
)
from hds_audit.errors import UsageError
from hds_audit.executors.base import Environment, Executor, Task
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import Resource, Source, SourceKind
from hds_audit.sharding import Shard

KIND = SourceKind.SCALEWAY_API


def regions_of(geo: GeoTables, wanted: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Region -> zones to audit: the given regions, or every verified one of the geo table."""
    regions: dict[str, list[str]] = {}
    for region in wanted or tuple(geo.known_regions("scaleway")):
        info = geo.region_info("scaleway", region)
        if info is None:
            raise UsageError(f"Scaleway: region {region!r} is not in the Scaleway region table")
        if not wanted and info.get("verified") is False:
            continue  # a region the table itself doubts is audited only when asked for
        regions[region] = [str(z) for z in info.get("zones") or ()]
    return regions


@dataclass
class ScalewayCollector:
    """Every project the credentials can read (or the ones given), as a Collector."""

    projects: tuple[str, ...] = ()
    organization: str | None = None
    regions: tuple[str, ...] = ()
    api_url: str | None = None
    s3_endpoint_url: str | None = None
    profile: str | None = None
    max_workers: int = 16
    executor: Executor | None = None
    shard: Shard | None = None
    progress: ScopeProgress = field(default_factory=ScopeProgress)
    table: ScalewayTable = field(default_factory=scaleway_table)
    clock: Callable[[], float] = time.monotonic
    stats: CollectStats = field(default_factory=CollectStats)
    credentials: Credentials | None = None
    name: str = "scaleway"

    @property
    def remote(self) -> bool:
        return runs_elsewhere(self.executor)

    def preflight(self) -> None:
        """Read the credentials and decide the projects now: none is one line, exit 2."""
        if self.credentials is None:
            self.credentials = load_credentials(self.profile)
        if not self.projects and self.organization is None:
            self.organization = self.credentials.organization_id
            if self.organization is None and self.credentials.project_id:
                self.projects = (self.credentials.project_id,)
        if not self.projects and self.organization is None:
            raise UsageError(
                "Scaleway: no project or organisation to audit; set SCW_DEFAULT_ORGANIZATION_ID "
                "(every project) or SCW_DEFAULT_PROJECT_ID, or give --scaleway-project"
            )

    @property
    def spec(self) -> ScalewayEnvSpec:
        return ScalewayEnvSpec(self.api_url, self.s3_endpoint_url, self.profile)

    @property
    def bucket_project(self) -> str:
        """Whose buckets the S3 endpoint lists: the API key's preferred project."""
        default = self.credentials.project_id if self.credentials else None
        return default or "preferred-project"

    def environment(self) -> Environment:
        if self.remote:
            return Environment(self.spec)
        if self.credentials is None:
            self.preflight()
        assert self.credentials is not None
        return Environment(self.spec, ScalewayEnvironment(self.spec, self.credentials, self.table))

    def collect(self, geo: GeoTables) -> Collection:
        result, self.stats = timed_run(
            lambda: _Run(self, geo, regions_of(geo, self.regions)),
            self.environment,
            self.executor,
            self.max_workers,
            self.clock,
        )
        return result


class _Run:
    """One run of a :class:`ScalewayCollector`: which tasks, and what came back."""

    def __init__(self, owner: ScalewayCollector, geo: GeoTables, regions: dict[str, list[str]]):
        self.owner = owner
        self.geo = geo
        self.regions = regions
        self.requests = 0
        self.projects: list[str] = []
        self.listed: dict[str, dict[str, Listed]] = {}  # project -> locality -> result
        self.pending: dict[str, int] = {}
        self.discovery: Listed | None = None
        self.buckets: dict[str, Listed] = {}

    @property
    def project_count(self) -> int:
        return len(self.projects)

    def owns(self, scope: str) -> bool:
        return self.owner.shard is None or self.owner.shard.owns(f"scaleway:{scope}")

    def project_tasks(self, projects: Iterable[str]) -> list[Task]:
        tasks: list[Task] = []
        for project in projects:
            if project in self.projects or not self.owns(project):
                continue
            self.projects.append(project)
            self.listed[project] = {}
            for region, zones in self.regions.items():
                tasks.append(ListLocality(project, region, "region"))
                tasks.extend(ListLocality(project, zone, "zone") for zone in zones)
            self.pending[project] = sum(1 + len(z) for z in self.regions.values())
        return tasks

    def first_tasks(self) -> list[Task]:
        tasks: list[Task] = []
        if self.owner.organization is not None and not self.owner.projects:
            tasks.append(FindProjects(self.owner.organization))
        tasks.extend(self.project_tasks(self.owner.projects))
        if self.owns(self.owner.bucket_project):
            tasks.extend(ListBuckets(region) for region in self.regions)
        return tasks

    def follow(self, task: Task, result: Any) -> Iterable[Task]:
        if isinstance(task, FindProjects) and isinstance(result, Listed):
            self.requests += result.requests
            self.discovery = result
            found = result.projects
            default = self.owner.credentials.project_id if self.owner.credentials else None
            if result.failure is not None and default:
                found = [default]  # the organisation is unreadable: its default project still is
            return self.project_tasks(found)
        return []

    def record(self, task: Task, result: Any) -> None:
        if not isinstance(result, Listed):
            return
        if isinstance(task, ListLocality):
            self.requests += result.requests
            self.listed[task.project][task.locality] = result
            self.pending[task.project] -= 1
            if self.pending[task.project] == 0:
                self._report(task.project)
        elif isinstance(task, ListBuckets):
            self.requests += result.requests
            self.buckets[task.region] = result

    def _report(self, project: str) -> None:
        results = self.listed[project]
        count = sum(len(v) for r in results.values() for v in r.items.values())
        failed = sorted(loc for loc, r in results.items() if r.failures)
        self.owner.progress.scope(f"scaleway {project}", count, _denied(results), failed)

    def collection(self, executor: str | None) -> Collection:
        result = Collection()
        notes = source_notes(self.owner.shard, executor, self.owner.api_url)
        organization = self.owner.organization
        if self.discovery is not None and organization is not None and self.owns(organization):
            failure = self.discovery.failure
            if failure is not None:
                result.errors.append(scaleway_error(f"organization/{organization}", failure))
            elif not self.discovery.projects:
                empty = Failure("empty", Msg("error.scaleway_no_project"))
                result.errors.append(scaleway_error(f"organization/{organization}", empty))
        for project in sorted(self.projects):
            self._project(project, result, notes)
        self._buckets(result, notes)
        return result

    def _project(self, project: str, result: Collection, notes: list[str]) -> None:
        listed = self.listed.get(project, {})
        source = Source(kind=KIND, account=project)
        label = f"scaleway:{project}"
        failure = _denied(listed)
        if failure is not None:
            result.errors.append(scaleway_error(project, failure))
            add_scope(result, label, KIND, [], notes)
            return
        table = self.owner.table
        snapshots: dict[str, list[dict[str, Any]]] = {}
        snapshots_unread: Msg | None = None
        for locality, found in sorted(listed.items()):
            for item in found.items.get("rdb_snapshots", []):
                snapshots.setdefault(str(item.get("instance_id")), []).append(item)
            if "rdb_snapshots" in found.failures:
                snapshots_unread = Msg(
                    "collect.scaleway.rdb_snapshots_unread",
                    locality=locality,
                    message=found.failures["rdb_snapshots"].message,
                )
        resources: list[Resource] = []
        for locality, found in sorted(listed.items()):
            scope = f"{project}/{locality}"
            failure = found.failure
            if failure is not None:
                result.errors.append(scaleway_error(scope, failure))
            else:
                for name, why in sorted(found.failures.items()):
                    result.errors.append(scaleway_error(f"{scope}/{name}", why, service=name))
            for name, items in found.items.items():
                call = table.services[name]
                if call.feeds is not None:
                    continue
                for item in items:
                    extra: dict[str, Any] = {}
                    if name == "rdb_instances":
                        extra = {
                            "snapshots": None
                            if snapshots_unread
                            else snapshots.get(str(item.get("id")), []),
                            "snapshots_unread": snapshots_unread,
                        }
                    resources.append(normalise(call, item, table, self.geo, source, extra))
        add_scope(result, label, KIND, resources, notes)

    def _buckets(self, result: Collection, notes: list[str]) -> None:
        if not self.buckets:
            return
        project = self.owner.bucket_project
        source = Source(kind=KIND, account=project)
        count = 0
        for region, found in sorted(self.buckets.items()):
            for name, why in sorted(found.failures.items()):
                where = f"{project}/{region}/object-storage" + (
                    "" if name == BUCKETS else f"/{name.removeprefix('bucket ')}"
                )
                result.errors.append(scaleway_error(where, why, service="object_storage"))
            for item in found.items.get(BUCKETS, []):
                result.resources.append(bucket(item, self.owner.table, self.geo, source))
                count += 1
        label = f"scaleway:{project}/object-storage"
        result.sources.append(CollectedSource(label, KIND.value, count, notes=notes))


def _denied(listed: dict[str, Listed]) -> Failure | None:
    """The failure of a project denied in every zone and region (one error, not twelve)."""
    failures = [r.failure for r in listed.values()]
    if listed and all(f is not None and f.kind == "access_denied" for f in failures):
        return failures[0]
    return None
