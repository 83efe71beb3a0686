"""Collect live Azure subscriptions: inventory, data-store details, tenant data boundary.

Everything is injected (credential, cloud endpoints, TLS verification, clock, worker
bounds, progress). Every failure becomes a :class:`CollectionError` on a meaningful scope
(``azure:<subscription>``, ``azure:<subscription>/Microsoft.Sql``, ``azure:<resource id>/
<detail>``) and the run always completes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.azure.clouds import (
    CLOUDS,
    AzureCloud,
    check_credential,
    default_credential,
)
from hds_audit.collectors.azure.normalise import (
    NORMALISERS,
    Context,
    Details,
    data_boundary,
    generic,
    resource_group,
)
from hds_audit.collectors.azure.progress import NoProgress, Progress
from hds_audit.collectors.azure.runner import Group, Task, run_tasks
from hds_audit.collectors.azure.table import (
    AzureTable,
    CallSpec,
    DetailSpec,
    ServiceSpec,
    azure_table,
)
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.geo import GeoTables, Location
from hds_audit.model import CollectionError, Resource, Source, SourceKind

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from hds_audit.collectors.azure.pipeline import ClientFactory

INVENTORY = "inventory"
_ERROR_DETAILS = {"provider": "azure", "source_kind": SourceKind.AZURE_API.value}


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    name: str
    tenant: str | None = None
    state: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call failed, classified: access_denied, not_registered, throttled, ..."""

    kind: str
    message: str


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def classify(error: BaseException) -> Failure:
    """Map an SDK exception to a failure a report can show."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    from hds_audit.collectors.azure.pipeline import ReadOnlyViolation

    if isinstance(error, ReadOnlyViolation):
        namespace = error.registering
        if namespace:
            return Failure(
                "not_registered",
                f"resource provider {namespace} is not registered in this subscription "
                "(MissingSubscriptionRegistration; hds-audit is read-only and does not "
                "register it)",
            )
        return Failure("read_only", str(error))
    if isinstance(error, HttpResponseError):
        status = error.status_code
        code = getattr(error.error, "code", None) if error.error is not None else None
        text = _first_line(str(getattr(error.error, "message", None) or error.message or error))
        label = f"HTTP {status}" + (f" {code}" if code else "")
        if isinstance(error, ClientAuthenticationError) or status in (401, 403):
            return Failure("access_denied", f"access denied ({label}): {text}")
        if status == 409 and code == "MissingSubscriptionRegistration":
            return Failure("not_registered", f"resource provider not registered ({label}): {text}")
        if status == 429:
            return Failure("throttled", f"throttled, retries exhausted ({label}): {text}")
        if status == 404:
            return Failure("not_found", f"not found ({label}): {text}")
        return Failure("http", f"{label}: {text}")
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return Failure("unreachable", f"Resource Manager unreachable: {_first_line(str(error))}")
    if isinstance(error, AzureError):
        return Failure("error", _first_line(str(error)))
    return Failure("internal", f"{type(error).__name__}: {_first_line(str(error))}")


@dataclass(slots=True)
class _State:
    """Results of one collection, filled by worker threads under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    items: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    details: dict[tuple[str, str, str], Details] = field(default_factory=dict)
    detail_errors: list[CollectionError] = field(default_factory=list)
    boundary: dict[str, Any] | None = None
    boundary_failure: Failure | None = None
    counts: dict[Group, list[int]] = field(default_factory=dict)

    def count(self, group: Group, items: int = 0, errors: int = 0) -> None:
        with self.lock:
            row = self.counts.setdefault(group, [0, 0, 0])
            row[0] += items
            row[1] += errors


@dataclass(slots=True)
class CollectStats:
    """Figures of the last collection (the benchmark prints them)."""

    requests: int = 0
    wall_seconds: float = 0.0
    subscriptions: int = 0
    resources: int = 0


