"""Sessions, clients, accounts and the read-only guard of the AWS collector.

Everything that reaches AWS goes through :class:`Connector`: it builds the clients (adaptive
retries, connect and read timeouts, optional endpoint URL), installs the read-only guard on
each, reports every call to an optional observer, and classifies failures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import boto3
import botocore.exceptions as bce
import botocore.session
from botocore.config import Config

from hds_audit.collectors.aws.table import ServiceTable
from hds_audit.errors import UsageError, unreachable_reason
from hds_audit.i18n import Msg, Quote

DEFAULT_HOME_REGION = "us-east-1"
DEFAULT_MAX_WORKERS = 16
ROLE_SESSION_NAME = "hds-audit"
_ROLE_SESSION_SECONDS = 3600.0  # AssumeRole's default duration

SessionFactory = Callable[[str | None], boto3.session.Session]
"""Builds the base session from a profile name (``None``: boto3's default chain)."""


def default_session_factory(profile: str | None) -> boto3.session.Session:
    try:
        return boto3.session.Session(profile_name=profile)
    except bce.ProfileNotFound:
        raise UsageError(f"--aws-profile: profile {profile!r} not found") from None


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """What to audit and how hard to push; validated by :mod:`hds_audit.config` and the CLI."""

    profile: str | None = None
    regions: tuple[str, ...] | None = None
    role_arns: tuple[str, ...] = ()
    org_role: str | None = None
    endpoint_url: str | None = None
    max_workers: int = DEFAULT_MAX_WORKERS
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    home_region: str | None = None

    @staticmethod
    def parse_regions(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
        """``all`` (or nothing) -> ``None`` (every enabled region); else the listed codes."""
        if value is None:
            return None
        items = value.split(",") if isinstance(value, str) else list(value)
        regions = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
        if not regions or regions == ("all",):
            return None
        if "all" in regions:
            raise UsageError("--aws-regions: 'all' cannot be combined with region names")
        return regions


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One API call the collector made (reported to the observer before it is sent)."""

    client: str
    operation: str
    region: str | None


class ReadOnlyViolation(RuntimeError):
    """The collector tried an operation that is not read-only: refused before it was sent."""


T = TypeVar("T")


class OnceCache(Generic[T]):
    """A thread-safe memo where each key is computed exactly once, even under concurrency.

    Failures are cached as well (the same key never hits the API twice).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, Future[T]] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
        return future.result()

    def put(self, key: str, value: T) -> None:
        with self._lock:
            if key not in self._futures:
                future: Future[T] = Future()
                future.set_result(value)
                self._futures[key] = future


@dataclass(slots=True)
class Account:
    """One audited account and the session that reaches it."""

    id: str
    session: boto3.session.Session
    via: str
    partition: str = "aws"


@dataclass(slots=True)
class Connector:
    """Builds guarded, observed clients; one per (account, region, service), cached."""

    settings: AwsSettings
    table: ServiceTable
    observer: Callable[[CallRecord], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session_locks: dict[int, threading.Lock] = field(default_factory=dict)
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    _config: Config | None = None

    def config(self) -> Config:
        """One botocore Config for every client: adaptive retries, timeouts, pool size."""
        if self._config is not None:
            return self._config
        options: dict[str, Any] = {
            "retries": {"mode": "adaptive", "max_attempts": self.settings.max_attempts},
            "connect_timeout": self.settings.connect_timeout,
            "read_timeout": self.settings.read_timeout,
            "max_pool_connections": max(10, self.settings.max_workers),
            "user_agent_extra": "hds-audit",
        }
        if self.settings.endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        self._config = Config(**options)
        return self._config

    def home_region(self, session: boto3.session.Session) -> str:
        return self.settings.home_region or session.region_name or DEFAULT_HOME_REGION

    def session_lock(self, session: boto3.session.Session) -> threading.Lock:
        """One lock per session: a boto3 session is not thread-safe while it creates clients,
        but different accounts' sessions may create theirs at the same time."""
        with self._lock:
            return self._session_locks.setdefault(id(session), threading.Lock())

    def client(self, account: Account, region: str, service: str) -> Any:
        """The cached client of (account, region, service); created on first use."""
        key = (account.id, region, service)
        cached = self._clients.get(key)
        if cached is None:
            with self.session_lock(account.session):
                cached = self._clients.get(key)
                if cached is None:
                    cached = self.new_client(account.session, region, service)
                    self._clients[key] = cached
        return cached

    def new_client(self, session: boto3.session.Session, region: str, service: str) -> Any:
        client = session.client(
            service,
            region_name=region,
            endpoint_url=self.settings.endpoint_url,
            config=self.config(),
        )
        client.meta.events.register("before-call", self._before_call)
        return client

    def _before_call(self, model: Any, context: Any = None, **_: Any) -> None:
        operation = str(model.name)
        service = str(model.service_model.service_name)
        if not self.table.is_read_only(operation):
            raise ReadOnlyViolation(f"refused {service}:{operation}: hds-audit only reads")
        if self.observer is not None:
            region = context.get("client_region") if isinstance(context, dict) else None
            self.observer(CallRecord(service, operation, region))

    def forget(self, account_id: str) -> None:
        """Drop the cached clients of an account (its credentials were renewed)."""
        with self._lock:
            for key in [k for k in self._clients if k[0] == account_id]:
                del self._clients[key]

    def assume(
        self, base: boto3.session.Session, role_arn: str
    ) -> tuple[boto3.session.Session, float]:
        """A session for ``role_arn``, assumed with the base credentials, and when its
        credentials expire (epoch seconds)."""
        with self.session_lock(base):
            sts = self.new_client(base, self.home_region(base), "sts")
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)[
            "Credentials"
        ]
        expiration = credentials.get("Expiration")
        expires = (
            expiration.timestamp()
            if hasattr(expiration, "timestamp")
            else time.time() + _ROLE_SESSION_SECONDS
        )
        # Share the base session's model loader: each service model is parsed once per scan,
        # not once per account.
        core = botocore.session.Session()
        core.register_component("data_loader", base._session.get_component("data_loader"))
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.home_region(base),
            botocore_session=core,
        )
        return session, expires


