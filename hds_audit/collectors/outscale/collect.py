"""Collect live 3DS Outscale accounts through the OSC API (``osc-sdk-python``), read-only.

Outscale access keys belong to one region's account: each region given (default: the
profile's, ``OSC_REGION``) is one :class:`ReadRegion` task on the collector's executor, reading
every action of ``data/services.yaml`` page by page. A region that refuses the keys is an
``errors`` entry with ``unknown`` findings while the others are audited. The gateway refuses
any action but ``Read*`` before a request is sent.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any, TextIO

from hds_audit.collectors.api_common import add_scope, api_error, encryption_unread, field_at
from hds_audit.collectors.base import Collection
from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.failure import NOT_READ, Failure, first_line, lost
from hds_audit.collectors.runs import runs_elsewhere, source_notes
from hds_audit.datafile import package_yaml
from hds_audit.errors import UsageError
from hds_audit.executors.base import Environment, Executor
from hds_audit.executors.local import LocalExecutor
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg, Quote
from hds_audit.model import Encryption, KeyOwner, Kind, Resource, Source, SourceKind


class ReadOnlyViolation(Exception):
    """An action other than Read* was attempted: refused before it is sent."""


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    action: str
    key: str
    type: str
    kind: Kind
    id: str
    region: str | None = None
    at_rest_unknown: str | None = None  # a message catalogue key
    filters: tuple[tuple[str, Any], ...] = ()  # the request's Filters


def _service(e: Any) -> Service:
    return Service(
        name=str(e["name"]),
        action=str(e["action"]),
        key=str(e["key"]),
        type=str(e["type"]),
        kind=Kind(e["kind"]),
        id=str(e["id"]),
        region=e.get("region"),
        at_rest_unknown=e.get("at_rest_unknown"),
        filters=tuple((e.get("filters") or {}).items()),
    )


@cache
def outscale_services() -> tuple[int, tuple[Service, ...]]:
    """(page size, OSC API services) from ``data/services.yaml``."""
    data = package_yaml("hds_audit.collectors.outscale", "data/services.yaml")
    return int(data.get("page_size", 500)), tuple(_service(e) for e in data["services"])


@cache
def oos_service() -> Service:
    """How OOS buckets are shown (``oos:`` of ``data/services.yaml``)."""
    return _service(package_yaml("hds_audit.collectors.outscale", "data/services.yaml")["oos"])


@cache
def _gateway_class() -> Any:
    """``osc_sdk_python.Gateway`` parsing its API description once per process, not once per
    gateway (a few seconds each): one gateway is built per region read."""
    from osc_sdk_python import Gateway

    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    class CachedGateway(Gateway):  # type: ignore[misc]
        def _load_gateway_structure(self, spec: str) -> None:
            with lock:
                if "structure" not in parsed:
                    parsed["structure"] = self._convert(spec)
                    parsed["versions"] = (
                        getattr(self, "api_version", None),
                        getattr(self, "endpoint_api_version", None),
                    )
            self.gateway_structure = parsed["structure"]
            self.api_version, self.endpoint_api_version = parsed["versions"]

        def _load_errors(self) -> None:
            with lock:
                if "errors" not in parsed:
                    super()._load_errors()
                    parsed["errors"] = getattr(self, "gateway_errors", None)
            self.gateway_errors = parsed["errors"]

    return CachedGateway


def eim_policy_json() -> str:
    """The narrowest Outscale EIM policy ``scan --outscale`` needs: the Read actions it calls."""
    import json

    actions = [f"api:{s.action}" for s in outscale_services()[1]]
    statement = {"Effect": "Allow", "Action": actions, "Resource": ["*"]}
    return json.dumps({"Statement": [statement]}, indent=2)


def read_only_gateway(region: str, endpoint_url: str | None = None) -> Any:
    """An ``osc_sdk_python.Gateway`` for ``region`` (keys from ``OSC_*`` or the SDK's config
    file) that sends ``Read*`` actions only; ``endpoint_url`` (``{region}`` is replaced) points
    it at another API root."""
    from osc_sdk_python.credentials import Endpoint

    kwargs: dict[str, Any] = {"region": region, "max_retries": 2}
    if endpoint_url:
        kwargs["endpoints"] = Endpoint(api=endpoint_url.replace("{region}", region).rstrip("/"))
    gateway = _gateway_class()(**kwargs)
    send = gateway.call.api

    def guarded(action: str, service: str = "api", **data: Any) -> Any:
        if not action.startswith("Read"):
            raise ReadOnlyViolation(f"refused {action}: the audit is read-only")
        return send(action, service=service, **data)

    gateway.call.api = guarded
    return gateway


def classify(error: BaseException) -> Failure:
    """An SDK or HTTP exception as a failure a report can show."""
    if isinstance(error, ReadOnlyViolation):
        return Failure("read_only", str(error))
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    text = first_line(str(error)) or type(error).__name__
    if status in (401, 403):
        code = f"HTTP {status}"
        return Failure("access_denied", Msg("error.access_denied", code=code, message=Quote(text)))
    return Failure("http", f"{type(error).__name__}: {text}")


@dataclass(frozen=True, slots=True)
class OutscaleEnvSpec:
    """How a worker builds its gateways: the endpoints; keys from its own environment."""

    endpoint_url: str | None = None
    oos_endpoint_url: str | None = None

    def build(self) -> OutscaleEnvironment:
        return OutscaleEnvironment(self.endpoint_url, self.oos_endpoint_url)


@dataclass
class OutscaleEnvironment:
    endpoint_url: str | None = None
    oos_endpoint_url: str | None = None

    def gateway(self, region: str) -> Any:
        return read_only_gateway(region, self.endpoint_url)

    def oos_url(self, region: str) -> str | None:
        """The OOS (S3-compatible) endpoint of ``region``: the one given, else the public one
        unless the API itself is another (a loopback API has no public OOS)."""
        if self.oos_endpoint_url:
            return self.oos_endpoint_url.replace("{region}", region)
        return None if self.endpoint_url else f"https://oos.{region}.outscale.com"


def read_only_s3(url: str, region: str) -> Any:
    """A boto3 S3 client on an OOS endpoint (keys ``OSC_ACCESS_KEY`` / ``OSC_SECRET_KEY``) that
    refuses any operation but List / Get / Head before it is sent."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=os.environ.get("OSC_ACCESS_KEY"),
        aws_secret_access_key=os.environ.get("OSC_SECRET_KEY"),
    )

    def guard(model: Any, **_: Any) -> None:
        if not model.name.startswith(("List", "Get", "Head")):
            raise ReadOnlyViolation(f"refused {model.name}: the audit is read-only")

    client.meta.events.register("before-call.s3", guard)
    return client


