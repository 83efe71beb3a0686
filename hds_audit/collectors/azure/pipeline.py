"""SDK clients built for auditing: read-only pipeline, injected endpoint, credential, TLS.

Every client is the real azure-mgmt client with its whole HTTP pipeline (retry policy that
honours ``Retry-After``, ARM authentication...). One policy is added in the slot the SDK
keeps for custom hooks, after retry and authentication, so it sees every request actually
sent, including those the SDK makes on its own (the automatic resource-provider
registration POST): anything but GET is refused before it leaves the process.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from hds_audit.collectors.azure.clouds import AzureCloud
from hds_audit.collectors.azure.table import ClientSpec

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_REGISTER = re.compile(r"/subscriptions/[^/]+/providers/([^/?]+)/register", re.IGNORECASE)


class ReadOnlyViolation(Exception):
    """A request other than a read was about to be sent; it was not."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"hds-audit is read-only: refused {method} {url.split('?', 1)[0]}")
        self.method = method
        self.url = url

    @property
    def registering(self) -> str | None:
        """The namespace the SDK tried to register (MissingSubscriptionRegistration)."""
        match = _REGISTER.search(self.url)
        return match.group(1) if match and self.method == "POST" else None


class Tally:
    """Requests sent on behalf of one task, retries included (thread-safe)."""

    __slots__ = ("_lock", "count")

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


#: The tally of the call this thread is making (set around each call by the environment).
COUNTING: ContextVar[Tally | None] = ContextVar("hds_azure_tally", default=None)


class ReadOnlyPolicy(SansIOHTTPPolicy[Any, Any]):
    """Refuse every method but GET (and POSTs to the documented list calls, if any)."""

    def __init__(self, allowed_posts: Iterable[str] = ()) -> None:
        super().__init__()
        self.allowed_posts = tuple(re.compile(p) for p in allowed_posts)
        self.requests = 0  # every request sent, retries included (the benchmark reports it)
        self._lock = threading.Lock()

    def allows(self, method: str, url: str) -> bool:
        method = method.upper()
        if method == "GET":
            return True
        path = url.split("?", 1)[0]
        return method == "POST" and any(p.search(path) for p in self.allowed_posts)

    def on_request(self, request: PipelineRequest[Any]) -> None:
        http = request.http_request
        if not self.allows(http.method, http.url):
            raise ReadOnlyViolation(http.method, http.url)
        with self._lock:
            self.requests += 1
        tally = COUNTING.get()
        if tally is not None:
            tally.add()


@dataclass
class ClientFactory:
    """Builds (once) and hands out SDK clients for a cloud, credential and subscription.

    ``connection_verify`` is passed to the transport (a CA bundle path in tests); one
    ``requests`` session with a pool as large as the worker count is shared by all clients.
    """

    credential: TokenCredential
    cloud: AzureCloud
    pool_size: int = 16
    connection_verify: bool | str = True
    retry_total: int = 6
    retry_backoff_max: float = 30.0
    read_only: ReadOnlyPolicy = field(default_factory=ReadOnlyPolicy)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _session: Any = field(default=None, repr=False)

    def _transport(self) -> Any:
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        if self._session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=4, pool_maxsize=max(self.pool_size, 4)
            )
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._session = session
        return RequestsTransport(
            session=self._session, session_owner=False, connection_verify=self.connection_verify
        )

    def client(self, spec: ClientSpec, subscription: str | None = None) -> Any:
        key = (spec.name, subscription or "")
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                cls = getattr(importlib.import_module(spec.module), spec.cls)
                args: list[Any] = [self.credential]
                if spec.subscription:
                    args.append(subscription)
                client = cls(
                    *args,
                    base_url=self.cloud.base_url,
                    credential_scopes=[self.cloud.credential_scope],
                    transport=self._transport(),
                    custom_hook_policy=self.read_only,
                    retry_total=self.retry_total,
                    retry_backoff_max=self.retry_backoff_max,
                )
                self._clients[key] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            if self._session is not None:
                self._session.close()
                self._session = None


def operation(client: Any, dotted: str) -> Any:
    """``storage_accounts.list`` -> the bound SDK method."""
    target = client
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def rest_json(model: Any) -> dict[str, Any]:
    """An SDK model as the ARM REST JSON it came from (camelCase keys, ``properties``)."""
    if isinstance(model, dict):
        return model
    as_dict = getattr(model, "as_dict", None)
    serialize = getattr(model, "serialize", None)
    if serialize is not None and not hasattr(model, "keys"):
        # msrest-style models (azure-mgmt-mysqlflexibleservers): serialize() is the REST shape.
        result: dict[str, Any] = serialize(keep_readonly=True)
        return result
    if as_dict is not None:
        mapped: dict[str, Any] = as_dict()
        return mapped
    raise TypeError(f"cannot read {type(model).__name__} as ARM JSON")
