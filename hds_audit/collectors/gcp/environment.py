"""What a process needs to run Google Cloud collection tasks, built once per process.

The :class:`GcpEnvSpec` travels to every worker: the endpoint, *how* to get credentials
(``adc``: Application Default Credentials of the worker; ``anonymous``: only together with an
endpoint URL, for a loopback or emulated API) and the page size -- never a token. The
:class:`GcpEnvironment` built from it holds one Cloud Asset client (REST transport) behind the
read-only guard: only the calls of ``data/services.yaml`` are let through, any other method is
refused before a request is built, and the transport refuses any HTTP method but GET.

No Google library import at module level: it is loaded when an environment is built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from hds_audit.collectors.gcp.table import GcpTable, gcp_table
from hds_audit.collectors.tally import Tally
from hds_audit.errors import UsageError

ADC = "adc"
ANONYMOUS = "anonymous"
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
NO_CREDENTIALS = (
    "Google Cloud: no credentials found; log in with `gcloud auth application-default login` "
    "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
)


class ReadOnlyViolation(RuntimeError):
    """A call hds-audit does not make: refused before any request is sent."""


def default_credentials() -> tuple[Any, str | None]:
    """Application Default Credentials and their project; one-line UsageError when none."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, project = google.auth.default(scopes=_SCOPES)
    except DefaultCredentialsError:
        raise UsageError(NO_CREDENTIALS) from None
    return credentials, project


def credentials_for(spec: str, endpoint_url: str | None) -> Any:
    """The credentials ``spec`` names, obtained in this process."""
    if spec == ANONYMOUS:
        if endpoint_url is None:
            raise UsageError("Google Cloud: anonymous credentials need --gcp-endpoint-url")
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    return default_credentials()[0]


@dataclass(frozen=True, slots=True)
class GcpEnvSpec:
    """How a worker builds its environment (hashable; nothing secret)."""

    endpoint_url: str | None = None
    credential: str = ADC

    def build(self) -> GcpEnvironment:
        return GcpEnvironment(self, credentials_for(self.credential, self.endpoint_url))


class GcpEnvironment:
    """One guarded Cloud Asset client per process, shared by its tasks (thread-safe)."""

    def __init__(self, spec: GcpEnvSpec, credentials: Any, table: GcpTable | None = None) -> None:
        self.spec = spec
        self.table = table or gcp_table()
        self.tally = Tally()
        self.client = ReadOnlyClient(self._client(credentials), self.table, self.tally)

    def _client(self, credentials: Any) -> Any:
        module = importlib.import_module(self.table.client_module)
        client_class = getattr(module, self.table.client_class)
        transport_module = importlib.import_module(
            f"{client_class.__module__.rsplit('.', 1)[0]}.transports.rest"
        )
        transport_class = getattr(transport_module, f"{self.table.client_class[:-6]}RestTransport")
        interceptor_class = getattr(
            transport_module, f"{self.table.client_class[:-6]}RestInterceptor"
        )
        transport = transport_class(
            host=self.spec.endpoint_url or "cloudasset.googleapis.com",
            credentials=credentials,
            interceptor=_guard_interceptor(interceptor_class, self.table, self.tally)(),
        )
        _get_only(transport._session)
        return client_class(transport=transport)

    def close(self) -> None:
        self.client.close()


def _get_only(session: Any) -> None:
    """Make the transport's HTTP session refuse any method but GET, before sending."""
    send = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if str(method).upper() != "GET":
            raise ReadOnlyViolation(f"HTTP {method} refused: hds-audit only reads")
        return send(method, url, *args, **kwargs)

    session.request = request


def _guard_interceptor(base: type, table: GcpTable, tally: Tally) -> type:
    """The transport's interceptor: every ``pre_<method>`` hook refuses a method the table
    does not allow (before the request is built) and counts the allowed ones."""
    allowed = frozenset(f"pre_{name}" for name in table.calls)

    class Guard(base):  # type: ignore[misc]
        def __getattribute__(self, name: str) -> Any:
            if name.startswith("pre_"):
                if name not in allowed:
                    raise ReadOnlyViolation(
                        f"{name[4:]} refused: hds-audit only calls {', '.join(sorted(table.calls))}"
                    )

                def count(request: Any, metadata: Any) -> tuple[Any, Any]:
                    tally.add()
                    return request, metadata

                return count
            return super().__getattribute__(name)

    return Guard


class ReadOnlyClient:
    """The client, with only the table's calls reachable."""

    def __init__(self, client: Any, table: GcpTable, tally: Tally) -> None:
        self._client = client
        self._allowed = frozenset(table.calls)
        self.tally = tally

    def __getattr__(self, name: str) -> Any:
        if name not in self._allowed:
            raise ReadOnlyViolation(
                f"{name} refused: hds-audit only calls {', '.join(sorted(self._allowed))}"
            )
        return getattr(self._client, name)

    def close(self) -> None:
        self._client.transport.close()
