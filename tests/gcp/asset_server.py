"""A loopback Cloud Asset Inventory API: HTTP on 127.0.0.1, JSON shaped like the REST API.

The tests (and ``bench/bench_gcp.py``) serve ``GET /v1/{scope}:searchAllResources`` from an
:class:`AssetEstate` built in code: ``pageToken`` / ``nextPageToken`` paging, ``403
PERMISSION_DENIED`` on a project, ``403 SERVICE_DISABLED`` (the API disabled in a project),
an optional latency per call. The real ``google-cloud-asset`` client runs its REST transport
against it; every request is logged (method, path, query) so a test can show what was sent.
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

PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"


def api_error(code: int, status: str, message: str, reason: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "cloudasset.googleapis.com"},
            }
        ]
    return {"error": error}


@dataclass
class AssetEstate:
    """What the server serves: projects (``projects/<number>``) with their parent and assets."""

    parents: dict[str, str] = field(default_factory=dict)  # project -> organizations/ID ...
    names: dict[str, str] = field(default_factory=dict)  # project -> project id
    assets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)
    page_size: int = 500
    latency: float = 0.0
    throttle: dict[str, int] = field(default_factory=dict)  # scope -> 429s before answering

    def project(self, number: str, project_id: str, parent: str) -> str:
        project = f"projects/{number}"
        self.parents[project] = parent
        self.names[project] = project_id
        self.assets.setdefault(project, [])
        return project

    def asset(
        self,
        project: str,
        asset_type: str,
        name: str,
        location: str | None,
        kms_keys: list[str] | None = None,
        resource: dict[str, Any] | None = None,
    ) -> str:
        service = asset_type.split("/", 1)[0]
        full = f"//{service}/{project}/{name}"
        entry: dict[str, Any] = {
            "name": full,
            "assetType": asset_type,
            "project": project,
            "displayName": name.rsplit("/", 1)[-1],
        }
        if location is not None:
            entry["location"] = location
        if kms_keys:
            entry["kmsKeys"] = kms_keys
        if resource is not None:  # the service's own JSON, returned only when asked for
            entry["versionedResources"] = [{"version": "v1", "resource": resource}]
        self.assets[project].append(entry)
        return full

    def project_result(self, project: str) -> dict[str, Any]:
        return {
            "name": f"//cloudresourcemanager.googleapis.com/{project}",
            "assetType": PROJECT_TYPE,
            "project": project,
            "displayName": self.names[project],
            "location": "global",
            "additionalAttributes": {"projectId": self.names[project]},
        }

    def search(self, scope: str, asset_types: list[str]) -> tuple[int, Any, list[Any]]:
        """(status, error body, results) for one search on ``scope``."""
        if scope.startswith("projects/"):
            project = self._project(scope)
            if project is None:
                return 403, api_error(403, "PERMISSION_DENIED", f"no access to {scope}"), []
            if project in self.disabled:
                message = (
                    f"Cloud Asset API has not been used in project {project} before or it is "
                    "disabled. Enable it by visiting the console then retry."
                )
                return 403, api_error(403, "PERMISSION_DENIED", message, "SERVICE_DISABLED"), []
            if project in self.denied:
                message = f"The caller does not have permission on {scope}"
                denied = api_error(403, "PERMISSION_DENIED", message, "IAM_PERMISSION_DENIED")
                return 403, denied, []
            projects = [project]
        else:
            projects = [p for p, parent in self.parents.items() if parent == scope]
            if not projects:
                return 403, api_error(403, "PERMISSION_DENIED", f"no access to {scope}"), []
        results: list[Any] = []
        for project in projects:
            if PROJECT_TYPE in asset_types or not asset_types:
                results.append(self.project_result(project))
            results.extend(
                a for a in self.assets[project] if not asset_types or a["assetType"] in asset_types
            )
        return 200, None, results

    def _project(self, scope: str) -> str | None:
        if scope in self.parents:
            return scope
        wanted = scope.removeprefix("projects/")
        return next((p for p, name in self.names.items() if name == wanted), None)


class AssetHandler(BaseHTTPRequestHandler):
    server: AssetServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self) -> LoggedRequest:
        parts = urlsplit(self.path)
        entry = LoggedRequest(self.command, unquote(parts.path), parse_qs(parts.query))
        with self.server.lock:
            self.server.log.append(entry)
        return entry

    def do_GET(self) -> None:
        entry = self._log()
        if self.server.estate.latency:
            time.sleep(self.server.estate.latency)
        path = entry.path
        if not (path.startswith("/v1/") and path.endswith(":searchAllResources")):
            self._send(404, api_error(404, "NOT_FOUND", f"no route {path}"))
            return
        scope = path[len("/v1/") : -len(":searchAllResources")]
        with self.server.lock:
            left = self.server.estate.throttle.get(scope, 0)
            if left:
                self.server.estate.throttle[scope] = left - 1
        if left:
            self._send(429, api_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))
            return
        status, error, results = self.server.estate.search(scope, entry.query.get("assetTypes", []))
        if status != 200:
            self._send(status, error)
            return
        mask = ",".join(entry.query.get("readMask", [])).split(",")
        if "versionedResources" not in mask and "*" not in mask:
            results = [{k: v for k, v in r.items() if k != "versionedResources"} for r in results]
        size = min(int(entry.query.get("pageSize", ["500"])[0]), self.server.estate.page_size)
        start = int(entry.query.get("pageToken", ["0"])[0] or 0)
        body: dict[str, Any] = {"results": results[start : start + size]}
        if start + size < len(results):
            body["nextPageToken"] = str(start + size)
        self._send(200, body)

    def _refuse(self) -> None:
        self._log()
        self._send(405, api_error(405, "METHOD_NOT_ALLOWED", "the loopback API only reads"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse


class AssetServer(LoopbackServer):
    """The loopback Cloud Asset API serving an estate."""

    def __init__(self, estate: AssetEstate) -> None:
        super().__init__(AssetHandler)
        self.estate = estate


@contextmanager
def serve(estate: AssetEstate) -> Iterator[AssetServer]:
    """Run the server on a free loopback port for the duration of the block."""
    with serving(AssetServer(estate)) as server:
        yield server


def serve_process(estate: AssetEstate, ready: Any) -> None:
    """Entry point of a server in its own process (the benchmark: no GIL shared with the
    client). Puts the URL on ``ready`` and serves until terminated."""
    server = AssetServer(estate)
    ready.put(server.url)
    server.serve_forever(poll_interval=0.05)
