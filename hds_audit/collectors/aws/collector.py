"""The AWS collector: accounts x enabled regions x services, in a bounded thread pool.

Each (account, region, service) task runs the calls its row of ``services.yaml`` declares and
hands the raw data to that row's normaliser. A task that fails (access denied, throttled past
the retries, endpoint unreachable) becomes a :class:`CollectionError` whose scope
(``aws:<account>/<region>/<service>``) gets ``unknown`` findings; the scan always completes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import boto3
import jmespath

from hds_audit.collectors.aws.keys import KeyResolver
from hds_audit.collectors.aws.normalise import (
    NORMALISERS,
    Listed,
    TaskContext,
    TaskData,
    Unavailable,
)
from hds_audit.collectors.aws.progress import NoProgress, Progress
from hds_audit.collectors.aws.session import (
    Account,
    AwsSettings,
    CallRecord,
    Connector,
    OnceCache,
    SessionFactory,
    classify,
    credentials_problem,
    default_session_factory,
    error_code,
    is_credentials_error,
)
from hds_audit.collectors.aws.table import Call, ServiceSpec, ServiceTable, render, service_table
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.geo import GeoTables
from hds_audit.model import CollectionError, Resource, Source, SourceKind

_ENABLED = ("opt-in-not-required", "opted-in")
# Failures of a detail call that concern one item only (others fail the whole task).
_PER_ITEM = frozenset({"access_denied", "throttled", "api_error"})


class _Absent(Exception):
    """A detail call answered with one of its 'not configured' codes."""


@dataclass(slots=True)
class _Plan:
    account: Account
    regions: list[str]
    notes: list[str]


@dataclass(slots=True)
class AwsCollector:
    """The AWS side of a scan (a :class:`~hds_audit.collectors.base.Collector`).

    Everything is injectable: the base-session factory (profile -> boto3 session), the
    settings (endpoint URL, workers, retries, timeouts), the progress display and an observer
    told of every API call before it is sent.
    """

    settings: AwsSettings = field(default_factory=AwsSettings)
    session_factory: SessionFactory = default_session_factory
    progress: Progress = field(default_factory=NoProgress)
    observer: Callable[[CallRecord], None] | None = None
    table: ServiceTable = field(default_factory=service_table)
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
            raise
        self._base = base
        self._identity = identity
        return identity

    # -- the scan ---------------------------------------------------------------------------

    def collect(self, geo: GeoTables) -> Collection:
        identity = self.prepare()
        assert self._base is not None
        result = Collection()
        accounts = self._accounts(identity, result)
        keys = KeyResolver(self.connector)
        bucket_regions: OnceCache[str | None] = OnceCache()
        plans: list[_Plan] = []
        for account in accounts:
            plan = self._plan(account, result)
            if plan is not None:
                plans.append(plan)
        # Longest first: services with a call per item, then the rest (a shorter tail).
        services = sorted(self.table.services.values(), key=lambda spec: not spec.details)
        tasks = [
            (plan.account, region, spec)
            for spec in services
            for plan in plans
            for region in plan.regions
        ]
        for plan in plans:
            self.progress.planned(plan.account.id, len(plan.regions) * len(self.table.services))
        dead: dict[tuple[str, str], str] = {}
        dead_lock = threading.Lock()

        def run(account: Account, region: str, spec: ServiceSpec) -> Collection:
            with dead_lock:
                reason = dead.get((account.id, region))
            if reason is not None:
                return _failed(account, region, spec, "unreachable", f"skipped: {reason}")
            ctx = TaskContext(
                account=account,
                region=region,
                geo=geo,
                source=Source(kind=SourceKind.AWS_API, account=account.id, region=region),
                keys=keys,
                bucket_region=lambda name: self._bucket_region(account, name, bucket_regions),
                inventory_types=self.table.inventory_types,
            )
            try:
                data = self._fetch(account, region, spec, keys, details_pool)
                resources = NORMALISERS[spec.normaliser](ctx, data)
            except Exception as error:
                kind, message = classify(error)
                if isinstance(error, KeyError | TypeError | AttributeError | ValueError):
                    # unexpected data or a bug: reported with its type, never hidden
                    kind, message = "internal_error", f"{type(error).__name__}: {error}"
                if kind == "unreachable":
                    with dead_lock:
                        dead.setdefault(
                            (account.id, region), f"region {region} unreachable ({message})"
                        )
                return _failed(account, region, spec, kind, message)
            return Collection(
                resources=resources,
                errors=[
                    _item_error(account, region, spec, item, kind, message)
                    for item, kind, message in data.item_errors
                ],
            )

        workers = max(1, self.settings.max_workers)
        # Two bounded pools: tasks (account x region x service) and the per-item detail calls
        # they fan out. With one worker each, the scan is strictly sequential.
        details_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hds-aws-item")
        with (
            details_pool,
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hds-aws") as pool,
        ):
            futures = {pool.submit(run, *task): task for task in tasks}
            for future in as_completed(futures):
                account, region, spec = futures[future]
                part = future.result()
                result.resources.extend(part.resources)
                result.errors.extend(part.errors)
                self.progress.task_done(
                    account.id,
                    region,
                    spec.name,
                    len(part.resources),
                    part.errors[0].message if part.errors else None,
                )
        self.progress.finished()
        result.resources = _without_duplicates(result.resources)
        result.resources.sort(key=lambda r: (r.source.account or "", r.region or "", r.id))
        result.errors.sort(key=lambda e: e.scope)
        for plan in plans:
            result.sources.append(
                CollectedSource(
                    path=f"aws:{plan.account.id}",
                    kind=SourceKind.AWS_API.value,
                    resources=sum(
                        1 for r in result.resources if r.source.account == plan.account.id
                    ),
                    notes=[f"reached with {plan.account.via}", *plan.notes],
                )
            )
        return result

    # -- accounts and regions -----------------------------------------------------------------

    def _accounts(self, identity: dict[str, Any], result: Collection) -> list[Account]:
        assert self._base is not None
        base = self._base
        own = str(identity["Account"])
        partition = str(identity.get("Arn", "arn:aws:")).split(":")[1] or "aws"
        if not self.settings.role_arns and not self.settings.org_role:
            return [Account(own, base, "the current credentials", partition)]
        accounts: list[Account] = []
        targets: list[tuple[str, str | None]] = []
        for arn in self.settings.role_arns:
            parts = arn.split(":")
            targets.append((parts[4] if len(parts) > 4 else arn, arn))
        if self.settings.org_role:
            try:
                org = self.connector.new_client(
                    base, self.connector.home_region(base), "organizations"
                )
                listed = [
                    a
                    for page in org.get_paginator("list_accounts").paginate()
                    for a in page["Accounts"]
                ]
            except Exception as error:
                kind, message = classify(error)
                result.errors.append(
                    aws_error(
                        own,
                        f"aws:{own}/organizations",
                        f"organizations:ListAccounts: {message}",
                        kind,
                    )
                )
                listed = []
            known = {t[0] for t in targets}
            for entry in listed:
                account_id = str(entry["Id"])
                if entry.get("Status") != "ACTIVE" or account_id in known:
                    continue
                role = (
                    None
                    if account_id == own
                    else f"arn:{partition}:iam::{account_id}:role/{self.settings.org_role}"
                )
                targets.append((account_id, role))
        for account_id, role in targets:
            if role is None:
                accounts.append(Account(own, base, "the current credentials", partition))
                continue
            try:
                session = self.connector.assume(base, role)
            except Exception as error:
                kind, message = classify(error)
                result.errors.append(
                    aws_error(
                        account_id, f"aws:{account_id}", f"sts:AssumeRole {role}: {message}", kind
                    )
                )
                continue
            accounts.append(Account(account_id, session, f"role {role}", partition))
        return accounts

    def _plan(self, account: Account, result: Collection) -> _Plan | None:
        home = self.connector.home_region(account.session)
        try:
            ec2 = self.connector.client(account, home, "ec2")
            regions = ec2.describe_regions(AllRegions=True)["Regions"]
        except Exception as error:
            kind, message = classify(error)
            result.errors.append(
                aws_error(account.id, f"aws:{account.id}", f"ec2:DescribeRegions: {message}", kind)
            )
            return None
        enabled = sorted(r["RegionName"] for r in regions if r.get("OptInStatus") in _ENABLED)
        disabled = sorted(r["RegionName"] for r in regions if r["RegionName"] not in enabled)
        notes: list[str] = []
        wanted = self.settings.regions
        if wanted is None:
            chosen = enabled
            if disabled:
                notes.append(f"regions not enabled (not audited): {', '.join(disabled)}")
        else:
            chosen = [r for r in wanted if r in enabled]
            skipped = [r for r in wanted if r not in enabled]
            if skipped:
                notes.append(f"requested regions not enabled in this account: {', '.join(skipped)}")
        notes.append(f"regions audited: {', '.join(chosen) or '(none)'}")
        for note in notes:
            self.progress.note(f"{account.id}: {note}")
        return _Plan(account, chosen, notes)

    # -- one task ---------------------------------------------------------------------------

    def _fetch(
        self,
        account: Account,
        region: str,
        spec: ServiceSpec,
        keys: KeyResolver,
        pool: ThreadPoolExecutor,
    ) -> TaskData:
        client = self.connector.client(account, region, spec.client)
        variables: dict[str, Any] = {"region": region, "account": account.id}
        data = TaskData()
        for call in spec.context:
            try:
                data.context[call.key] = _extract(_invoke(client, call, variables), call.path)
            except Exception as error:
                if not call.optional or isinstance(error, KeyError | TypeError):
                    raise
                data.context[call.key] = Unavailable(f"{call.operation}: {classify(error)[1]}")
        for call in spec.lists:
            data.lists[call.key] = [Listed(item) for item in _paginate(client, call, variables)]
        first = spec.lists[0].key
        per_list: dict[str, list[Call]] = {}
        for detail in spec.details:
            per_list.setdefault(detail.of or first, []).append(detail)

        errors_lock = threading.Lock()

        def describe(listed: Listed, details: list[Call]) -> None:
            """One item's detail calls, in order (a later one may depend on an earlier)."""
            item_vars = {**variables, "item": listed.item}
            for detail in details:
                if not _applies(detail, listed):
                    continue
                if detail.cached == "kms_key":
                    key_id = str(render(detail.params["KeyId"], item_vars))
                    try:
                        listed.details[detail.key] = keys.metadata(account, region, key_id)
                    except Exception as error:
                        kind, message = classify(error)
                        if kind not in _PER_ITEM:
                            raise
                        for feed in detail.feeds:
                            listed.failures[feed] = f"{detail.operation}: {message}"
                        with errors_lock:
                            data.item_errors.append((listed.label(), kind, message))
                    continue
                try:
                    response = _invoke(client, detail, item_vars)
                except Exception as error:
                    if error_code(error) in detail.absent:
                        listed.details[detail.key] = None
                        continue
                    kind, message = classify(error)
                    if kind not in _PER_ITEM:
                        raise  # the endpoint is gone or a bug: fail the whole task
                    # One item refused (a bucket policy, a key policy): only what this call
                    # feeds becomes unknown on that resource; the other items are audited.
                    for feed in detail.feeds:
                        listed.failures[feed] = f"{detail.operation}: {message}"
                    with errors_lock:
                        data.item_errors.append((listed.label(), kind, message))
                    continue
                listed.details[detail.key] = _extract(response, detail.path)

        # Items are described in the detail pool (its tasks never wait on anything, so a full
        # pool cannot deadlock); the first failure fails the task.
        futures = [
            pool.submit(describe, listed, details)
            for key, details in per_list.items()
            for listed in data.lists[key]
        ]
        failure: BaseException | None = None
        for future in futures:
            problem = future.exception()
            if failure is None:
                failure = problem
        if failure is not None:
            raise failure
        return data

    def _bucket_region(
        self, account: Account, name: str, cache: OnceCache[str | None]
    ) -> tuple[str | None, str | None]:
        """LocationConstraint of a bucket (replication destinations), asked once per bucket."""

        def locate() -> str | None:
            home = self.connector.home_region(account.session)
            s3 = self.connector.client(account, home, "s3")
            constraint = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
            return str(constraint) if constraint else None

        try:
            return cache.get(f"{account.id}:{name}", locate), None
        except Exception as error:
            return None, f"s3:GetBucketLocation failed: {classify(error)[1]}"


