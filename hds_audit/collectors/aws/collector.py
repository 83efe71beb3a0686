"""The AWS collector: accounts x enabled regions x services, as executor tasks.

The client side (this module) checks the credentials, lists the organisation's accounts and
hands the work to an executor -- a local thread pool by default, or a Dask cluster. Each
account is reached and its regions listed by an :class:`~.tasks.AccountTask`; each (account,
region, service) is a :class:`~.tasks.ServiceTask` that runs the calls its row of
``services.yaml`` declares and normalises the answers. A task that fails (access denied,
throttled past the retries, endpoint unreachable, worker lost) becomes a
:class:`CollectionError` whose scope (``aws:<account>/<region>/<service>``) gets ``unknown``
findings; the scan always completes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3

from hds_audit.collectors.aws.progress import NoProgress, Progress
from hds_audit.collectors.aws.session import (
    AwsSettings,
    CallRecord,
    Connector,
    SessionFactory,
    classify,
    credentials_problem,
    default_session_factory,
    is_credentials_error,
)
from hds_audit.collectors.aws.table import ServiceTable, service_table
from hds_audit.collectors.aws.tasks import (
    AccountPlan,
    AccountRef,
    AccountTask,
    AwsEnvironment,
    AwsEnvSpec,
    ServiceTask,
    aws_error,
)
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.errors import Unreachable
from hds_audit.executors import Environment, Executor, Task
from hds_audit.executors.local import LocalExecutor
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import Resource, SourceKind
from hds_audit.sharding import Shard

__all__ = ["AwsCollector", "aws_error"]


@dataclass(slots=True)
class AwsCollector:
    """The AWS side of a scan (a :class:`~hds_audit.collectors.base.Collector`).

    Everything is injectable: the base-session factory (profile -> boto3 session), the
    settings (endpoint URL, workers, retries, timeouts), the progress display, an observer
    told of every API call made in this process, the executor (default: a local pool of
    ``settings.max_workers`` threads) and the shard of the organisation to audit.
    """

    settings: AwsSettings = field(default_factory=AwsSettings)
    session_factory: SessionFactory = default_session_factory
    progress: Progress = field(default_factory=NoProgress)
    observer: Callable[[CallRecord], None] | None = None
    table: ServiceTable = field(default_factory=service_table)
    executor: Executor | None = None
    shard: Shard | None = None
    name: str = "aws"
    _base: boto3.session.Session | None = None
    _identity: dict[str, Any] | None = None
    _connector: Connector | None = None

    @property
    def connector(self) -> Connector:
        if self._connector is None:
            self._connector = Connector(self.settings, self.table, self.observer)
        return self._connector

    # -- before the scan --------------------------------------------------------------------

    def prepare(self) -> dict[str, Any]:
        """Check the credentials (``sts:GetCallerIdentity``); raises ``UsageError`` if unusable."""
        if self._identity is not None:
            return self._identity
        base = self.session_factory(self.settings.profile)
        try:
            sts = self.connector.new_client(base, self.connector.home_region(base), "sts")
            identity: dict[str, Any] = sts.get_caller_identity()
        except Exception as error:
            if is_credentials_error(error):
                raise credentials_problem(error) from None
            kind, message = classify(error)
            if kind == "unreachable":  # nothing can be audited: an environment problem
                raise Unreachable(
                    f"{message}; check the network, the proxy (HTTPS_PROXY) or --aws-endpoint-url"
                ) from None
            raise
        self._base = base
        self._identity = identity
        return identity

    # -- the scan ---------------------------------------------------------------------------

    def collect(self, geo: GeoTables) -> Collection:
        identity = self.prepare()
        result = Collection()
        accounts = self._accounts(identity, result)
        if self.shard is not None:
            accounts = [a for a in accounts if self.shard.owns(f"aws:{a.id}")]
        local = AwsEnvironment(
            self.settings,
            self.session_factory,
            self.observer,
            self.table,
            geo,
            base=self._base,
            shared_connector=self.connector,
        )
        executor = self.executor or LocalExecutor(self.settings.max_workers)
        # Longest first: services with a call per item, then the rest (a shorter tail).
        services = [
            spec.name
            for spec in sorted(self.table.services.values(), key=lambda spec: not spec.details)
        ]
        plans: list[AccountPlan] = []

        def follow(task: Task, done: Any) -> Iterable[Task]:
            if not isinstance(done, AccountPlan):
                return ()
            plans.append(done)
            result.errors.extend(done.errors)
            if done.regions is None:
                return ()
            for note in done.notes:
                self.progress.note(f"{done.account.id}: {note}")
            self.progress.planned(done.account.id, len(done.regions) * len(services))
            return [
                ServiceTask(done.account, region, service)
                for service in services
                for region in done.regions
            ]

        tasks = [AccountTask(account, self.settings.regions) for account in accounts]
        if self.executor is not None:
            self.progress.note(f"{len(tasks)} account(s) on {self.executor.description}")
        try:
            for finished in executor.run(
                Environment(AwsEnvSpec(self.settings), local), tasks, follow
            ):
                task = finished.task
                if not isinstance(task, ServiceTask):
                    continue
                part: Collection = finished.result
                result.resources.extend(part.resources)
                result.errors.extend(part.errors)
                self.progress.task_done(
                    task.account.id,
                    task.region,
                    task.service,
                    len(part.resources),
                    part.errors[0].message if part.errors else None,
                )
        finally:
            local.close()
            self.progress.finished()
        result.resources = _without_duplicates(result.resources)
        result.resources.sort(key=lambda r: (r.source.account or "", r.region or "", r.id))
        result.errors.sort(key=lambda e: e.scope)
        order = {a.id: i for i, a in enumerate(accounts)}
        per_account = Counter(r.source.account for r in result.resources)
        extra = [f"collected on {self.executor.description}"] if self.executor else []
        if self.shard is not None:
            extra.append(f"shard {self.shard.label}")
        for plan in sorted(plans, key=lambda p: order.get(p.account.id, len(order))):
            if plan.regions is None:
                continue
            result.sources.append(
                CollectedSource(
                    path=f"aws:{plan.account.id}",
                    kind=SourceKind.AWS_API.value,
                    resources=per_account[plan.account.id],
                    notes=[Msg("note.reached_with", via=plan.account.via), *plan.notes, *extra],
                    identity=plan.account.role_arn or str(identity.get("Arn") or "") or None,
                    regions=sorted(plan.regions),
                )
            )
        return result

    # -- accounts -----------------------------------------------------------------------------

    def _accounts(self, identity: dict[str, Any], result: Collection) -> list[AccountRef]:
        """The accounts to audit: the current one, the given roles, the organisation's."""
        assert self._base is not None
        own = str(identity["Account"])
        partition = str(identity.get("Arn", "arn:aws:")).split(":")[1] or "aws"
        if not self.settings.role_arns and not self.settings.org_role:
            return [AccountRef(own, None, partition)]
        targets: dict[str, AccountRef] = {}
        for arn in self.settings.role_arns:
            parts = arn.split(":")
            account_id = parts[4] if len(parts) > 4 else arn
            targets.setdefault(account_id, AccountRef(account_id, arn, partition))
        if self.settings.org_role:
            for account_id in self._organisation(own, result):
                role = (
                    None
                    if account_id == own
                    else f"arn:{partition}:iam::{account_id}:role/{self.settings.org_role}"
                )
                targets.setdefault(account_id, AccountRef(account_id, role, partition))
        return list(targets.values())

    def _organisation(self, own: str, result: Collection) -> list[str]:
        """The ACTIVE accounts of the organisation (an error entry when it cannot be listed)."""
        assert self._base is not None
        base = self._base
        try:
            org = self.connector.new_client(base, self.connector.home_region(base), "organizations")
            listed = [
                a
                for page in org.get_paginator("list_accounts").paginate()
                for a in page["Accounts"]
            ]
        except Exception as error:
            kind, message = classify(error)
            result.errors.append(
                aws_error(
                    own, f"aws:{own}/organizations", f"organizations:ListAccounts: {message}", kind
                )
            )
            return []
        return [str(a["Id"]) for a in listed if a.get("Status") == "ACTIVE"]


def _without_duplicates(resources: list[Resource]) -> list[Resource]:
    """Drop inventory entries for resources a service task described; keep the first of each."""
    typed = {r.id for r in resources if r.attributes.get("collected_by") != "inventory"}
    seen: set[str] = set()
    out: list[Resource] = []
    for resource in resources:
        if resource.id in seen:
            continue
        if resource.attributes.get("collected_by") == "inventory" and resource.id in typed:
            continue
        seen.add(resource.id)
        out.append(resource)
    return out
