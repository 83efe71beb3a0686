"""The Google Cloud collection tasks, run on any executor (local threads or Dask).

- :class:`FindProjects`: the projects of an organisation or folder scope (one paginated
  search for the project asset type);
- :class:`SearchProject`: every resource of one project (one paginated ``SearchAllResources``).

Tasks are small, picklable and return plain data: expected failures are part of the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.failure import Failure, lost
from hds_audit.collectors.gcp.failures import classify

if TYPE_CHECKING:
    from hds_audit.collectors.gcp.environment import GcpEnvironment
    from hds_audit.collectors.gcp.table import GcpTable

SEARCH = "search_all_resources"


@dataclass(frozen=True, slots=True)
class Searched:
    """What one paginated search returned: items (``None`` when it failed) and requests."""

    items: list[dict[str, Any]] | None = None
    failure: Failure | None = None
    requests: int = 0
    projects: list[str] = field(default_factory=list)


def search(env: GcpEnvironment, scope: str, asset_types: tuple[str, ...] = ()) -> Searched:
    """Every page of ``SearchAllResources`` on ``scope``, as snake_case dicts."""
    call = env.table.calls[SEARCH]
    request: dict[str, Any] = {"scope": scope, "asset_types": list(asset_types)}
    if call.page_size:
        request["page_size"] = call.page_size
    if call.read_mask:
        request["read_mask"] = {"paths": list(call.read_mask)}
    items: list[dict[str, Any]] = []
    pages = 0
    try:
        pager = env.client.search_all_resources(request=request, retry=_retry(call.retry))
        for page in pager.pages:
            pages += 1
            items.extend(_plain(result._pb, env.table) for result in page.results)
    except Exception as error:  # every failure is reported on its scope, never dropped
        return Searched(None, classify(error), max(pages, 1))
    return Searched(items, None, pages)


def _retry(settings: Mapping[str, Any]) -> Any:
    """The google-api-core retry the table describes (exception names, backoff seconds)."""
    from google.api_core import exceptions, retry

    if not settings:
        return None
    kinds = tuple(getattr(exceptions, name) for name in settings.get("errors") or ())
    return retry.Retry(
        predicate=retry.if_exception_type(*kinds),
        initial=float(settings.get("initial", 1.0)),
        maximum=float(settings.get("maximum", 60.0)),
        multiplier=float(settings.get("multiplier", 2.0)),
        timeout=float(settings.get("deadline", 120.0)),
    )


def _plain(result: Any, table: GcpTable) -> dict[str, Any]:
    """The fields the normaliser reads, from a ``ResourceSearchResult`` protobuf message
    (read directly: a full ``to_dict`` costs more than the HTTP call)."""
    item: dict[str, Any] = {
        "name": result.name,
        "asset_type": result.asset_type,
        "project": result.project,
        "display_name": result.display_name,
        "location": result.location,
        "state": result.state,
    }
    if result.kms_keys:
        item["kms_keys"] = list(result.kms_keys)
    elif result.kms_key:
        item["kms_key"] = result.kms_key
    if result.labels:
        item["labels"] = dict(result.labels)
    if result.folders:
        item["folders"] = list(result.folders)
    if result.versioned_resources and table.details(result.asset_type):
        from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]

        item["resource"] = MessageToDict(result.versioned_resources[0].resource)
    return item


@dataclass(frozen=True, slots=True)
class FindProjects:
    """The projects under an organisation or folder."""

    scope: str

    @property
    def key(self) -> str:
        return f"gcp/{self.scope}/projects"

    def run(self, env: GcpEnvironment) -> Searched:
        found = search(env, self.scope, env.table.discovery_types)
        if found.items is None:
            return found
        projects = [str(item["project"]) for item in found.items if item.get("project")]
        return Searched([], None, found.requests, list(dict.fromkeys(projects)))

    def lost(self, reason: str) -> Searched:
        return Searched(None, lost(reason))


@dataclass(frozen=True, slots=True)
class SearchProject:
    """Every resource of one project."""

    project: str

    @property
    def key(self) -> str:
        return f"gcp/{self.project}"

    def run(self, env: GcpEnvironment) -> Searched:
        found = search(env, self.project)
        if found.items is None:
            return found
        # the project itself is a discovery asset, not a resource to judge
        kept = [i for i in found.items if i.get("asset_type") not in env.table.discovery_types]
        return Searched(kept, None, found.requests)

    def lost(self, reason: str) -> Searched:
        return Searched(None, lost(reason))
