"""Collect live Google Cloud scopes through Cloud Asset Inventory.

Organisation and folder scopes are first resolved to their projects (one search for the
project asset type); each project is then one :class:`SearchProject` task, so projects are
searched in parallel on the collector's executor (local threads or Dask), sharded by project
(``gcp:projects/<number>``), and a project that answers 403 -- or whose Cloud Asset API is
disabled -- is an ``errors`` entry with ``unknown`` findings while the others are audited.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hds_audit.collectors.api_common import add_scope
from hds_audit.collectors.base import Collection
from hds_audit.collectors.failure import NOT_READ, Failure
from hds_audit.collectors.gcp.environment import (
    ADC,
    ANONYMOUS,
    GcpEnvironment,
    GcpEnvSpec,
    credentials_for,
    default_credentials,
)
from hds_audit.collectors.gcp.failures import gcp_error
from hds_audit.collectors.gcp.normalise import locate_replicas, normalise
from hds_audit.collectors.gcp.table import GcpTable, gcp_table
from hds_audit.collectors.gcp.tasks import FindProjects, Searched, SearchProject
from hds_audit.collectors.runs import (
    CollectStats,
    ScopeProgress,
    runs_elsewhere,
    source_notes,
    timed_run,
)
from hds_audit.errors import UsageError
from hds_audit.executors.base import Environment, Executor, Task
from hds_audit.geo import GeoTables
from hds_audit.model import Source, SourceKind
from hds_audit.sharding import Shard


@dataclass
class GcpCollector:
    """Every project of the given scopes (default: the credentials' project), as a Collector.

    ``credentials`` are used in this process (tests inject them; default: Application
    Default Credentials, or anonymous ones when ``endpoint_url`` points at a loopback or
    emulated API). Tasks sent to other processes get theirs from ``credential_spec``.
    """

    scopes: tuple[str, ...] = ()
    endpoint_url: str | None = None
    credentials: Any = None
    credential_spec: str = ADC
    max_workers: int = 16
    executor: Executor | None = None
    shard: Shard | None = None
    progress: ScopeProgress = field(default_factory=ScopeProgress)
    table: GcpTable = field(default_factory=gcp_table)
    clock: Callable[[], float] = time.monotonic
    stats: CollectStats = field(default_factory=CollectStats)
    name: str = "gcp"

    @property
    def remote(self) -> bool:
        return runs_elsewhere(self.executor)

    @property
    def identity(self) -> str | None:
        """Who reads the projects (report evidence): a service account's email, ``anonymous``
        with an endpoint URL; None when the credentials do not say (a user login)."""
        if self.credential_spec == ANONYMOUS:
            return "anonymous"
        email = getattr(self.credentials, "service_account_email", None)
        return email if isinstance(email, str) and "@" in email else None

    def preflight(self) -> None:
        """Resolve credentials and the default scope now: no credentials is one line, exit 2."""
        if self.credential_spec == ANONYMOUS and self.endpoint_url is None:
            raise UsageError("Google Cloud: anonymous credentials need --gcp-endpoint-url")
        project: str | None = None
        if self.credentials is None and self.credential_spec == ADC:
            self.credentials, project = default_credentials()
        elif self.credentials is None:
            self.credentials = credentials_for(self.credential_spec, self.endpoint_url)
        project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not self.scopes:
            if not project:
                raise UsageError(
                    "Google Cloud: the credentials name no project; give --gcp-scope "
                    "projects/ID (or organizations/ID, folders/ID)"
                )
            self.scopes = (f"projects/{project}",)

    def environment(self) -> Environment:
        spec = GcpEnvSpec(self.endpoint_url, self.credential_spec)
        if self.remote:
            return Environment(spec)
        if self.credentials is None:
            self.preflight()
        return Environment(spec, GcpEnvironment(spec, self.credentials, self.table))

    def collect(self, geo: GeoTables) -> Collection:
        result, self.stats = timed_run(
            lambda: _Run(self, geo), self.environment, self.executor, self.max_workers, self.clock
        )
        return result


class _Run:
    """One run of a :class:`GcpCollector`: which tasks, and what came back."""

    def __init__(self, owner: GcpCollector, geo: GeoTables) -> None:
        self.owner = owner
        self.geo = geo
        self.requests = 0
        self.projects: list[str] = []  # audited, in discovery order
        self.searched: dict[str, Searched] = {}
        self.discovery: dict[str, Searched] = {}

    @property
    def project_count(self) -> int:
        return len(self.searched)

    def owns(self, project: str) -> bool:
        return self.owner.shard is None or self.owner.shard.owns(f"gcp:{project}")

    def add_projects(self, projects: Iterable[str]) -> list[Task]:
        tasks: list[Task] = []
        for project in projects:
            if project not in self.projects and self.owns(project):
                self.projects.append(project)
                tasks.append(SearchProject(project))
        return tasks

    def first_tasks(self) -> list[Task]:
        tasks: list[Task] = []
        direct = [s for s in self.owner.scopes if s.startswith("projects/")]
        tasks.extend(FindProjects(s) for s in self.owner.scopes if s not in direct)
        tasks.extend(self.add_projects(direct))
        return tasks

    def follow(self, task: Task, result: Any) -> Iterable[Task]:
        if isinstance(task, FindProjects) and isinstance(result, Searched):
            self.requests += result.requests
            self.discovery[task.scope] = result
            return self.add_projects(result.projects)
        return []

    def record(self, task: Task, result: Any) -> None:
        if isinstance(task, SearchProject) and isinstance(result, Searched):
            self.requests += result.requests
            self.searched[task.project] = result
            self.owner.progress.read(f"gcp {task.project}", result.items, result.failure)

    def collection(self, executor: str | None) -> Collection:
        result = Collection()
        identity = self.owner.identity
        extra = source_notes(self.owner.shard, executor, self.owner.endpoint_url)
        for scope, found in self.discovery.items():
            if self.owner.shard is not None and not self.owner.shard.owns(f"gcp:{scope}"):
                continue  # every shard searches an organisation; one reports its failure
            if found.items is None:
                result.errors.append(gcp_error(scope, found.failure or NOT_READ))
            elif not found.projects:
                empty = Failure("empty", "no readable project under this scope")
                result.errors.append(gcp_error(scope, empty))
        result.errors.sort(key=lambda error: error.source)
        # by project, so that merged shards list them as one run does
        for project in sorted(self.projects):
            searched = self.searched.get(project) or Searched(None, NOT_READ)
            label = f"gcp:{project}"
            if searched.items is None:
                result.errors.append(gcp_error(project, searched.failure or NOT_READ))
                add_scope(result, label, SourceKind.GCP_API, [], extra, identity)
                continue
            source = Source(kind=SourceKind.GCP_API, account=project)
            resources = [
                normalise(item, self.owner.table, self.geo, source) for item in searched.items
            ]
            add_scope(result, label, SourceKind.GCP_API, resources, extra, identity)
        # A project given by id and found again by number under an organisation is read twice:
        # full resource names are unique, keep each resource once.
        unique = {r.id: r for r in reversed(result.resources)}
        result.resources = locate_replicas(r for r in result.resources if unique[r.id] is r)
        return result