def read_buckets(url: str, region: str) -> list[dict[str, Any]]:
    """The account's OOS buckets, each with its default server-side encryption algorithm or
    None (no default encryption configuration)."""
    client = read_only_s3(url, region)
    buckets = []
    for bucket in client.list_buckets().get("Buckets") or ():
        name = str(bucket["Name"])
        try:
            rules = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
            default = rules[0]["ApplyServerSideEncryptionByDefault"] if rules else {}
            algorithm = default.get("SSEAlgorithm")
        except client.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            algorithm = None
        buckets.append({"Name": name, "SSEAlgorithm": algorithm})
    return buckets


@dataclass(frozen=True, slots=True)
class Read:
    """What one region returned: items per service (``None``: the region failed)."""

    items: list[tuple[str, dict[str, Any]]] | None = None
    failure: Failure | None = None
    requests: int = 0
    oos_failure: Failure | None = None  # the API was read, the buckets were not


@dataclass(frozen=True, slots=True)
class ReadRegion:
    """Every service of one region, page by page."""

    region: str

    @property
    def key(self) -> str:
        return f"outscale/{self.region}"

    def run(self, env: OutscaleEnvironment) -> Read:
        page_size, services = outscale_services()
        requests = 0
        items: list[tuple[str, dict[str, Any]]] = []
        try:
            gateway = env.gateway(self.region)
            for service in services:
                token: str | None = None
                while True:
                    request: dict[str, Any] = {"ResultsPerPage": page_size}
                    if service.filters:
                        request["Filters"] = dict(service.filters)
                    if token:
                        request["NextPageToken"] = token
                    requests += 1
                    answer = gateway.raw(service.action, **request)
                    items.extend((service.name, dict(i)) for i in answer.get(service.key) or ())
                    token = answer.get("NextPageToken")
                    if not token:
                        break
        except Exception as error:  # the region is reported, never dropped
            return Read(None, classify(error), requests)
        url = env.oos_url(self.region)
        if url is None:
            return Read(items, None, requests)
        try:
            items.extend(("bucket", b) for b in read_buckets(url, self.region))
        except Exception as error:
            return Read(items, None, requests, classify(error))
        return Read(items, None, requests)

    def lost(self, reason: str) -> Read:
        return Read(None, lost(reason))


