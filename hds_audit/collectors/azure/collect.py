"""Collect live Azure subscriptions: inventory, data-store details, tenant data boundary.

The work is a set of executor tasks (:mod:`hds_audit.collectors.azure.tasks`): the
subscriptions, then per subscription each inventory call and each data-store service, and
the tenant's data boundary. They run on the collector's executor -- a local thread pool by
default, or a Dask cluster -- and their results come back here, where progress is reported
and each subscription is assembled (:mod:`hds_audit.collectors.azure.assemble`): the same
estate gives the same collection whatever the executor.

Everything is injected (credential, cloud endpoints, TLS verification, clock, bounds,
progress, executor, shard). Every failure becomes a :class:`CollectionError` on a meaningful
scope (``azure:<subscription>``, ``azure:<subscription>/Microsoft.Sql``, ``azure:<resource
id>/<detail>``) and the run always completes: a task that could not run (its worker lost
for good, a crash) leaves its scope ``unknown`` with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.azure.assemble import Results, assemble, merge, resolve_targets
from hds_audit.collectors.azure.clouds import (
    CLOUDS,
    AzureCloud,
    check_credential,
    default_credential,
    token_identity,
)
from hds_audit.collectors.azure.environment import (
    DEFAULT_CREDENTIAL,
    AzureEnvironment,
    AzureEnvSpec,
    check_credential_spec,
)
from hds_audit.collectors.azure.failures import Failure, azure_error
from hds_audit.collectors.azure.normalise import Context, data_boundary
from hds_audit.collectors.azure.progress import NoProgress, Progress
from hds_audit.collectors.azure.table import AzureTable, azure_table
from hds_audit.collectors.azure.tasks import (
    INVENTORY,
    BoundaryTask,
    CredentialCheck,
    Found,
    InventoryTask,
    Listed,
    ListSubscriptions,
    ReadSubscription,
    ServiceResult,
    ServiceTask,
    Subscription,
)
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.runs import runs_elsewhere, source_notes
from hds_audit.errors import UsageError
from hds_audit.executors.base import Environment, Executor, Task
from hds_audit.executors.local import LocalExecutor
from hds_audit.geo import GeoTables
from hds_audit.model import CollectionError, Resource, Source, SourceKind
from hds_audit.sharding import Shard

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

#: The scope whose shard reads the tenant-wide data boundary (once per sharded run).
TENANT_KEY = "azure:tenant"


@dataclass(slots=True)
class CollectStats:
    """Figures of the last collection (the benchmark prints them).

    ``requests`` counts the HTTP requests (retries included) of every task that came back,
    wherever it ran; a task lost with its worker is not counted.
    """

    requests: int = 0
    wall_seconds: float = 0.0
    subscriptions: int = 0
    resources: int = 0


@dataclass
class AzureCollector:
    """Every readable (or every listed) subscription of one cloud, as a Collector.

    Parallelism: ``executor`` runs the tasks (default: a local pool of ``max_workers``
    threads). In each process, ``max_workers`` also bounds the calls in flight,
    ``per_subscription`` (default: unbounded) those of one subscription, and ``per_service``
    the detail calls of one (subscription, service) task: ARM throttles per subscription and
    resource provider.

    ``credential`` is used in this process (default: ``DefaultAzureCredential`` for the
    cloud); tasks sent elsewhere get theirs from ``credential_spec`` on their worker
    (``default``, or ``import:module:callable``). ``cloud`` may be a built-in one
    (``CLOUDS``) or any endpoint set (the loopback ARM server in tests);
    ``connection_verify`` is the transport's TLS verification (a CA bundle path in tests).
    ``shard``: only the subscriptions it owns (``azure:<id>``) are audited, and the tenant
    data boundary only by the shard owning ``azure:tenant``.
    """

    cloud: AzureCloud = CLOUDS["public"]
    subscriptions: tuple[str, ...] = ()
    credential: TokenCredential | None = None
    max_workers: int = 16
    per_subscription: int | None = None
    per_service: int | None = 8
    connection_verify: bool | str = True
    clock: Callable[[], float] = time.monotonic
    progress: Progress = field(default_factory=NoProgress)
    table: AzureTable = field(default_factory=azure_table)
    retry_total: int = 6
    name: str = "azure"
    stats: CollectStats = field(default_factory=CollectStats)
    executor: Executor | None = None
    shard: Shard | None = None
    credential_spec: str = DEFAULT_CREDENTIAL

    @property
    def remote(self) -> bool:
        """Whether tasks run outside this process (their credential from ``credential_spec``)."""
        return runs_elsewhere(self.executor)

    def resolved_credential(self) -> TokenCredential:
        if self.credential is None:
            self.credential = default_credential(self.cloud)
        return self.credential

    def spec(self, geo: GeoTables | None = None) -> AzureEnvSpec:
        """What every worker builds its environment from."""
        return AzureEnvSpec(
            cloud=self.cloud,
            connection_verify=self.connection_verify,
            retry_total=self.retry_total,
            max_workers=self.max_workers,
            per_subscription=self.per_subscription,
            per_service=self.per_service,
            credential=self.credential_spec,
            geo=None if geo is None or geo is GeoTables.default() else geo,
        )

    def environment(self, geo: GeoTables | None = None) -> Environment:
        """The spec, and the environment built here when the tasks run in this process."""
        spec = self.spec(geo)
        if self.remote:
            return Environment(spec)
        local = AzureEnvironment(spec, self.resolved_credential(), self.table, geo)
        return Environment(spec, local)

    def preflight(self) -> None:
        """Fail now, in one line (UsageError, exit 2), when no credential is available where
        the tasks will run (here, or on one worker of the cluster)."""
        check_credential_spec(self.credential_spec)
        if not self.remote:
            check_credential(self.resolved_credential(), self.cloud)
            return
        assert self.executor is not None
        env = self.environment()
        for done in self.executor.run(env, [CredentialCheck()]):
            if done.result is not None:
                raise UsageError(str(done.result))

    def signed_in_as(self) -> str | None:
        """The object id (or client id) of this process's credential, from its token's
        claims; None when tasks run elsewhere or the token says nothing readable."""
        if self.remote:
            return None
        try:
            token = self.resolved_credential().get_token(self.cloud.credential_scope).token
        except Exception:  # the collection's own calls report a credential failure
            return None
        return token_identity(token)

    def collect(self, geo: GeoTables) -> Collection:
        started = self.clock()
        env = self.environment(geo)
        executor = self.executor or LocalExecutor(self.max_workers)
        run = _Run(self, geo)
        try:
            for done in executor.run(env, run.first_tasks(), run.follow):
                run.record(done.task, done.result)
            run.identity = self.signed_in_as()
            result = run.collection(executor.description if self.executor else None)
        finally:
            if isinstance(env.local, AzureEnvironment):
                env.local.close()
            self.progress.close()
        self.stats = CollectStats(
            requests=run.requests,
            wall_seconds=self.clock() - started,
            subscriptions=len(run.subscriptions),
            resources=len(result.resources),
        )
        return result


class _Run:
    """One run of an :class:`AzureCollector`: which tasks, and what came back."""

    def __init__(self, owner: AzureCollector, geo: GeoTables) -> None:
        self.owner = owner
        self.geo = geo
        self.table = owner.table
        self.shard = owner.shard
        self.results = Results()
        self.wanted = [s for s in dict.fromkeys(owner.subscriptions) if self.owns(f"azure:{s}")]
        self.found: dict[str, Found] = {}  # discovery results, by subscription id or "*"
        self.discovered: list[Subscription] = []  # every subscription seen (tenant label)
        self.subscriptions: list[Subscription] = []  # those audited, in order
        self.inventory: dict[str, list[Listed]] = {}
        self.requests = 0
        self.identity: str | None = None  # who read the subscriptions (report evidence)

    def owns(self, key: str) -> bool:
        return self.shard is None or self.shard.owns(key)

    # -- tasks --------------------------------------------------------------------------------

    def first_tasks(self) -> list[Task]:
        tasks: list[Task] = []
        if self.owner.subscriptions:
            tasks.extend(ReadSubscription(s) for s in self.wanted)
        else:
            tasks.append(ListSubscriptions())
        if self.owner.cloud.data_boundaries and self.owns(TENANT_KEY):
            tasks.append(BoundaryTask())
        return tasks

    def follow(self, task: Task, result: Any) -> Iterable[Task]:
        """A discovery result: its subscriptions' tasks (services interleaved across them)."""
        if not isinstance(result, Found):
            return []
        self.requests += result.requests
        key = task.id if isinstance(task, ReadSubscription) else "*"
        self.found[key] = result
        known = {s.id for s in self.discovered}
        new: dict[str, Subscription] = {}
        for sub in result.subscriptions:
            if sub.id not in known:
                new.setdefault(sub.id, sub)
        self.discovered.extend(new.values())
        audited = [s for s in new.values() if self.owns(f"azure:{s.id}")]
        for sub in audited:
            self.owner.progress.subscription(sub.id, sub.label)
            self.inventory[sub.id] = []
        tasks: list[Task] = [
            InventoryTask(sub.id, call.name) for call in self.table.inventory for sub in audited
        ]
        tasks.extend(
            ServiceTask(sub.id, service.name) for service in self.table.services for sub in audited
        )
        return tasks

    def record(self, task: Task, result: Any) -> None:
        """Keep a result and report progress (discovery results are kept by ``follow``)."""
        progress = self.owner.progress
        if isinstance(task, ServiceTask) and isinstance(result, ServiceResult):
            self.requests += result.requests
            self.results.services[(task.subscription, task.service)] = result
            failure = result.failure
            errors = 1 if failure else len(result.errors)
            progress.finished(
                task.subscription,
                task.service,
                result.items,
                errors,
                failure.message if failure else None,
            )
        elif isinstance(task, InventoryTask) and isinstance(result, Listed):
            self.requests += result.requests
            self.results.listed[(task.subscription, task.call)] = result
            done = self.inventory.setdefault(task.subscription, [])
            done.append(result)
            if len(done) == len(self.table.inventory):
                resources = self.results.listed.get((task.subscription, "resources"))
                failure = resources.failure if resources is not None else None
                progress.finished(
                    task.subscription,
                    INVENTORY,
                    sum(len(r.items) for r in done if r.items is not None),
                    sum(1 for r in done if r.items is None),
                    failure.message if failure else None,
                )
        elif isinstance(task, BoundaryTask) and isinstance(result, Listed):
            self.requests += result.requests
            self.results.boundary = result

    # -- assembly -----------------------------------------------------------------------------

    def discovery_errors(self) -> list[CollectionError]:
        """Subscriptions that could not be read (in the order given), or not listed."""
        errors: list[CollectionError] = []
        if self.owner.subscriptions:
            audited: dict[str, Subscription] = {}
            for sub_id in self.wanted:
                found = self.found.get(sub_id, Found(failure=Failure("internal", "not read")))
                for sub in found.subscriptions:
                    audited.setdefault(sub.id, sub)
                if found.failure is not None:
                    label = f"azure:{sub_id}"
                    errors.append(azure_error(label, label, found.failure, subscription=sub_id))
            self.subscriptions = list(audited.values())
            return errors
        self.subscriptions = [s for s in self.discovered if self.owns(f"azure:{s.id}")]
        listed = self.found.get("*")
        if listed is not None and listed.failure is not None:
            errors.append(azure_error("azure", "azure:subscriptions", listed.failure))
        elif not self.discovered:
            empty = Failure("empty", "the identity can read no subscription")
            errors.append(azure_error("azure", "azure:subscriptions", empty))
        return errors

    def collection(self, executor: str | None) -> Collection:
        errors = self.discovery_errors()
        extra = source_notes(self.shard, executor, None)
        result = Collection()
        for sub in self.subscriptions:
            resources, sub_errors = assemble(sub, self.table, self.geo, self.results)
            result.resources.extend(resources)
            result.errors.extend(sub_errors)
            result.sources.append(
                CollectedSource(
                    path=f"azure:{sub.id}",
                    kind=SourceKind.AZURE_API.value,
                    resources=len(resources),
                    notes=[f"subscription {sub.label}", f"cloud {self.owner.cloud.name}"]
                    + ([f"state {sub.state}"] if sub.state and sub.state != "Enabled" else [])
                    + extra,
                    identity=self.identity,
                )
            )
        result.resources.extend(self.tenant_resources(result, extra))
        result.resources = resolve_targets(result.resources, self.geo)
        details = [
            error
            for sub in self.subscriptions
            for service in self.table.services
            for error in self.results.services.get((sub.id, service.name), ServiceResult()).errors
        ]
        result.errors = merge(errors + result.errors + details)
        return result

    def tenant_resources(self, result: Collection, extra: list[str]) -> list[Resource]:
        boundary = self.results.boundary
        if boundary is None:  # not read: another cloud, or another shard's
            return []
        tenants = sorted({s.tenant for s in self.discovered if s.tenant})
        tenant = tenants[0] if tenants else "home"
        source = Source(kind=SourceKind.AZURE_API, account=f"tenant/{tenant}")
        label = f"azure:tenant/{tenant}"
        if self.shard is not None:
            extra = [*extra, f"read by shard {self.shard.label} only (it owns {TENANT_KEY})"]
        if boundary.items is None:
            failure = boundary.failure or Failure("internal", "not read")
            result.errors.append(azure_error(label, f"{label}/dataBoundaries", failure))
            result.sources.append(
                CollectedSource(label, SourceKind.AZURE_API.value, 0, notes=extra)
            )
            return []
        ctx = Context(self.geo, source, self.table)
        notes = [f"tenants seen: {', '.join(tenants)}"] if len(tenants) > 1 else []
        result.sources.append(
            CollectedSource(label, SourceKind.AZURE_API.value, 1, notes=notes + extra)
        )
        return [data_boundary(ctx, tenant, boundary.items[0])]
