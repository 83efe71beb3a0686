"""The AWS collection as executor tasks: picklable descriptions, run against an environment.

- :class:`AccountTask` reaches one account (its role assumed by the worker itself) and lists
  its enabled regions;
- :class:`ServiceTask` collects one (account, region, service) and returns normalised
  resources and collection errors.

Nothing secret travels in a task: an account is its id and the ARN of the role to assume; the
worker's own credentials (environment, profile, instance role) assume it. The
:class:`AwsEnvironment` -- clients, assumed sessions, the KMS key cache, the detail-call pool
-- is built once per process from an :class:`AwsEnvSpec`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3

from hds_audit.collectors.aws.fetch import fetch
from hds_audit.collectors.aws.keys import KeyResolver
from hds_audit.collectors.aws.normalise import NORMALISERS, TaskContext
from hds_audit.collectors.aws.session import (
    Account,
    AwsSettings,
    CallRecord,
    Connector,
    OnceCache,
    SessionFactory,
    classify,
    default_session_factory,
)
from hds_audit.collectors.aws.table import ServiceTable, service_table
from hds_audit.collectors.base import Collection
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import CollectionError, Source, SourceKind

_ENABLED = ("opt-in-not-required", "opted-in")
# Assumed-role sessions are renewed when less than this is left of their credentials.
_RENEW_BEFORE_SECONDS = 600.0


def aws_error(account: str, scope: str, message: str, kind: str, **details: str) -> CollectionError:
    """A collection error on an AWS scope; its details let the engine mark that scope unknown."""
    return CollectionError(
        source=f"aws:{account}",
        scope=scope,
        message=message,
        kind=kind,
        details={"provider": "aws", "source_kind": "aws-api", "account": account, **details},
    )


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account to audit: its id and how to reach it (``role_arn`` None: own credentials)."""

    id: str
    role_arn: str | None
    partition: str = "aws"

    @property
    def via(self) -> str:
        return f"role {self.role_arn}" if self.role_arn else "the current credentials"


@dataclass(frozen=True, slots=True)
class AwsEnvSpec:
    """What a worker needs to build its AWS environment: the settings, nothing secret."""

    settings: AwsSettings

    def build(self) -> AwsEnvironment:
        return AwsEnvironment(self.settings)


@dataclass(slots=True)
class _Assumed:
    session: boto3.session.Session
    expires: float


@dataclass(slots=True)
class AwsEnvironment:
    """One process's clients, sessions and caches (shared by every task it runs)."""

    settings: AwsSettings
    session_factory: SessionFactory = default_session_factory
    observer: Callable[[CallRecord], None] | None = None
    table: ServiceTable = field(default_factory=service_table)
    geo: GeoTables = field(default_factory=GeoTables.default)
    base: boto3.session.Session | None = None
    clock: Callable[[], float] = time.time
    # The caller's own Connector when it has one (its clients, its observer); else built.
    shared_connector: Connector | None = None
    _pool: ThreadPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _assumed: dict[str, _Assumed] = field(default_factory=dict)
    _role_locks: dict[str, threading.Lock] = field(default_factory=dict)
    keys: KeyResolver | None = None
    bucket_regions: OnceCache[str | None] = field(default_factory=OnceCache)
    dead: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def connector(self) -> Connector:
        with self._lock:
            if self.shared_connector is None:
                self.shared_connector = Connector(self.settings, self.table, self.observer)
            return self.shared_connector

    @property
    def key_resolver(self) -> KeyResolver:
        """KMS keys described once per process, whatever task meets them."""
        connector = self.connector
        with self._lock:
            if self.keys is None:
                self.keys = KeyResolver(connector)
            return self.keys

    @property
    def details_pool(self) -> ThreadPoolExecutor:
        """Per-item detail calls of every task of this process (bounded like the tasks)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.settings.max_workers), thread_name_prefix="hds-aws-item"
                )
            return self._pool

    def base_session(self) -> boto3.session.Session:
        with self._lock:
            if self.base is None:
                self.base = self.session_factory(self.settings.profile)
            return self.base

    def account(self, ref: AccountRef) -> Account:
        """The account with a usable session; a role is assumed once and renewed in time."""
        base = self.base_session()
        if ref.role_arn is None:
            return Account(ref.id, base, ref.via, ref.partition)
        with self._lock:
            lock = self._role_locks.setdefault(ref.role_arn, threading.Lock())
        with lock:
            assumed = self._assumed.get(ref.role_arn)
            if assumed is None or assumed.expires - self.clock() < _RENEW_BEFORE_SECONDS:
                if assumed is not None:  # renewed: clients of the old credentials go
                    self.connector.forget(ref.id)
                session, expires = self.connector.assume(base, ref.role_arn)
                assumed = self._assumed[ref.role_arn] = _Assumed(session, expires)
        return Account(ref.id, assumed.session, ref.via, ref.partition)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def unreachable(self, account: str, region: str) -> str | None:
        """Why a region of an account is known unreachable in this process (its next tasks
        are skipped), or None."""
        with self._lock:
            return self.dead.get((account, region))

    def mark_unreachable(self, account: str, region: str, reason: str) -> None:
        with self._lock:
            self.dead.setdefault((account, region), reason)

    def bucket_region(self, account: Account, name: str) -> tuple[str | None, str | None]:
        """LocationConstraint of a bucket (replication destinations), asked once per bucket."""

        def locate() -> str | None:
            home = self.connector.home_region(account.session)
            s3 = self.connector.client(account, home, "s3")
            constraint = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
            return str(constraint) if constraint else None

        try:
            return self.bucket_regions.get(f"{account.id}:{name}", locate), None
        except Exception as error:
            return None, f"s3:GetBucketLocation failed: {classify(error)[1]}"


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """An account reached, and the regions to audit in it (``None``: unreachable)."""

    account: AccountRef
    regions: tuple[str, ...] | None
    notes: tuple[str, ...] = ()
    errors: tuple[CollectionError, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountTask:
    """Reach an account (assume its role) and list its enabled regions."""

    account: AccountRef
    wanted: tuple[str, ...] | None = None  # --aws-regions; None: every enabled region

    @property
    def key(self) -> str:
        return f"aws/{self.account.id}/regions"

    @property
    def affinity(self) -> str:
        """An account's tasks share a worker: its assumed role, clients and key cache."""
        return f"aws:{self.account.id}"

    def run(self, env: AwsEnvironment) -> AccountPlan:
        ref = self.account
        try:
            account = env.account(ref)
        except Exception as error:
            kind, message = classify(error)
            return self.lost_with(f"sts:AssumeRole {ref.role_arn}: {message}", kind)
        home = env.connector.home_region(account.session)
        try:
            ec2 = env.connector.client(account, home, "ec2")
            listed = ec2.describe_regions(AllRegions=True)["Regions"]
        except Exception as error:
            kind, message = classify(error)
            return self.lost_with(f"ec2:DescribeRegions: {message}", kind)
        enabled = sorted(r["RegionName"] for r in listed if r.get("OptInStatus") in _ENABLED)
        disabled = sorted(r["RegionName"] for r in listed if r["RegionName"] not in enabled)
        notes: list[str] = []
        if self.wanted is None:
            chosen = enabled
            if disabled:
                notes.append(Msg("note.regions_disabled", regions=", ".join(disabled)))
        else:
            chosen = [r for r in self.wanted if r in enabled]
            skipped = [r for r in self.wanted if r not in enabled]
            if skipped:
                notes.append(Msg("note.regions_skipped", regions=", ".join(skipped)))
        notes.append(
            Msg("note.regions_audited", regions=", ".join(chosen) or Msg("note.regions_none"))
        )
        return AccountPlan(ref, tuple(chosen), tuple(notes))

    def lost_with(self, message: str, kind: str) -> AccountPlan:
        ref = self.account
        return AccountPlan(ref, None, errors=(aws_error(ref.id, f"aws:{ref.id}", message, kind),))

    def lost(self, reason: str) -> AccountPlan:
        return self.lost_with(reason, "task_lost")