@dataclass
class AzureCollector:
    """Every readable (or every listed) subscription of one cloud, as a Collector.

    Parallelism is bounded three ways: ``max_workers`` calls in all, ``per_subscription``
    (default: ``max_workers``) and ``per_service`` within one subscription (ARM throttles
    per subscription and resource provider).

    ``credential`` defaults to ``DefaultAzureCredential`` for the cloud; ``cloud`` may be a
    built-in one (``CLOUDS``) or any endpoint set (the loopback ARM server in tests);
    ``connection_verify`` is the transport's TLS verification (a CA bundle path in tests).
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

    def resolved_credential(self) -> TokenCredential:
        if self.credential is None:
            self.credential = default_credential(self.cloud)
        return self.credential

    def preflight(self) -> None:
        """Fail now, in one line (UsageError, exit 2), when no credential is available."""
        check_credential(self.resolved_credential(), self.cloud)

    def collect(self, geo: GeoTables) -> Collection:
        from hds_audit.collectors.azure.pipeline import ClientFactory

        started = self.clock()
        factory = ClientFactory(
            credential=self.resolved_credential(),
            cloud=self.cloud,
            pool_size=self.max_workers,
            connection_verify=self.connection_verify,
            retry_total=self.retry_total,
        )
        notice = _NoRegistrationNotice()
        logging.getLogger(_REGISTRATION_LOGGER).addFilter(notice)
        try:
            run = _Collection(self, factory, geo)
            result = run.collect()
        finally:
            logging.getLogger(_REGISTRATION_LOGGER).removeFilter(notice)
            factory.close()
            self.progress.close()
        self.stats = CollectStats(
            requests=factory.read_only.requests,
            wall_seconds=self.clock() - started,
            subscriptions=len(run.subscriptions),
            resources=len(result.resources),
        )
        return result


class _NoRegistrationNotice(logging.Filter):
    """azure-mgmt-core announces it is registering a resource provider before it tries; the
    read-only policy refuses that request, so the notice would be false: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "registering for you" not in message and "Registration failed" not in message


_REGISTRATION_LOGGER = "azure.mgmt.core.policies._base"


