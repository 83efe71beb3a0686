"""What a process needs to run Azure collection tasks, built once per process from a spec.

The :class:`AzureEnvSpec` travels to every worker: endpoints, TLS verification, retry and
pool bounds, and *how* to get a credential there -- never a token or a secret. ``credential``
is ``default`` (``DefaultAzureCredential`` for the cloud: the worker's environment, workload
or managed identity, CLI login) or ``import:module:callable``, a zero-argument factory the
worker imports and calls. The :class:`AzureEnvironment` built from it holds the SDK clients,
the detail-call pool and the call bounds every task of the process shares.

No Azure SDK import at module level: the SDK is loaded when an environment is built.
"""

from __future__ import annotations

import importlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.azure.clouds import AzureCloud, default_credential
from hds_audit.collectors.azure.table import AzureTable, azure_table
from hds_audit.errors import UsageError
from hds_audit.geo import GeoTables

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from hds_audit.collectors.azure.pipeline import Tally

DEFAULT_CREDENTIAL = "default"
_IMPORT = "import:"
_REGISTRATION_LOGGER = "azure.mgmt.core.policies._base"


def check_credential_spec(text: str, where: str = "Azure credential") -> None:
    """``default`` or ``import:module:callable``; one-line UsageError otherwise."""
    if text == DEFAULT_CREDENTIAL:
        return
    module, _, name = text.removeprefix(_IMPORT).partition(":")
    if not text.startswith(_IMPORT) or not module or not name.isidentifier():
        raise UsageError(
            f"{where}: {text!r} is not a credential source; use 'default' or "
            "'import:module:callable' (a zero-argument factory importable on every worker)"
        )


def credential_from(text: str, cloud: AzureCloud) -> TokenCredential:
    """The credential ``text`` names, obtained in this process (see the module notes)."""
    check_credential_spec(text)
    if text == DEFAULT_CREDENTIAL:
        return default_credential(cloud)
    module, _, name = text.removeprefix(_IMPORT).partition(":")
    factory = getattr(importlib.import_module(module), name)
    credential: TokenCredential = factory()
    return credential


@dataclass(frozen=True, slots=True)
class AzureEnvSpec:
    """How a worker builds its Azure environment: picklable, hashable, nothing secret.

    ``max_workers`` bounds the calls in flight in one process (and sizes its detail pool and
    HTTP connection pool); ``per_subscription`` and ``per_service`` bound them per
    subscription and per (subscription, service) task, in that process. ``geo`` is ``None``
    for the tables shipped in the package (each worker loads its own).
    """

    cloud: AzureCloud
    connection_verify: bool | str = True
    retry_total: int = 6
    max_workers: int = 16
    per_subscription: int | None = None
    per_service: int | None = 8
    credential: str = DEFAULT_CREDENTIAL
    geo: GeoTables | None = None

    def build(self) -> AzureEnvironment:
        return AzureEnvironment(self, credential_from(self.credential, self.cloud))


class _NoRegistrationNotice(logging.Filter):
    """azure-mgmt-core announces it is registering a resource provider before it tries; the
    read-only policy refuses that request, so the notice would be false: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "registering for you" not in message and "Registration failed" not in message


class AzureEnvironment:
    """One process's clients, detail pool and call bounds, shared by every task it runs.

    A collector running here builds one with what it was given (its credential, table and
    geographic tables); a worker builds one from the spec alone.
    """

    def __init__(
        self,
        spec: AzureEnvSpec,
        credential: TokenCredential,
        table: AzureTable | None = None,
        geo: GeoTables | None = None,
    ) -> None:
        from hds_audit.collectors.azure.pipeline import ClientFactory

        self.spec = spec
        self.table = table or azure_table()
        self.geo = geo or spec.geo or GeoTables.default()
        self.factory = ClientFactory(
            credential=credential,
            cloud=spec.cloud,
            pool_size=spec.max_workers,
            connection_verify=spec.connection_verify,
            retry_total=spec.retry_total,
        )
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._gates: dict[str, threading.BoundedSemaphore] = {}
        self._calls = threading.BoundedSemaphore(max(1, spec.max_workers))
        self._notice = _NoRegistrationNotice()
        logging.getLogger(_REGISTRATION_LOGGER).addFilter(self._notice)

    @property
    def details_pool(self) -> ThreadPoolExecutor:
        """The detail calls of every service task of this process."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max(1, self.spec.max_workers), thread_name_prefix="hds-azure-detail"
                )
            return self._pool

    def _gate(self, subscription: str | None) -> AbstractContextManager[Any]:
        bound = self.spec.per_subscription
        if bound is None or subscription is None:
            return nullcontext()
        with self._lock:
            gate = self._gates.get(subscription)
            if gate is None:
                gate = self._gates[subscription] = threading.BoundedSemaphore(max(1, bound))
            return gate

    def call(
        self, tally: Tally, client: str, dotted: str, subscription: str | None, *args: Any
    ) -> list[dict[str, Any]]:
        """One SDK call (all its pages) as ARM REST JSON, within the bounds; raises SDK errors.

        The bounds are held for this one call only (subscription first, then process), so
        no call ever waits on another task: no deadlock, whatever the executor.
        """
        from hds_audit.collectors.azure.pipeline import COUNTING, operation, rest_json

        spec = self.table.clients[client]
        with self._gate(subscription), self._calls:
            token = COUNTING.set(tally)
            try:
                method = operation(self.factory.client(spec, subscription), dotted)
                result = method(*args)
                if hasattr(result, "by_page") or (
                    hasattr(result, "__iter__") and not hasattr(result, "keys")
                ):
                    return [rest_json(item) for item in result]
                return [rest_json(result)]
            finally:
                COUNTING.reset(token)

    def close(self) -> None:
        """Release the pool, clients and connections (an environment built for one run)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self.factory.close()
        logging.getLogger(_REGISTRATION_LOGGER).removeFilter(self._notice)