@dataclass(frozen=True, slots=True)
class ServiceTask:
    """Collect one service in one account and region."""

    account: AccountRef
    region: str
    service: str

    @property
    def key(self) -> str:
        return f"aws/{self.account.id}/{self.region}/{self.service}"

    @property
    def affinity(self) -> str:
        return f"aws:{self.account.id}"

    @property
    def scope(self) -> str:
        return f"aws:{self.account.id}/{self.region}/{self.service}"

    def run(self, env: AwsEnvironment) -> Collection:
        ref, region = self.account, self.region
        spec = env.table.services[self.service]
        reason = env.unreachable(ref.id, region)
        if reason is not None:
            return self.failed("unreachable", f"skipped: {reason}")
        try:
            account = env.account(ref)
            keys = env.key_resolver
            ctx = TaskContext(
                account=account,
                region=region,
                geo=env.geo,
                source=Source(kind=SourceKind.AWS_API, account=ref.id, region=region),
                keys=keys,
                bucket_region=lambda name: env.bucket_region(account, name),
                inventory_types=env.table.inventory_types,
            )
            data = fetch(env.connector, account, region, spec, keys, env.details_pool)
            resources = NORMALISERS[spec.normaliser](ctx, data)
        except Exception as error:
            kind, message = classify(error)
            if isinstance(error, KeyError | TypeError | AttributeError | ValueError):
                # unexpected data or a bug: reported with its type, never hidden
                kind, message = "internal_error", f"{type(error).__name__}: {error}"
            if kind == "unreachable":
                env.mark_unreachable(ref.id, region, f"region {region} unreachable ({message})")
            return self.failed(kind, message)
        return Collection(
            resources=resources,
            errors=[
                self.item_error(item, kind, message) for item, kind, message in data.item_errors
            ],
        )

    def failed(self, kind: str, message: str) -> Collection:
        ref = self.account
        return Collection(
            errors=[
                aws_error(
                    ref.id, self.scope, message, kind, region=self.region, service=self.service
                )
            ]
        )

    def item_error(self, item: str, kind: str, message: str) -> CollectionError:
        failed = self.failed(kind, message).errors[0]
        return CollectionError(
            source=failed.source,
            scope=f"{failed.scope}/{item}",
            message=message,
            kind=kind,
            details={**failed.details, "item": item},
        )

    def lost(self, reason: str) -> Collection:
        return self.failed("task_lost", reason)