class _Collection:
    """One run of an :class:`AzureCollector`."""

    def __init__(self, owner: AzureCollector, factory: ClientFactory, geo: GeoTables) -> None:
        self.owner = owner
        self.factory = factory
        self.geo = geo
        self.table = owner.table
        self.state = _State()
        self.subscriptions: list[Subscription] = []
        self.errors: list[CollectionError] = []

    # -- calls --------------------------------------------------------------------------------

    def call(
        self, client: str, dotted: str, subscription: str | None, *args: Any
    ) -> list[dict[str, Any]]:
        from hds_audit.collectors.azure.pipeline import operation, rest_json

        spec = self.table.clients[client]
        method = operation(self.factory.client(spec, subscription), dotted)
        result = method(*args)
        if hasattr(result, "by_page") or (
            hasattr(result, "__iter__") and not hasattr(result, "keys")
        ):
            return [rest_json(item) for item in result]
        return [rest_json(result)]

    def error(self, source: str, scope: str, failure: Failure, **extra: Any) -> CollectionError:
        return CollectionError(
            source=source,
            scope=scope,
            message=failure.message,
            kind=failure.kind,
            details={**_ERROR_DETAILS, **extra},
        )

    # -- phase 1: subscriptions ---------------------------------------------------------------

    def discover(self) -> None:
        spec = self.table
        if self.owner.subscriptions:
            found: dict[str, Subscription] = {}

            def get(sub_id: str) -> list[Task]:
                try:
                    item = self.call(
                        "subscriptions", spec.subscriptions_get.operation, None, sub_id
                    )[0]
                except Exception as error:  # recorded, never dropped
                    failure = classify(error)
                    with self.state.lock:
                        self.errors.append(
                            self.error(
                                f"azure:{sub_id}", f"azure:{sub_id}", failure, subscription=sub_id
                            )
                        )
                    return []
                with self.state.lock:
                    found[sub_id] = _subscription(item, sub_id)
                return []

            wanted = list(dict.fromkeys(self.owner.subscriptions))
            run_tasks(
                [Task(s, (s, "subscription"), partial(get, s)) for s in wanted],
                self.owner.max_workers,
            )
            self.subscriptions = [found[s] for s in wanted if s in found]
            return
        try:
            items = self.call("subscriptions", spec.subscriptions_list.operation, None)
        except Exception as error:  # recorded, never dropped
            failure = classify(error)
            self.errors.append(self.error("azure", "azure:subscriptions", failure))
            return
        self.subscriptions = [_subscription(item, None) for item in items]
        if not self.subscriptions:
            self.errors.append(
                self.error(
                    "azure",
                    "azure:subscriptions",
                    Failure("empty", "the identity can read no subscription"),
                )
            )

    # -- phase 2: everything else -------------------------------------------------------------

    def tasks(self) -> list[Task]:
        tasks: list[Task] = []
        for sub in self.subscriptions:
            self.owner.progress.subscription(sub.id, sub.label)
            for call in self.table.inventory:
                tasks.append(Task(sub.id, (sub.id, INVENTORY), partial(self.inventory, sub, call)))
            for service in self.table.services:
                tasks.append(
                    Task(sub.id, (sub.id, service.name), partial(self.list_service, sub, service))
                )
        if self.owner.cloud.data_boundaries:
            tasks.append(Task("tenant", ("tenant", "data_boundary"), self.read_boundary))
        return tasks

    def inventory(self, sub: Subscription, call: CallSpec) -> list[Task]:
        group = (sub.id, INVENTORY)
        try:
            items = self.call(call.client, call.operation, sub.id)
        except Exception as error:  # recorded, never dropped
            with self.state.lock:
                self.state.failures[(sub.id, call.name)] = classify(error)
            self.state.count(group, errors=1)
            return []
        with self.state.lock:
            self.state.items[(sub.id, call.name)] = items
        self.state.count(group, items=len(items))
        return []

    def list_service(self, sub: Subscription, service: ServiceSpec) -> list[Task]:
        group = (sub.id, service.name)
        try:
            items = self.call(service.client, service.operation, sub.id)
        except Exception as error:  # recorded, never dropped
            with self.state.lock:
                self.state.failures[(sub.id, service.name)] = classify(error)
            self.state.count(group, errors=1)
            return []
        with self.state.lock:
            self.state.items[(sub.id, service.name)] = items
        self.state.count(group, items=len(items))
        follow: list[Task] = []
        for item in items:
            item_id = str(item.get("id") or "")
            with self.state.lock:
                self.state.details[(sub.id, service.name, item_id.lower())] = Details()
            for detail in service.details:
                if detail.over is None:
                    run = partial(self.detail, sub, service, item, detail, None)
                    follow.append(Task(sub.id, group, run))
        return follow

    def detail(
        self,
        sub: Subscription,
        service: ServiceSpec,
        item: dict[str, Any],
        detail: DetailSpec,
        child: str | None,
    ) -> list[Task]:
        item_id = str(item.get("id") or "")
        values = {
            "resource_group": resource_group(item_id),
            "name": item.get("name"),
            "child": child,
        }
        args = [values[a] for a in detail.args]
        details = self.state.details[(sub.id, service.name, item_id.lower())]
        key = f"{detail.name}/{child}" if child else detail.name
        try:
            found = self.call(service.client, detail.operation, sub.id, *args)
        except Exception as error:  # recorded, never dropped
            failure = classify(error)
            scope = f"azure:{item_id}/{detail.name}" + (f"/{child}" if child else "")
            with self.state.lock:
                details.failures[key] = failure.message
                self.state.detail_errors.append(
                    self.error(f"azure:{sub.id}", scope, failure, subscription=sub.id)
                )
            self.state.count((sub.id, service.name), errors=1)
            return []
        with self.state.lock:
            if child is None:
                details.values[detail.name] = found
            else:
                details.children[(detail.name, child)] = found
        follow: list[Task] = []
        for dependent in service.details:
            if dependent.over != detail.name:
                continue
            for child_item in found:
                name = str(child_item.get("name") or "")
                if dependent.skip_system and (
                    name.lower() == "master" or "system" in str(child_item.get("kind") or "")
                ):
                    continue
                run = partial(self.detail, sub, service, item, dependent, name)
                follow.append(Task(sub.id, (sub.id, service.name), run))
        return follow

    def read_boundary(self) -> list[Task]:
        call = self.table.data_boundary
        try:
            item = self.call(call.client, call.operation, None, "default")[0]
        except Exception as error:  # recorded, never dropped
            self.state.boundary_failure = classify(error)
            return []
        self.state.boundary = item
        return []

    def group_done(self, group: Group) -> None:
        sub, service = group
        if sub == "tenant":
            return
        items, errors, _ = self.state.counts.get(group, [0, 0, 0])
        failure = self.state.failures.get(group) or (
            self.state.failures.get((sub, "resources")) if service == INVENTORY else None
        )
        self.owner.progress.finished(
            sub, service, items, errors, failure.message if failure else None
        )

    def crashed(self, task: Task, error: BaseException) -> None:
        sub, service = task.group
        failure = Failure("internal", f"{type(error).__name__}: {_first_line(str(error))}")
        with self.state.lock:
            self.errors.append(self.error(f"azure:{sub}", f"azure:{sub}/{service}", failure))

    # -- assembly -----------------------------------------------------------------------------

    def collect(self) -> Collection:
        self.discover()
        run_tasks(
            self.tasks(),
            self.owner.max_workers,
            self.owner.per_subscription,
            self.owner.per_service,
            on_group_done=self.group_done,
            on_crash=self.crashed,
        )
        result = Collection()
        for sub in self.subscriptions:
            resources, errors = self.assemble(sub)
            result.resources.extend(resources)
            result.errors.extend(errors)
            result.sources.append(
                CollectedSource(
                    path=f"azure:{sub.id}",
                    kind=SourceKind.AZURE_API.value,
                    resources=len(resources),
                    notes=[f"subscription {sub.label}", f"cloud {self.owner.cloud.name}"]
                    + ([f"state {sub.state}"] if sub.state and sub.state != "Enabled" else []),
                )
            )
        result.resources.extend(self.tenant_resources(result))
        result.resources = _resolve_targets(result.resources, self.geo)
        result.errors = _merge(self.errors + result.errors + self.state.detail_errors)
        return result

    def tenant_resources(self, result: Collection) -> list[Resource]:
        if not self.owner.cloud.data_boundaries:
            return []
        tenants = sorted({s.tenant for s in self.subscriptions if s.tenant})
        tenant = tenants[0] if tenants else "home"
        source = Source(kind=SourceKind.AZURE_API, account=f"tenant/{tenant}")
        label = f"azure:tenant/{tenant}"
        if self.state.boundary_failure is not None:
            result.errors.append(
                self.error(label, f"{label}/dataBoundaries", self.state.boundary_failure)
            )
            result.sources.append(CollectedSource(label, SourceKind.AZURE_API.value, 0))
            return []
        if self.state.boundary is None:
            return []
        ctx = Context(self.geo, source, self.table)
        notes = [f"tenants seen: {', '.join(tenants)}"] if len(tenants) > 1 else []
        result.sources.append(CollectedSource(label, SourceKind.AZURE_API.value, 1, notes=notes))
        return [data_boundary(ctx, tenant, self.state.boundary)]

    def assemble(self, sub: Subscription) -> tuple[list[Resource], list[CollectionError]]:
        state = self.state
        source = Source(kind=SourceKind.AZURE_API, account=sub.id)
        detailed: dict[str, Resource] = {}
        covered: dict[str, str] = {}
        errors: list[CollectionError] = []
        source_label = f"azure:{sub.id}"
        for service in self.table.services:
            for arm_type in service.types:
                covered[arm_type.lower()] = service.name
            items = state.items.get((sub.id, service.name))
            if items is None:
                failure = state.failures.get((sub.id, service.name)) or Failure(
                    "internal", "not read"
                )
                errors.append(
                    self.error(
                        source_label,
                        f"azure:{sub.id}/{service.namespace}",
                        failure,
                        subscription=sub.id,
                        service=service.name,
                    )
                )
                continue
            ctx = Context(self.geo, source, self.table, siblings=items)
            normaliser = NORMALISERS[service.normaliser]
            for item in items:
                details = state.details.get(
                    (sub.id, service.name, str(item.get("id") or "").lower())
                )
                for resource in normaliser(ctx, item, details or Details()):
                    detailed.setdefault(resource.id.lower(), resource)
        ctx = Context(self.geo, source, self.table)
        out = list(detailed.values())
        for call in self.table.inventory:
            items = state.items.get((sub.id, call.name))
            if items is None:
                failure = state.failures.get((sub.id, call.name)) or Failure("internal", "not read")
                errors.append(
                    self.error(
                        source_label,
                        f"azure:{sub.id}/Microsoft.Resources/{call.name}",
                        failure,
                        subscription=sub.id,
                        service=call.name,
                    )
                )
                continue
            for item in items:
                item_id = str(item.get("id") or "").lower()
                if item_id in detailed:
                    continue
                arm_type = str(item.get("type") or "").lower()
                covering = covered.get(arm_type)
                why = None
                if covering is not None:
                    denied = state.failures.get((sub.id, covering))
                    why = (
                        f"details not readable: {denied.message}"
                        if denied
                        else self.missing_reason(sub, covering, item_id)
                    )
                out.append(generic(ctx, item, why))
        return sorted(out, key=lambda r: r.id.lower()), _collapse(sub, errors)

    def missing_reason(self, sub: Subscription, service: str, item_id: str) -> str:
        """Why an inventory entry of a covered type has no detailed record."""
        for (sub_id, name, parent), details in self.state.details.items():
            if sub_id == sub.id and name == service and item_id.startswith(parent + "/"):
                for failure in details.failures.values():
                    return f"details not readable: {failure}"
        return f"not returned by the {service} listing (created or deleted during the scan?)"