def normalise(
    service: Service, region: str, item: dict[str, Any], geo: GeoTables, source: Source
) -> Resource:
    """One OSC API object as a :class:`Resource` of provider ``outscale``."""
    place = field_at(item, service.region) if service.region else region
    algorithm = item.get("SSEAlgorithm") if service.name == "bucket" else None
    draft = ResourceDraft(
        id=f"outscale:{region}/{item.get(service.id)}",
        type=service.type,
        kind=service.kind,
        location=geo.locate("outscale", str(place) if place else None),
        name=next(
            (str(t.get("Value")) for t in item.get("Tags") or () if t.get("Key") == "Name"), None
        ),
        attributes={k: v for k, v in item.items() if isinstance(v, str | int | bool)},
    )
    if not place:
        draft.unknowns["region"] = Msg("collect.no_region")
    if algorithm:
        draft.encryption = Encryption(True, KeyOwner.PROVIDER)
        draft.notes["encryption.at_rest"] = Msg(
            "collect.sovereign.oos_default", algorithm=algorithm
        )
    elif service.at_rest_unknown:
        encryption_unread(draft, Msg(service.at_rest_unknown))
    return draft.resource("outscale", source)


@dataclass
class OutscaleCollector:
    """The account of each region given (default: the profile's), as a Collector."""

    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    oos_endpoint_url: str | None = None
    max_workers: int = 16
    executor: Executor | None = None
    progress: TextIO | None = None
    name: str = "outscale"

    def preflight(self) -> None:
        """Keys and region now: what is missing is one line, exit 2."""
        from osc_sdk_python.credentials import Profile

        profile = Profile.from_standard_configuration(None, None)
        if not (profile.access_key and profile.secret_key):
            raise UsageError(
                "Outscale: no access key; set OSC_ACCESS_KEY and OSC_SECRET_KEY (or a profile "
                "in ~/.osc/config.json)"
            )
        if not self.regions:
            self.regions = (os.environ.get("OSC_REGION") or profile.region or "eu-west-2",)

    def collect(self, geo: GeoTables) -> Collection:
        spec = OutscaleEnvSpec(self.endpoint_url, self.oos_endpoint_url)
        remote = runs_elsewhere(self.executor)
        env = Environment(spec, None if remote else spec.build())
        executor = self.executor or LocalExecutor(self.max_workers)
        tasks = [ReadRegion(r) for r in dict.fromkeys(self.regions)]
        result = Collection()
        _, services = outscale_services()
        by_name = {s.name: s for s in (*services, oos_service())}
        notes = source_notes(None, None, self.endpoint_url)
        done = {
            d.task.region: d.result
            for d in executor.run(env, tasks)
            if isinstance(d.task, ReadRegion) and isinstance(d.result, Read)
        }
        for region in sorted(done):
            read = done[region]
            label = f"outscale:{region}"
            if self.progress is not None:
                count = "not audited" if read.items is None else f"{len(read.items)} resources"
                print(f"outscale {region}: {count}", file=self.progress, flush=True)
            if read.items is None:
                failure = read.failure or NOT_READ  # never an error that says nothing
                error = api_error("outscale", region, failure, SourceKind.OUTSCALE_API)
                result.errors.append(error)
                add_scope(result, label, SourceKind.OUTSCALE_API, [], notes)
                continue
            if read.oos_failure is not None:
                result.errors.append(
                    api_error(
                        "outscale", f"{region}/oos", read.oos_failure, SourceKind.OUTSCALE_API
                    )
                )
            source = Source(kind=SourceKind.OUTSCALE_API, account=region)
            resources = [normalise(by_name[n], region, i, geo, source) for n, i in read.items]
            add_scope(result, label, SourceKind.OUTSCALE_API, resources, notes)
        return result
