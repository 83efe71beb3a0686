"""A loopback OSC API (3DS Outscale, v1): HTTP on 127.0.0.1, JSON shaped like the real API.

``POST /<region>/api/v1/<Action>`` with a JSON body; Read actions answer their list page by
page (``ResultsPerPage`` capped by the server's page size, ``NextPageToken``; ReadImages
honours the ``PermissionsToLaunchGlobalPermission`` filter); a region whose
account refuses the keys answers 401 ``AuthFailure``. Every request is logged (path, body).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from hds_audit.testing import loopback_http, send_json

KEYS = {
    "ReadVolumes": "Volumes",
    "ReadSnapshots": "Snapshots",
    "ReadVms": "Vms",
    "ReadImages": "Images",
}


@dataclass
class OscEstate:
    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)  # regions answering 401
    page_size: int = 2
    latency: float = 0.0  # seconds slept before each answer (the benchmark)


@dataclass
class OscServer:
    url: str  # with {region}
    requests: list[tuple[str, dict[str, Any]]]


def _handler(estate: OscEstate, log: list[tuple[str, dict[str, Any]]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            send_json(self, status, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            log.append((self.path, body))
            if estate.latency:
                time.sleep(estate.latency)
            region, _, _, action = self.path.strip("/").split("/", 3)
            if region in estate.refused:
                error = {"Code": "1", "Type": "AuthFailure", "Details": "Access key not found"}
                self._send(401, {"Errors": [error], "ResponseContext": {"RequestId": "r"}})
                return
            if action not in KEYS:
                self._send(400, {"Errors": [{"Code": "4000", "Type": "InvalidParameter"}]})
                return
            items = estate.objects.get((region, action), [])
            public = (body.get("Filters") or {}).get("PermissionsToLaunchGlobalPermission")
            if public is not None:
                items = [i for i in items if _public(i) == public]
            size = min(int(body.get("ResultsPerPage") or 100), estate.page_size)
            start = int(body.get("NextPageToken") or 0)
            answer: dict[str, Any] = {KEYS[action]: items[start : start + size]}
            if start + size < len(items):
                answer["NextPageToken"] = str(start + size)
            answer["ResponseContext"] = {"RequestId": "r"}
            self._send(200, answer)

    return Handler


def _public(item: dict[str, Any]) -> bool:
    return bool((item.get("PermissionsToLaunch") or {}).get("GlobalPermission"))


@contextmanager
def serve(estate: OscEstate) -> Iterator[OscServer]:
    log: list[tuple[str, dict[str, Any]]] = []
    with loopback_http(_handler(estate, log)) as url:
        yield OscServer(url + "/{region}/api/v1", log)


def planted() -> OscEstate:
    """Two readable regions (five volumes in Paris: three pages), one refusing the keys."""
    gov = "cloudgouv-eu-west-1"
    return OscEstate(
        objects={
            ("eu-west-2", "ReadVolumes"): [
                {"VolumeId": f"vol-{i}", "SubregionName": "eu-west-2a", "Tags": []}
                for i in range(5)
            ],
            ("eu-west-2", "ReadSnapshots"): [{"SnapshotId": "snap-1", "VolumeId": "vol-0"}],
            ("eu-west-2", "ReadVms"): [
                {"VmId": "i-1", "Placement": {"SubregionName": "eu-west-2a"}}
            ],
            ("eu-west-2", "ReadImages"): [
                {
                    "ImageId": "ami-own",
                    "ImageName": "records-golden",
                    "AccountId": "123456789012",
                    "PermissionsToLaunch": {"GlobalPermission": False, "AccountIds": []},
                },
                {
                    "ImageId": "ami-public",
                    "ImageName": "Ubuntu-24.04",
                    "AccountAlias": "Outscale",
                    "PermissionsToLaunch": {"GlobalPermission": True, "AccountIds": []},
                },
            ],
            ("us-east-2", "ReadImages"): [
                {"ImageId": "ami-us", "PermissionsToLaunch": {"GlobalPermission": False}},
            ],
            (gov, "ReadVolumes"): [
                {
                    "VolumeId": "vol-gov",
                    "SubregionName": "cloudgouv-eu-west-1a",
                    "Tags": [{"Key": "Name", "Value": "records"}],
                }
            ],
        },
        refused={"us-east-2"},
    )


def bench_estate(regions: list[str], resources: int, latency: float) -> OscEstate:
    """``resources`` items spread over ``regions`` and every Read action, 500 a page; every
    call answers after ``latency`` seconds."""
    estate = OscEstate(page_size=500, latency=latency)
    for n in range(resources):
        region = regions[n % len(regions)]
        action = sorted(KEYS)[n // len(regions) % len(KEYS)]
        key = KEYS[action][:-1] + "Id"
        item: dict[str, Any] = {key: f"{key[:3].lower()}-{n}", "SubregionName": f"{region}a"}
        if action == "ReadVms":
            item = {"VmId": f"i-{n}", "Placement": {"SubregionName": f"{region}a"}}
        estate.objects.setdefault((region, action), []).append(item)
    return estate
