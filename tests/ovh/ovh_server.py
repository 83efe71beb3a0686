"""A loopback OVH API (v1, /cloud): HTTP on 127.0.0.1, JSON shaped like the real API.

Serves ``/auth/time`` (the SDK signs each request with the server's time), the project list,
each project's regions and the listings of ``hds_audit/collectors/ovh/data/services.yaml``
(lists of ids and the objects they name, where the real API has them). A denied project or
path answers 403 ``NOT_GRANTED_CALL``; a failing path answers 500. The OVH API
v1 lists are not paginated: a listing is one response. Every request is logged (method, path).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from hds_audit.testing import loopback_http, send_json


@dataclass
class OvhEstate:
    """Projects, their regions and what each listing path returns."""

    listings: dict[str, list[Any]] = field(default_factory=dict)  # path -> JSON list
    denied: set[str] = field(default_factory=set)  # projects (or paths) answering 403
    failing: set[str] = field(default_factory=set)  # paths answering 500
    latency: float = 0.0  # seconds slept before each answer (the benchmark)

    @property
    def projects(self) -> list[str]:
        return self.listings.get("/cloud/project", [])


@dataclass
class OvhServer:
    url: str
    requests: list[tuple[str, str]]


def _handler(estate: OvhEstate, log: list[tuple[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            send_json(self, status, body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            log.append(("GET", path))
            if estate.latency:
                time.sleep(estate.latency)
            if path == "/auth/time":
                self._send(200, int(time.time()))
                return
            parts = path.split("/")
            if path in estate.denied or (len(parts) > 3 and parts[3] in estate.denied):
                message = "This call has not been granted"
                self._send(403, {"errorCode": "NOT_GRANTED_CALL", "message": message})
            elif path in estate.failing:
                self._send(500, {"message": "Internal server error"})
            elif path in estate.listings:
                self._send(200, estate.listings[path])
            else:
                self._send(404, {"message": f"The requested object ({path}) does not exist"})

        def _refuse(self) -> None:
            log.append((self.command, self.path))
            self._send(405, {"message": "read-only loopback"})

        do_POST = do_PUT = do_DELETE = _refuse

    return Handler


@contextmanager
def serve(estate: OvhEstate) -> Iterator[OvhServer]:
    """Run the loopback API in a thread for the duration of the block."""
    log: list[tuple[str, str]] = []
    with loopback_http(_handler(estate, log)) as url:
        yield OvhServer(url, log)


def planted() -> OvhEstate:
    """Two projects: one readable in three regions (one of them failing), one denied; three
    dedicated servers (Gravelines, Beauharnois, no datacenter)."""
    ok = "/cloud/project/p-records"
    return OvhEstate(
        listings={
            "/cloud/project": ["p-records", "p-denied"],
            f"{ok}/region": ["GRA11", "BHS5", "WAW1"],
            f"{ok}/volume": [
                {"id": "vol-gra", "name": "records", "region": "GRA11", "type": "classic"},
                {"id": "vol-bhs", "name": "copy", "region": "BHS5", "type": "classic"},
            ],
            f"{ok}/volume/snapshot": [],
            f"{ok}/instance": [{"id": "i-1", "name": "app", "region": "GRA11"}],
            f"{ok}/region/GRA11/storage": [
                {"name": "scans", "encryption": {"sseAlgorithm": "AES256"}},
            ],
            f"{ok}/region/BHS5/storage": [
                {"name": "exports", "encryption": {"sseAlgorithm": "plaintext"}},
            ],
            f"{ok}/database/service": [
                {
                    "id": "db-1",
                    "description": "patients",
                    "engine": "postgresql",
                    "nodes": [{"region": "GRA"}],
                    "backups": {"regions": ["GRA", "BHS"]},
                },
            ],
            f"{ok}/kube": ["kube-gra", "kube-bhs"],
            f"{ok}/kube/kube-gra": {
                "id": "kube-gra",
                "name": "records-k8s",
                "region": "GRA7",
                "version": "1.31",
                "status": "READY",
            },
            f"{ok}/kube/kube-bhs": {"id": "kube-bhs", "name": "copy-k8s", "region": "BHS5"},
            f"{ok}/containerRegistry": [
                {"id": "reg-1", "name": "images", "region": "GRA", "status": "READY"},
            ],
            "/dedicated/server": ["ns1.ip-10-0-0.eu", "ns2.ip-10-0-1.net", "ns3.ip-10-0-2.eu"],
            "/dedicated/server/ns1.ip-10-0-0.eu": {
                "name": "ns1.ip-10-0-0.eu",
                "datacenter": "gra3",
                "state": "ok",
            },
            "/dedicated/server/ns2.ip-10-0-1.net": {
                "name": "ns2.ip-10-0-1.net",
                "datacenter": "bhs6",
                "state": "ok",
            },
            "/dedicated/server/ns3.ip-10-0-2.eu": {"name": "ns3.ip-10-0-2.eu", "state": "ok"},
        },
        denied={"p-denied"},
        failing={f"{ok}/region/WAW1/storage"},
    )


def bench_estate(projects: int, resources: int, latency: float) -> OvhEstate:
    """``projects`` readable projects in three regions holding ``resources`` items spread over
    every listing of the services table (ids and their objects where the API lists ids); every
    call answers after ``latency`` seconds. The account has no dedicated server."""
    from hds_audit.collectors.ovh.table import ovh_table

    table = ovh_table()
    regions = ["GRA11", "SBG5", "DE1"]
    names = [f"p-bench-{n}" for n in range(projects)]
    estate = OvhEstate(latency=latency)
    estate.listings[table.projects] = names
    for service in table.account_services:
        estate.listings[service.path] = []
    listings: list[tuple[str, str, Any]] = []  # (project, region, service)
    for name in names:
        estate.listings[table.regions.format(project=name)] = regions
        for service in table.services:
            for region in regions if service.per_region else [regions[0]]:
                estate.listings[service.path.format(project=name, region=region)] = []
                listings.append((name, region, service))
    for n in range(resources):
        name, region, service = listings[n % len(listings)]
        item: dict[str, Any] = {
            service.id: f"{service.name}-{n}",
            "encryption": {"sseAlgorithm": "AES256"},
            "nodes": [{"region": region}],
        }
        if service.region and "." not in service.region:
            item[service.region] = region
        path = service.path.format(project=name, region=region)
        if service.detail:
            estate.listings[path].append(item[service.id])
            estate.listings[service.detail.format(project=name, id=item[service.id])] = item
        else:
            estate.listings[path].append(item)
    return estate
