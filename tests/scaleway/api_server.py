"""A loopback Scaleway API: HTTP on 127.0.0.1, JSON shaped like Scaleway's REST APIs.

The tests (and ``bench/bench_scaleway.py``) serve, from a :class:`ScalewayEstate` built in
code, the list calls the collector makes: ``/account/v3/projects``,
``/instance/v1/zones/{zone}/servers|volumes|snapshots`` (total in the ``X-Total-Count``
header, ``per_page``, as the Instance API does), ``/block/v1/zones/{zone}/volumes|snapshots``,
``/rdb/v1/regions/{region}/instances|snapshots``, ``/k8s/v1/regions/{region}/clusters`` and
``/registry/v1/regions/{region}/namespaces`` (``page`` / ``page_size`` / ``total_count``).
A denied project answers ``403 permissions_denied``, a failing zone ``503``; a wrong
``X-Auth-Token`` is ``401``. The real ``scaleway`` SDK runs against it; every request is
logged (method, path, query) so a test can show what was sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hds_audit.testing import LoggedRequest, LoopbackServer, serving

#: (api prefix, locality segment) -> the query parameter that filters by project
PROJECT_FILTER = {
    "instance": "project",
    "block": "project_id",
    "rdb": "project_id",
    "k8s": "project_id",
    "registry": "project_id",
}


def api_error(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """A Scaleway API error body."""
    return {"type": kind, "message": message, **extra}


@dataclass
class ScalewayEstate:
    """What the server serves: projects of organisations, and items per list path."""

    secret_key: str
    projects: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, org)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # list path -> items
    denied_projects: set[str] = field(default_factory=set)
    failing_localities: set[str] = field(default_factory=set)
    page_size: int = 100  # the most the server returns in one page
    latency: float = 0.0
    throttle: dict[str, int] = field(default_factory=dict)  # path -> 429s before answering

    def project(self, project_id: str, name: str, organization: str) -> str:
        self.projects[project_id] = (name, organization)
        return project_id

    def add(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        """Serve ``item`` under the list path (``/rdb/v1/regions/fr-par/instances``)."""
        self.items.setdefault(path, []).append(item)
        return item

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """(status, body, headers) of one GET."""
        first = {k: v[0] for k, v in query.items() if v}
        if path == "/account/v3/projects":
            organization = first.get("organization_id")
            found = [
                {
                    "id": pid,
                    "name": name,
                    "organization_id": org,
                    "description": "",
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                }
                for pid, (name, org) in self.projects.items()
                if org == organization
            ]
            if not found:
                return (
                    403,
                    api_error(
                        "permissions_denied",
                        "insufficient permissions",
                        details=[{"resource": "project", "action": "read"}],
                    ),
                    {},
                )
            return self._page("projects", found, first, "page_size", header=False)
        parts = path.strip("/").split("/")
        if len(parts) != 5 or parts[2] not in ("zones", "regions"):
            return 404, api_error("not_found", f"no route {path}"), {}
        api, locality, collection = parts[0], parts[3], parts[4]
        project = first.get(PROJECT_FILTER.get(api, "project_id"))
        if project in self.denied_projects:
            return (
                403,
                api_error(
                    "permissions_denied",
                    "insufficient permissions",
                    details=[{"resource": collection, "action": "read"}],
                ),
                {},
            )
        if locality in self.failing_localities:
            return 503, api_error("service_unavailable", f"{locality} is unavailable"), {}
        owner_key = "project" if api == "instance" else "project_id"
        found = [
            i for i in self.items.get(path, []) if project is None or i.get(owner_key) == project
        ]
        if api == "instance":
            return self._page(collection, found, first, "per_page", header=True)
        return self._page(collection, found, first, "page_size", header=False)

    def _page(
        self,
        key: str,
        found: list[dict[str, Any]],
        query: dict[str, str],
        size_param: str,
        header: bool,
    ) -> tuple[int, Any, dict[str, str]]:
        size = min(int(query.get(size_param, "50")), self.page_size)
        page = int(query.get("page", "1"))
        body: dict[str, Any] = {key: found[(page - 1) * size : page * size]}
        if header:  # the Instance API gives the total in a header
            return 200, body, {"X-Total-Count": str(len(found))}
        body["total_count"] = len(found)
        return 200, body, {}


class ApiHandler(BaseHTTPRequestHandler):
    server: ScalewayApiServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _log(self) -> LoggedRequest:
        parts = urlsplit(self.path)
        entry = LoggedRequest(self.command, unquote(parts.path), parse_qs(parts.query))
        with self.server.lock:
            self.server.log.append(entry)
        return entry

    def do_GET(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # the SDK sends "{}"
        entry = self._log()
        estate = self.server.estate
        if estate.latency:
            time.sleep(estate.latency)
        if self.headers.get("X-Auth-Token") != estate.secret_key:
            self._send(401, api_error("denied_authentication", "authentication is denied"))
            return
        with self.server.lock:
            left = estate.throttle.get(entry.path, 0)
            if left:
                estate.throttle[entry.path] = left - 1
        if left:
            self._send(429, api_error("too_many_requests", "rate limit exceeded"))
            return
        status, body, headers = estate.answer(entry.path, entry.query)
        self._send(status, body, headers)

    def _refuse(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._log()
        self._send(405, api_error("method_not_allowed", "the loopback API only reads"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse


class ScalewayApiServer(LoopbackServer):
    """The loopback API serving an estate (the SDK opens one connection per call)."""

    def __init__(self, estate: ScalewayEstate) -> None:
        super().__init__(ApiHandler)
        self.estate = estate


@contextmanager
def serve(estate: ScalewayEstate) -> Iterator[ScalewayApiServer]:
    """Run the server on a free loopback port for the duration of the block."""
    with serving(ScalewayApiServer(estate)) as server:
        yield server


def serve_process(estate: ScalewayEstate, ready: Any) -> None:
    """Entry point of a server in its own process (the benchmark). Puts the URL on ``ready``
    and serves until terminated."""
    server = ScalewayApiServer(estate)
    ready.put(server.url)
    server.serve_forever(poll_interval=0.05)
