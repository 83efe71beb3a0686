"""The Azure collection as executor tasks: small picklable descriptions and their results.

- :class:`ListSubscriptions` / :class:`ReadSubscription`: which subscriptions to audit;
- :class:`InventoryTask`: one inventory call of a subscription (every resource, every
  resource group), its items as ARM JSON;
- :class:`ServiceTask`: one data-store service of a subscription -- its list call, then its
  per-item detail calls on the process's detail pool (at most ``per_service`` at a time) --
  as normalised resources, detail errors and what the inventory step needs to know;
- :class:`BoundaryTask`: the tenant's EU Data Boundary setting.

A task names its subscription and service by id and table name; the worker's own
:class:`~hds_audit.collectors.azure.environment.AzureEnvironment` does the calls. What spans
services -- inventory entries no service detailed, copy targets, error shaping -- is done by
the collector once the results are back (:mod:`hds_audit.collectors.azure.assemble`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.azure.failures import Failure, azure_error, classify, lost
from hds_audit.collectors.azure.normalise import NORMALISERS, Context, Details, resource_group
from hds_audit.collectors.azure.runner import Task as Call
from hds_audit.collectors.azure.runner import run_tasks
from hds_audit.collectors.azure.table import DetailSpec, ServiceSpec
from hds_audit.model import CollectionError, Resource, Source, SourceKind

if TYPE_CHECKING:
    from hds_audit.collectors.azure.environment import AzureEnvironment
    from hds_audit.collectors.azure.pipeline import Tally

INVENTORY = "inventory"


def _tally() -> Tally:
    from hds_audit.collectors.azure.pipeline import Tally

    return Tally()


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    name: str
    tenant: str | None = None
    state: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


def subscription_of(item: dict[str, Any], fallback: str | None) -> Subscription:
    """A subscription from its ARM JSON (``fallback``: the id it was read by)."""
    sub_id = str(
        item.get("subscriptionId") or fallback or str(item.get("id", "")).rsplit("/", 1)[-1]
    )
    return Subscription(
        id=sub_id,
        name=str(item.get("displayName") or sub_id),
        tenant=item.get("tenantId"),
        state=item.get("state"),
    )


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """Subscriptions a discovery task found, or why it found none (``failure``)."""

    subscriptions: tuple[Subscription, ...] = ()
    failure: Failure | None = None
    requests: int = 0


@dataclass(frozen=True, slots=True)
class Listed:
    """The items of one call as ARM JSON; ``None`` when it failed (``failure`` says why)."""

    items: list[dict[str, Any]] | None
    failure: Failure | None = None
    requests: int = 0


@dataclass(frozen=True, slots=True)
class ServiceResult:
    """One service of one subscription: resources, or the failure of its list call.

    ``errors`` are the failed detail calls (their facts are unknown, the rest is known);
    ``unreadable`` pairs each listed item whose details failed (lower-case id) with the first
    failure, in listing order: an inventory entry below it is explained by it.
    """

    resources: list[Resource] = field(default_factory=list)
    failure: Failure | None = None
    items: int = 0
    errors: list[CollectionError] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0


# -- tasks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListSubscriptions:
    """Every subscription the identity can read."""

    @property
    def key(self) -> str:
        return "azure/subscriptions"

    def run(self, env: AzureEnvironment) -> Found:
        tally = _tally()
        try:
            items = env.call(tally, "subscriptions", env.table.subscriptions_list.operation, None)
        except Exception as error:  # recorded, never dropped
            return Found(failure=classify(error), requests=tally.count)
        return Found(tuple(subscription_of(i, None) for i in items), requests=tally.count)

    def lost(self, reason: str) -> Found:
        return Found(failure=lost(reason))


@dataclass(frozen=True, slots=True)
class ReadSubscription:
    """One subscription given by id (``--azure-subscription``): read with GET, not listed."""

    id: str

    @property
    def key(self) -> str:
        return f"azure/{self.id}"

    def run(self, env: AzureEnvironment) -> Found:
        tally = _tally()
        operation = env.table.subscriptions_get.operation
        try:
            item = env.call(tally, "subscriptions", operation, None, self.id)[0]
        except Exception as error:  # recorded, never dropped
            return Found(failure=classify(error), requests=tally.count)
        return Found((subscription_of(item, self.id),), requests=tally.count)

    def lost(self, reason: str) -> Found:
        return Found(failure=lost(reason))


@dataclass(frozen=True, slots=True)
class InventoryTask:
    """One inventory call (``resources``, ``resource_groups``) of one subscription."""

    subscription: str
    call: str

    @property
    def key(self) -> str:
        return f"azure/{self.subscription}/{INVENTORY}/{self.call}"

    @property
    def affinity(self) -> str:
        """A subscription's tasks share a worker: its clients, and ARM's per-subscription
        throttling bound, stay in one process."""
        return f"azure:{self.subscription}"

    def run(self, env: AzureEnvironment) -> Listed:
        spec = next(c for c in env.table.inventory if c.name == self.call)
        tally = _tally()
        try:
            items = env.call(tally, spec.client, spec.operation, self.subscription)
        except Exception as error:  # recorded, never dropped
            return Listed(None, classify(error), tally.count)
        return Listed(items, None, tally.count)

    def lost(self, reason: str) -> Listed:
        return Listed(None, lost(reason))


@dataclass(frozen=True, slots=True)
class BoundaryTask:
    """The tenant's EU Data Boundary setting (public cloud only)."""

    @property
    def key(self) -> str:
        return "azure/tenant/data_boundary"

    def run(self, env: AzureEnvironment) -> Listed:
        call = env.table.data_boundary
        tally = _tally()
        try:
            item = env.call(tally, call.client, call.operation, None, "default")[0]
        except Exception as error:  # recorded, never dropped
            return Listed(None, classify(error), tally.count)
        return Listed([item], None, tally.count)

    def lost(self, reason: str) -> Listed:
        return Listed(None, lost(reason))