def _subscription(item: dict[str, Any], fallback: str | None) -> Subscription:
    sub_id = str(
        item.get("subscriptionId") or fallback or str(item.get("id", "")).rsplit("/", 1)[-1]
    )
    return Subscription(
        id=sub_id,
        name=str(item.get("displayName") or sub_id),
        tenant=item.get("tenantId"),
        state=item.get("state"),
    )


def _collapse(sub: Subscription, errors: list[CollectionError]) -> list[CollectionError]:
    """A subscription that refused every call is one error on the subscription's scope."""
    if errors and all(e.kind == "access_denied" for e in errors):
        inventory_denied = any(e.details.get("service") == "resources" for e in errors)
        if inventory_denied:
            first = errors[0]
            return [
                replace(
                    first,
                    scope=f"azure:{sub.id}",
                    message=f"subscription {sub.label}: {first.message}",
                    details={**_ERROR_DETAILS, "subscription": sub.id},
                )
            ]
    return errors


def _merge(errors: Iterable[CollectionError]) -> list[CollectionError]:
    """One error per scope (disks, snapshots and disk encryption sets share Microsoft.Compute)."""
    merged: dict[str, CollectionError] = {}
    services: dict[str, list[str]] = {}
    for error in errors:
        service = error.details.get("service")
        if error.scope not in merged:
            merged[error.scope] = error
            services[error.scope] = []
        if service:
            services[error.scope].append(str(service))
    out = []
    for scope, error in merged.items():
        names = services[scope]
        if len(names) > 1:
            error = replace(error, message=f"{error.message} (calls: {', '.join(names)})")
        out.append(error)
    return out


def _resolve_targets(resources: list[Resource], geo: GeoTables) -> list[Resource]:
    """Give a located target (object replication destination, read replica) its location."""
    where: dict[str, Location] = {}
    for resource in resources:
        where[resource.id.lower()] = resource.location
        if resource.type.lower() == "microsoft.storage/storageaccounts" and resource.name:
            where.setdefault(resource.name.lower(), resource.location)
    out: list[Resource] = []
    for resource in resources:
        replicas = resource.replicas
        if not replicas or all(r.location.region is not None or not r.target for r in replicas):
            out.append(resource)
            continue
        fixed = []
        missing: list[str] = []
        for replica in replicas:
            if replica.location.region is None and replica.target:
                location = where.get(replica.target.lower())
                if location is not None:
                    replica = replace(replica, location=location)
                else:
                    missing.append(str(replica.target))
            fixed.append(replica)
        unknowns = dict(resource.unknowns)
        if missing:
            unknowns["replicas"] = (
                f"copy target {', '.join(missing)} is not among the audited resources: "
                "its location is unknown"
            )
        out.append(replace(resource, replicas=tuple(fixed), unknowns=unknowns))
    return out
