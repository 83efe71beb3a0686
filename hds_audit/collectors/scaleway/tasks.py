"""The Scaleway collection tasks, run on any executor (local threads or Dask).

- :class:`FindProjects`: the projects of an organisation (account API);
- :class:`ListLocality`: every list call of the table in one zone or region of one project
  (``page`` / ``page_size`` until ``total_count`` items are read);
- :class:`ListBuckets`: the Object Storage buckets of one region (S3-compatible endpoint),
  with their location and default encryption.

Tasks are small, picklable and return plain data: expected failures are part of the result.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.failure import Failure, lost
from hds_audit.collectors.scaleway.failures import classify

if TYPE_CHECKING:
    from hds_audit.collectors.scaleway.environment import ScalewayEnvironment
    from hds_audit.collectors.scaleway.table import ListCall

BUCKETS = "buckets"


@dataclass(frozen=True, slots=True)
class Listed:
    """What a task read: items per service (a failed service is in ``failures`` instead)."""

    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    requests: int = 0
    projects: list[str] = field(default_factory=list)

    @property
    def failure(self) -> Failure | None:
        """The failure standing for the whole task: every call failed the same way."""
        kinds = {f.kind for f in self.failures.values()}
        if self.failures and not self.items and len(kinds) == 1:
            return next(iter(self.failures.values()))
        return None


def plain(value: Any) -> Any:
    """An SDK response object as JSON-like data (enums as strings, dates as ISO 8601)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name.rstrip("_"): plain(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def list_all(
    env: ScalewayEnvironment, call: ListCall, locality: str, **filters: str
) -> tuple[list[dict[str, Any]], int]:
    """Every page of one list call: (items as plain dicts, requests sent)."""
    method = getattr(env.api(call.api), call.call)
    size = env.table.page_size
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        kwargs: dict[str, Any] = {**call.params, **filters, "page": page}
        kwargs[call.page_size_param] = size
        if call.locality in ("zone", "region"):
            kwargs[call.locality] = locality
        response = _retried(env, method, kwargs)
        batch = list(getattr(response, call.items) or ())
        items.extend(plain(item) for item in batch)
        total = int(getattr(response, "total_count", 0) or 0)
        if not batch or len(items) >= total:
            return items, page
        page += 1


def _retried(env: ScalewayEnvironment, method: Any, kwargs: dict[str, Any]) -> Any:
    """One call, retried on 429 and dropped connections as the table says."""
    settings = env.table.retry
    attempts = int(settings.get("attempts", 1))
    delay = settings.get("initial", 0.5)
    for attempt in range(1, attempts + 1):
        try:
            return method(**kwargs)
        except Exception as error:
            if attempt == attempts or classify(error).kind not in ("throttled", "unreachable"):
                raise
            time.sleep(delay)
            delay *= settings.get("multiplier", 2.0)
    raise AssertionError("unreachable")  # pragma: no cover


def _kept(call: ListCall, item: dict[str, Any]) -> bool:
    return not any(str(item.get(key)) in values for key, values in call.skip.items())


@dataclass(frozen=True, slots=True)
class FindProjects:
    """The projects of an organisation."""

    organization: str

    @property
    def key(self) -> str:
        return f"scaleway/organization/{self.organization}"

    def run(self, env: ScalewayEnvironment) -> Listed:
        call = env.table.discovery
        try:
            found, pages = list_all(env, call, "", organization_id=self.organization)
        except Exception as error:  # reported on the organisation, never dropped
            return Listed(failures={call.name: classify(error)}, requests=1)
        projects = [str(p["id"]) for p in found if p.get("id")]
        return Listed(requests=pages, projects=list(dict.fromkeys(projects)))

    def lost(self, reason: str) -> Listed:
        return Listed(failures={"discovery": lost(reason)})


@dataclass(frozen=True, slots=True)
class ListLocality:
    """Every list call of one zone or region of one project."""

    project: str
    locality: str
    scale: str  # zone or region

    @property
    def key(self) -> str:
        return f"scaleway/{self.project}/{self.locality}"

    @property
    def affinity(self) -> str:
        return f"scaleway/{self.project}"

    def run(self, env: ScalewayEnvironment) -> Listed:
        items: dict[str, list[dict[str, Any]]] = {}
        failures: dict[str, Failure] = {}
        requests = 0
        for call in env.table.by_locality(self.scale):
            filters = {call.project_param: self.project} if call.project_param else {}
            try:
                found, pages = list_all(env, call, self.locality, **filters)
            except Exception as error:  # each failed call is reported on its scope
                failures[call.name] = classify(error)
                requests += 1
                continue
            requests += pages
            items[call.name] = [i for i in found if _kept(call, i)]
        return Listed(items, failures, requests)

    def lost(self, reason: str) -> Listed:
        return Listed(failures={"task": lost(reason)})


@dataclass(frozen=True, slots=True)
class ListBuckets:
    """The buckets of one region's Object Storage endpoint (the API key's preferred project)."""

    region: str

    @property
    def key(self) -> str:
        return f"scaleway/s3/{self.region}"

    def run(self, env: ScalewayEnvironment) -> Listed:
        before = env.tally.count
        try:
            client = env.s3(self.region)
            listed = client.list_buckets().get("Buckets") or []
        except Exception as error:
            return Listed(failures={BUCKETS: classify(error)}, requests=1)
        buckets: list[dict[str, Any]] = []
        failures: dict[str, Failure] = {}
        for entry in listed:
            name = str(entry.get("Name") or "")
            try:
                where = client.get_bucket_location(Bucket=name).get("LocationConstraint")
            except Exception as error:
                failures[f"bucket {name}"] = classify(error)
                continue
            # a single endpoint may list every region's buckets: each is kept by its own region
            if (where or self.region) != self.region:
                continue
            bucket: dict[str, Any] = {"name": name, "region": where or self.region}
            bucket.update(_encryption(client, name, env.table.buckets.absent_encryption))
            buckets.append(bucket)
        return Listed({BUCKETS: buckets}, failures, max(env.tally.count - before, 1))

    def lost(self, reason: str) -> Listed:
        return Listed(failures={BUCKETS: lost(reason)})


def _encryption(client: Any, name: str, absent: frozenset[str]) -> dict[str, Any]:
    """The bucket's default encryption rules, ``[]`` when none is configured, or why unread."""
    from botocore.exceptions import ClientError

    try:
        answer = client.get_bucket_encryption(Bucket=name)
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in absent:
            return {"sse_rules": []}
        return {"sse_unread": classify(error).message}
    except Exception as error:
        return {"sse_unread": classify(error).message}
    rules = (answer.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    return {"sse_rules": [r.get("ApplyServerSideEncryptionByDefault") or {} for r in rules]}