@dataclass(frozen=True, slots=True)
class ServiceTask:
    """One data-store service of one subscription, details and normalisation included."""

    subscription: str
    service: str

    @property
    def key(self) -> str:
        return f"azure/{self.subscription}/{self.service}"

    @property
    def affinity(self) -> str:
        """A subscription's tasks share a worker: its clients, and ARM's per-subscription
        throttling bound, stay in one process."""
        return f"azure:{self.subscription}"

    def run(self, env: AzureEnvironment) -> ServiceResult:
        spec = env.table.service(self.service)
        tally = _tally()
        try:
            items = env.call(tally, spec.client, spec.operation, self.subscription)
        except Exception as error:  # recorded, never dropped
            return ServiceResult(failure=classify(error), requests=tally.count)
        details = _DetailRun(env, self.subscription, spec, items, tally)
        details.run()
        ctx = Context(
            env.geo,
            Source(kind=SourceKind.AZURE_API, account=self.subscription),
            env.table,
            siblings=items,
        )
        normaliser = NORMALISERS[spec.normaliser]
        resources = [
            resource
            for item in items
            for resource in normaliser(
                ctx, item, details.found.get(str(item.get("id") or "").lower()) or Details()
            )
        ]
        return ServiceResult(
            resources=resources,
            items=len(items),
            errors=details.errors(),
            unreadable=details.unreadable(),
            requests=tally.count,
        )

    def lost(self, reason: str) -> ServiceResult:
        return ServiceResult(failure=lost(reason))


class _DetailRun:
    """The detail calls of one service task: per item, then per child (``over``)."""

    def __init__(
        self,
        env: AzureEnvironment,
        subscription: str,
        service: ServiceSpec,
        items: list[dict[str, Any]],
        tally: Tally,
    ) -> None:
        self.env = env
        self.subscription = subscription
        self.service = service
        self.items = items
        self.tally = tally
        self.found: dict[str, Details] = {str(i.get("id") or "").lower(): Details() for i in items}
        self.rank = {detail.name: n for n, detail in enumerate(service.details)}
        self.failed: list[tuple[tuple[int, int, str], CollectionError]] = []
        self.lock = threading.Lock()

    def run(self) -> None:
        """Every detail call, at most ``per_service`` at a time on the shared detail pool."""
        group = (self.subscription, self.service.name)
        calls = [
            Call(self.subscription, group, partial(self.detail, n, item, detail, None))
            for n, item in enumerate(self.items)
            for detail in self.service.details
            if detail.over is None
        ]
        if calls:
            bound = self.env.spec.per_service or self.env.spec.max_workers
            run_tasks(calls, bound, pool=self.env.details_pool)
        for details in self.found.values():  # a stable order, whatever finished first
            details.failures = dict(sorted(details.failures.items(), key=self._order))

    def _order(self, entry: tuple[str, str]) -> tuple[int, str]:
        name, _, child = entry[0].partition("/")
        return self.rank.get(name, len(self.rank)), child

    def detail(
        self, index: int, item: dict[str, Any], detail: DetailSpec, child: str | None
    ) -> list[Call]:
        sub = self.subscription
        item_id = str(item.get("id") or "")
        values = {
            "resource_group": resource_group(item_id),
            "name": item.get("name"),
            "child": child,
        }
        args = [values[a] for a in detail.args]
        details = self.found[item_id.lower()]
        key = f"{detail.name}/{child}" if child else detail.name
        try:
            found = self.env.call(self.tally, self.service.client, detail.operation, sub, *args)
        except Exception as error:  # recorded, never dropped
            failure = classify(error)
            scope = f"azure:{item_id}/{detail.name}" + (f"/{child}" if child else "")
            problem = azure_error(f"azure:{sub}", scope, failure, subscription=sub)
            with self.lock:
                details.failures[key] = failure.message
                self.failed.append(((index, self.rank[detail.name], child or ""), problem))
            return []
        with self.lock:
            if child is None:
                details.values[detail.name] = found
            else:
                details.children[(detail.name, child)] = found
        return [
            Call(sub, (sub, self.service.name), partial(self.detail, index, item, dependent, name))
            for dependent in self.service.details
            if dependent.over == detail.name
            for name in _children(found, dependent)
        ]

    def errors(self) -> list[CollectionError]:
        return [error for _, error in sorted(self.failed, key=lambda entry: entry[0])]

    def unreadable(self) -> list[tuple[str, str]]:
        return [
            (item_id, next(iter(details.failures.values())))
            for item_id, details in self.found.items()
            if details.failures
        ]


def _children(found: list[dict[str, Any]], dependent: DetailSpec) -> list[str]:
    """Names of the child items a dependent detail is read for (system databases skipped)."""
    names: list[str] = []
    for child in found:
        name = str(child.get("name") or "")
        if dependent.skip_system and (
            name.lower() == "master" or "system" in str(child.get("kind") or "")
        ):
            continue
        names.append(name)
    return names


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """Get one token where tasks run: ``None`` when it works, else the one-line problem."""

    @property
    def key(self) -> str:
        return "azure/credential"

    def run(self, env: AzureEnvironment) -> str | None:
        from hds_audit.collectors.azure.clouds import check_credential
        from hds_audit.errors import UsageError

        try:
            check_credential(env.factory.credential, env.spec.cloud)
        except UsageError as error:
            return str(error)
        return None

    def lost(self, reason: str) -> str:
        return f"the Azure credential could not be checked where tasks run ({reason})"
