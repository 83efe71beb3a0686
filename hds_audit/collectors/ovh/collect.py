"""Collect live OVHcloud Public Cloud projects through the OVH API (the ``ovh`` SDK), read-only.

Each project the credentials can read is one :class:`ReadProject` task on the collector's
executor: its regions, then every listing of ``data/services.yaml``. A project that answers
403 is an ``errors`` entry with ``unknown`` findings while the others are audited; a listing
of one region that fails is an error on that region only. The account-wide listings (dedicated
servers) are one :class:`ReadAccount` task, unless the scan names its projects. The client
refuses any verb but GET before a request is sent (:class:`ReadOnlyClient`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import quote

from hds_audit.collectors.api_common import add_scope, api_error, encryption_unread, field_at
from hds_audit.collectors.base import Collection
from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.failure import NOT_READ, Failure, first_line, lost
from hds_audit.collectors.ovh.table import OvhTable, Service, ovh_table
from hds_audit.collectors.runs import ScopeProgress, runs_elsewhere, source_notes
from hds_audit.errors import UsageError
from hds_audit.executors.base import Environment, Executor, Task
from hds_audit.executors.local import LocalExecutor
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg, Quote
from hds_audit.model import Encryption, KeyOwner, Resource, Source, SourceKind

#: The credentials the SDK reads (environment or ovh.conf), for the missing-credentials line.
CREDENTIALS = "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY"

#: The scope the account-wide listings are reported under (``ovh:account``); OVH project ids
#: are 32 hexadecimal digits, so it names no project.
ACCOUNT = "account"


class ReadOnlyViolation(Exception):
    """A call other than GET was attempted: refused before it is sent."""


def read_only_client(endpoint_url: str | None = None, endpoint: str | None = None) -> Any:
    """An ``ovh.Client`` from the SDK's own configuration (``OVH_*``, ``ovh.conf``) that
    sends GET requests only; ``endpoint_url`` points it at another API root (a loopback one),
    ``endpoint`` names one of the SDK's (``ovh-eu``) when the configuration names none."""
    import ovh

    class ReadOnlyClient(ovh.Client):  # type: ignore[misc]
        def raw_call(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            if str(method).upper() != "GET":
                raise ReadOnlyViolation(f"refused {method} {path}: the audit is read-only")
            return super().raw_call(method, path, *args, **kwargs)

    client = ReadOnlyClient(endpoint="ovh-eu" if endpoint_url else endpoint)
    if endpoint_url:
        client._endpoint = endpoint_url.rstrip("/")  # the SDK takes named endpoints only
    return client


def has_credentials(client: Any) -> bool:
    """Whether the SDK found keys (application and consumer) or OAuth2 client credentials."""
    keys = (client._application_key, client._application_secret, client._consumer_key)
    return all(keys) or bool(getattr(client, "_oauth2", None))


def classify(error: BaseException) -> Failure:
    """An SDK exception as a failure a report can show."""
    if isinstance(error, ReadOnlyViolation):
        return Failure("read_only", str(error))
    name = type(error).__name__
    text = first_line(str(error)) or name
    if name in ("Forbidden", "NotGrantedCall", "NotCredential", "InvalidCredential", "InvalidKey"):
        return Failure("access_denied", Msg("error.access_denied", code=name, message=Quote(text)))
    if name == "ResourceNotFoundError":
        return Failure("not_found", Msg("error.not_found", code=name, message=Quote(text)))
    return Failure("http", f"{name}: {text}")


@dataclass(frozen=True, slots=True)
class OvhEnvSpec:
    """How a worker builds its client: the endpoint; credentials from its own environment."""

    endpoint_url: str | None = None

    def build(self) -> OvhEnvironment:
        return OvhEnvironment(read_only_client(self.endpoint_url), ovh_table())


@dataclass
class OvhEnvironment:
    client: Any
    table: OvhTable


@dataclass(frozen=True, slots=True)
class Listed:
    """What a task read: items per (service, region), failures per region, requests made."""

    items: list[tuple[str, str | None, dict[str, Any]]] | None = None
    failure: Failure | None = None
    region_failures: dict[str, Failure] = field(default_factory=dict)
    requests: int = 0
    projects: list[str] = field(default_factory=list)


def read_service(client: Any, service: Service, **where: str) -> tuple[list[dict[str, Any]], int]:
    """The objects of one listing and the requests made: the listing, then each object at
    ``service.detail`` when the listing returns ids only."""
    found = client.get(service.path.format(**where)) or ()
    if not service.detail:
        return [dict(i) for i in found if i], 1
    objects = [client.get(service.detail.format(**where, id=quote(str(i), safe=""))) for i in found]
    return [dict(o) for o in objects if o], 1 + len(objects)


@dataclass(frozen=True, slots=True)
class FindProjects:
    """The Public Cloud projects the credentials can read."""

    @property
    def key(self) -> str:
        return "ovh/projects"

    def run(self, env: OvhEnvironment) -> Listed:
        try:
            found = env.client.get(env.table.projects)
        except Exception as error:  # reported on the scope, never dropped
            return Listed(None, classify(error), requests=1)
        return Listed([], None, requests=1, projects=[str(p) for p in found or ()])

    def lost(self, reason: str) -> Listed:
        return Listed(None, lost(reason))


@dataclass(frozen=True, slots=True)
class ReadProject:
    """Every listing of one project, in every region it has."""

    project: str

    @property
    def key(self) -> str:
        return f"ovh/{self.project}"

    def run(self, env: OvhEnvironment) -> Listed:
        client, table = env.client, env.table
        requests = 1
        try:
            regions = [str(r) for r in client.get(table.regions.format(project=self.project))]
        except Exception as error:  # the project is denied or unreadable: all of it unknown
            return Listed(None, classify(error), requests=requests)
        items: list[tuple[str, str | None, dict[str, Any]]] = []
        failed: dict[str, Failure] = {}
        for service in table.services:
            for region in regions if service.per_region else [None]:
                try:
                    found, calls = read_service(
                        client, service, project=self.project, region=str(region)
                    )
                except Exception as error:
                    requests += 1
                    failed[region or service.name] = classify(error)
                    continue
                requests += calls
                items.extend((service.name, region, i) for i in found)
        return Listed(items, None, failed, requests)

    def lost(self, reason: str) -> Listed:
        return Listed(None, lost(reason))


@dataclass(frozen=True, slots=True)
class ReadAccount:
    """The account-wide listings (dedicated servers), once per scan."""

    @property
    def key(self) -> str:
        return f"ovh/{ACCOUNT}"

    def run(self, env: OvhEnvironment) -> Listed:
        items: list[tuple[str, str | None, dict[str, Any]]] = []
        failed: dict[str, Failure] = {}
        requests = 0
        for service in env.table.account_services:
            try:
                found, calls = read_service(env.client, service)
            except Exception as error:  # reported on the listing, never dropped
                requests += 1
                failed[service.name] = classify(error)
                continue
            requests += calls
            items.extend((service.name, None, i) for i in found)
        return Listed(items, None, failed, requests)

    def lost(self, reason: str) -> Listed:
        return Listed(None, lost(reason))


def normalise(
    service: Service, region: str | None, item: dict[str, Any], geo: GeoTables, source: Source
) -> Resource:
    """One API object as a :class:`Resource` of provider ``ovh``."""
    place = field_at(item, service.region) if service.region else region
    ident = str(item.get(service.id) or "")
    draft = ResourceDraft(
        id=f"ovh:{source.account}/{service.name}/{ident}",
        type=service.type,
        kind=service.kind,
        location=geo.locate("ovh", str(place) if place else None),
        name=str(item.get("name") or item.get("description") or "") or None,
        attributes={k: v for k, v in item.items() if isinstance(v, str | int | bool)},
    )
    if not place:
        draft.unknowns["region"] = Msg("collect.no_region")
    if service.encryption_field and field_at(item, service.encryption_field) is not None:
        value = str(field_at(item, service.encryption_field)).lower()
        encrypted = value in service.encrypted_values
        draft.encryption = Encryption(encrypted, KeyOwner.PROVIDER if encrypted else None)
        if not encrypted:
            draft.unknowns["encryption.key_owner"] = Msg("collect.not_encrypted")
    elif service.at_rest_unknown:
        encryption_unread(draft, Msg(service.at_rest_unknown))
    if service.backups:
        for backup in field_at(item, service.backups) or ():
            where = geo.locate("ovh", str(backup))
            if where.region != draft.location.region or where.region is None:
                draft.add_replica("backup", where, str(backup))
    return draft.resource("ovh", source)


@dataclass
class OvhCollector:
    """Every Public Cloud project the credentials can read (or those given) and, unless projects
    are given, the account's dedicated servers, as a Collector."""

    projects: tuple[str, ...] = ()
    endpoint_url: str | None = None
    client: Any = None
    max_workers: int = 16
    executor: Executor | None = None
    progress: TextIO | None = None
    name: str = "ovh"

    def preflight(self) -> None:
        """Build the client now: what is missing (credentials, endpoint) is one line, exit 2."""
        from ovh.exceptions import InvalidConfiguration, InvalidRegion

        missing: list[str] = []
        endpoint: str | None = None
        while self.client is None:
            try:
                self.client = read_only_client(self.endpoint_url, endpoint)
            except InvalidRegion:
                missing.append("no API endpoint (set OVH_ENDPOINT: ovh-eu, ovh-ca, ovh-us)")
                endpoint = "ovh-eu"  # to tell whether credentials are missing too
            except InvalidConfiguration:
                break
        if self.client is None or not has_credentials(self.client):
            missing.append(
                f"no API credentials (set {CREDENTIALS}, or OVH_CLIENT_ID and "
                "OVH_CLIENT_SECRET, or an ovh.conf)"
            )
        if missing:
            raise UsageError("OVHcloud: " + "; ".join(missing))

    def collect(self, geo: GeoTables) -> Collection:
        spec = OvhEnvSpec(self.endpoint_url)
        remote = runs_elsewhere(self.executor)
        env = Environment(spec, None if remote else OvhEnvironment(self.client, ovh_table()))
        executor = self.executor or LocalExecutor(self.max_workers)
        found: dict[str, Listed] = {}
        discovery: Listed | None = None
        first: list[Task] = [ReadProject(p) for p in self.projects] or [FindProjects()]
        if not self.projects and ovh_table().account_services:
            first.append(ReadAccount())

        def follow(task: Task, result: Any) -> Iterable[Task]:
            if isinstance(task, FindProjects) and isinstance(result, Listed):
                return [ReadProject(p) for p in result.projects]
            return []

        for done in executor.run(env, first, follow):
            if isinstance(done.task, FindProjects):
                discovery = done.result
            elif isinstance(done.task, ReadProject | ReadAccount):
                scope = done.task.project if isinstance(done.task, ReadProject) else ACCOUNT
                found[scope] = done.result
                ScopeProgress(self.progress).read(
                    f"ovh {scope}", done.result.items, done.result.failure
                )
        return self._collection(found, discovery, geo)

    def _collection(
        self, found: dict[str, Listed], discovery: Listed | None, geo: GeoTables
    ) -> Collection:
        result = Collection()
        notes = source_notes(None, None, self.endpoint_url)
        if discovery is not None and discovery.items is None:
            failure = discovery.failure or NOT_READ
            result.errors.append(api_error("ovh", "projects", failure, SourceKind.OVH_API))
        table = ovh_table()
        services = {s.name: s for s in (*table.services, *table.account_services)}
        for project in sorted(found):
            listed = found[project]
            label = f"ovh:{project}"
            if listed.items is None:
                result.errors.append(
                    api_error(
                        "ovh",
                        project,
                        listed.failure or Failure("internal", ""),
                        SourceKind.OVH_API,
                    )
                )
                add_scope(result, label, SourceKind.OVH_API, [], notes)
                continue
            for where, failure in sorted(listed.region_failures.items()):
                result.errors.append(
                    api_error("ovh", f"{project}/{where}", failure, SourceKind.OVH_API)
                )
            source = Source(kind=SourceKind.OVH_API, account=project)
            resources = [
                normalise(services[name], region, item, geo, source)
                for name, region, item in listed.items
            ]
            add_scope(result, label, SourceKind.OVH_API, resources, notes)
        return result
