"""What a process needs to run Scaleway collection tasks, built once per process.

Credentials are read the way Scaleway's SDK reads them: ``SCW_ACCESS_KEY`` and
``SCW_SECRET_KEY`` (``SCW_DEFAULT_PROJECT_ID``, ``SCW_DEFAULT_ORGANIZATION_ID``,
``SCW_API_URL``) over the active profile of the Scaleway configuration file
(``~/.config/scw/config.yaml``, ``SCW_CONFIG_PATH``, ``SCW_PROFILE``). The
:class:`ScalewayEnvSpec` that travels to workers holds the endpoints and the profile name,
never a key: each worker reads its own environment.

The :class:`ScalewayEnvironment` holds one guarded SDK API object per service: only the list
methods of ``data/services.yaml`` are reachable, and the SDK's request method refuses any HTTP
method but GET before a request is built. S3 clients (boto3) refuse any operation the table
does not name, and any HTTP method but GET or HEAD, before sending.

No Scaleway library import at module level: it is loaded when an environment is built.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hds_audit.collectors.scaleway.table import ScalewayTable, scaleway_table
from hds_audit.collectors.tally import Tally
from hds_audit.errors import UsageError

DEFAULT_API_URL = "https://api.scaleway.com"
_HOW = (
    "set SCW_ACCESS_KEY and SCW_SECRET_KEY, or run `scw init` to write a profile in "
    "~/.config/scw/config.yaml"
)


class ReadOnlyViolation(RuntimeError):
    """A call hds-audit does not make: refused before any request is sent."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and the defaults of the profile it came from (never printed)."""

    access_key: str
    secret_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    project_id: str | None = None
    organization_id: str | None = None


def load_credentials(profile_name: str | None = None) -> Credentials:
    """The API key as the Scaleway SDK finds it; one-line UsageError saying what is missing."""
    from scaleway_core.profile import Profile

    name = profile_name or os.environ.get("SCW_PROFILE") or "default"
    path = Profile.get_default_config_file_path()
    try:
        if Path(path).exists():
            profile = Profile.from_env(force_none=True)
            profile.merge(Profile.from_config_file(path, name))
        elif profile_name:
            raise UsageError(f"Scaleway: profile {profile_name!r} asked for but {path} is missing")
        else:
            profile = Profile.from_env()
    except UsageError:
        raise
    except Exception as error:  # a YAML or profile error of the config file: one line
        raise UsageError(f"Scaleway: {path}: {str(error).splitlines()[0][:200]}") from None
    missing = [
        variable
        for variable, value in (
            ("SCW_ACCESS_KEY", profile.access_key),
            ("SCW_SECRET_KEY", profile.secret_key),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"Scaleway: no credentials ({' and '.join(missing)} not set); {_HOW}")
    from scaleway_core.validations.string_validation import is_access_key, is_secret_key

    assert profile.access_key is not None and profile.secret_key is not None
    if not is_access_key(profile.access_key):
        raise UsageError(
            "Scaleway: SCW_ACCESS_KEY is not an access key (SCW followed by 17 characters)"
        )
    if not is_secret_key(profile.secret_key):
        raise UsageError("Scaleway: SCW_SECRET_KEY is not a secret key (a UUID)")
    return Credentials(
        access_key=profile.access_key,
        secret_key=profile.secret_key,
        api_url=(profile.api_url or DEFAULT_API_URL).rstrip("/"),
        project_id=profile.default_project_id or None,
        organization_id=profile.default_organization_id or None,
    )


@dataclass(frozen=True, slots=True)
class ScalewayEnvSpec:
    """How a worker builds its environment (hashable; nothing secret)."""

    api_url: str | None = None
    s3_endpoint_url: str | None = None
    profile: str | None = None

    def build(self) -> ScalewayEnvironment:
        return ScalewayEnvironment(self, load_credentials(self.profile))


class ScalewayEnvironment:
    """Guarded SDK API objects and S3 clients, shared by this process's tasks."""

    def __init__(
        self, spec: ScalewayEnvSpec, credentials: Credentials, table: ScalewayTable | None = None
    ) -> None:
        self.spec = spec
        self.table = table or scaleway_table()
        self.tally = Tally()
        self.credentials = credentials
        self.api_url = spec.api_url or credentials.api_url
        self._apis: dict[str, ReadOnlyApi] = {}
        self._s3: dict[str, Any] = {}
        self._lock = threading.Lock()

    def api(self, name: str) -> ReadOnlyApi:
        """The guarded SDK API object ``name`` of the table (``instance``, ``rdb`` ...)."""
        with self._lock:
            cached = self._apis.get(name)
            if cached is None:
                cached = self._apis[name] = self._build_api(name)
            return cached

    def _build_api(self, name: str) -> ReadOnlyApi:
        from scaleway_core.client import Client

        module, class_name = self.table.apis[name]
        api_class = getattr(importlib.import_module(module), class_name)
        client = Client(
            access_key=self.credentials.access_key,
            secret_key=self.credentials.secret_key,
            api_url=self.api_url,
        )
        guarded = _get_only(api_class, self.tally)
        return ReadOnlyApi(guarded(client), self.table.methods(name))

    def s3(self, region: str) -> Any:
        """The guarded boto3 S3 client of a region's Object Storage endpoint."""
        with self._lock:
            cached = self._s3.get(region)
            if cached is None:
                cached = self._s3[region] = self._build_s3(region)
            return cached

    def _build_s3(self, region: str) -> Any:
        import boto3
        from botocore.config import Config

        endpoint = self.spec.s3_endpoint_url or self.table.buckets.endpoint.format(region=region)
        client = boto3.session.Session().client(
            "s3",
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
        allowed = self.table.buckets.operations
        tally = self.tally

        def before_call(model: Any, **_: Any) -> None:
            if model.name not in allowed:
                raise ReadOnlyViolation(
                    f"s3:{model.name} refused: hds-audit only calls {', '.join(sorted(allowed))}"
                )

        def before_send(request: Any, **_: Any) -> None:
            if str(request.method).upper() not in ("GET", "HEAD"):
                raise ReadOnlyViolation(f"HTTP {request.method} refused: hds-audit only reads")
            tally.add()

        client.meta.events.register("before-call.s3", before_call)
        client.meta.events.register("before-send.s3", before_send)
        return client

    def close(self) -> None:
        for client in self._s3.values():
            client.close()


def _get_only(api_class: type, tally: Tally) -> type:
    """A subclass of an SDK API class whose request method refuses any HTTP method but GET
    (every SDK call goes through ``API._request``) and counts what it sends."""

    class GetOnly(api_class):  # type: ignore[misc]
        def _request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            if str(method).upper() != "GET":
                raise ReadOnlyViolation(f"HTTP {method} {path} refused: hds-audit only reads")
            tally.add()
            return super()._request(method, path, *args, **kwargs)

    GetOnly.__name__ = f"GetOnly{api_class.__name__}"
    return GetOnly


class ReadOnlyApi:
    """An SDK API object with only the table's list methods reachable."""

    def __init__(self, api: Any, allowed: frozenset[str]) -> None:
        self._api = api
        self._allowed = allowed

    def __getattr__(self, name: str) -> Any:
        if name not in self._allowed:
            raise ReadOnlyViolation(
                f"{name} refused: hds-audit only calls {', '.join(sorted(self._allowed))}"
            )
        return getattr(self._api, name)