# ---------------------------------------------------------------------------------------------
# errors

_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "RequestExpired",
}
_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "Forbidden",
    "AllAccessDisabled",
}
_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
}


def error_code(error: BaseException) -> str | None:
    if isinstance(error, bce.ClientError):
        code = error.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def is_credentials_error(error: BaseException) -> bool:
    """Missing, expired or invalid credentials: a usage error, not an audit finding."""
    if isinstance(
        error,
        bce.NoCredentialsError
        | bce.PartialCredentialsError
        | bce.CredentialRetrievalError
        | bce.NoAuthTokenError
        | bce.TokenRetrievalError
        | bce.UnauthorizedSSOTokenError
        | bce.SSOTokenLoadError,
    ):
        return True
    return error_code(error) in _CREDENTIAL_CODES


def credentials_problem(error: BaseException) -> UsageError:
    code = error_code(error)
    detail = f"{code}: {_message(error)}" if code else str(error)
    return UsageError(
        f"AWS credentials missing or invalid ({detail}); configure them (aws configure, "
        "AWS_PROFILE / --aws-profile, aws sso login) and retry"
    )


def _message(error: BaseException) -> str:
    if isinstance(error, bce.ClientError):
        return str(error.response.get("Error", {}).get("Message") or error)
    return str(error)


def unreachable_message(error: BaseException) -> str:
    """``AWS endpoint URL could not be reached (why)`` for a connection failure."""
    kwargs = getattr(error, "kwargs", {})
    endpoint = kwargs.get("endpoint_url") or "?"
    if isinstance(error, bce.ConnectTimeoutError | bce.ReadTimeoutError):
        why: str = Msg("net.timed_out")
    else:
        why = unreachable_reason(str(kwargs.get("error") or error))
    return Msg("net.aws_unreachable", endpoint=endpoint, why=why)


def classify(error: BaseException) -> tuple[str, str]:
    """``(kind, message)`` of a failed call: access_denied, throttled, unreachable, api_error."""
    code = error_code(error)
    if isinstance(error, ReadOnlyViolation):
        return "read_only_guard", str(error)
    if code in _DENIED_CODES or (code or "").endswith("AccessDenied"):
        return "access_denied", Msg(
            "error.access_denied", code=str(code), message=Quote(_message(error))
        )
    if code in _THROTTLE_CODES:
        return "throttled", Msg(
            "error.aws_throttled", code=str(code), message=Quote(_message(error))
        )
    if isinstance(
        error,
        bce.EndpointConnectionError
        | bce.ConnectTimeoutError
        | bce.ReadTimeoutError
        | bce.ConnectionClosedError,
    ):
        return "unreachable", unreachable_message(error)
    if isinstance(error, bce.ClientError):
        return "api_error", f"{code}: {_message(error)}"
    if isinstance(error, bce.BotoCoreError):
        return "api_error", f"{type(error).__name__}: {error}"
    return "api_error", f"{type(error).__name__}: {error}"