def _failed(
    account: Account, region: str, spec: ServiceSpec, kind: str, message: str
) -> Collection:
    scope = f"aws:{account.id}/{region}/{spec.name}"
    return Collection(
        errors=[aws_error(account.id, scope, message, kind, region=region, service=spec.name)]
    )


def aws_error(account: str, scope: str, message: str, kind: str, **details: str) -> CollectionError:
    """A collection error on an AWS scope; its details let the engine mark that scope unknown."""
    return CollectionError(
        source=f"aws:{account}",
        scope=scope,
        message=message,
        kind=kind,
        details={"provider": "aws", "source_kind": "aws-api", "account": account, **details},
    )


def _item_error(
    account: Account, region: str, spec: ServiceSpec, item: str, kind: str, message: str
) -> CollectionError:
    failed = _failed(account, region, spec, kind, message).errors[0]
    return CollectionError(
        source=failed.source,
        scope=f"{failed.scope}/{item}",
        message=message,
        kind=kind,
        details={**failed.details, "item": item},
    )


def _method(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def _invoke(client: Any, call: Call, variables: dict[str, Any]) -> Any:
    params = {k: render(v, variables) for k, v in call.params.items()}
    return getattr(client, _method(call.operation))(**params)


def _paginate(client: Any, call: Call, variables: dict[str, Any]) -> Iterator[Any]:
    params = {k: render(v, variables) for k, v in call.params.items()}
    method = _method(call.operation)
    if client.can_paginate(method):
        pages: Any = client.get_paginator(method).paginate(**params)
    else:
        pages = [getattr(client, method)(**params)]
    for page in pages:
        yield from _extract(page, call.path) or ()


def _extract(response: Any, path: str | None) -> Any:
    if path is None:
        if isinstance(response, dict):
            return {k: v for k, v in response.items() if k != "ResponseMetadata"}
        return response
    return jmespath.search(path, response)


def _applies(call: Call, listed: Listed) -> bool:
    if not call.when:
        return True
    for path, expected in call.when.items():
        head, _, rest = path.partition(".")
        value: Any = listed.details.get(head)
        for part in rest.split(".") if rest else ():
            value = value.get(part) if isinstance(value, dict) else None
        if value != expected:
            return False
    return True


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
