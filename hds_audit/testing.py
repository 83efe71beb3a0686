"""Public test helpers: build real Terraform JSON shapes and run the command in-process.

For policy authors and for this project's own tests (as click ships ``click.testing``):
``state_document`` writes a raw state v4, ``plan_document`` what ``terraform show -json``
prints for a plan, both from a compact list of resource specifications.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from click.testing import CliRunner, Result

_REGISTRY = {
    "aws": "hashicorp/aws",
    "azurerm": "hashicorp/azurerm",
    "google": "hashicorp/google",
    "ovh": "ovh/ovh",
    "scaleway": "scaleway/scaleway",
    "outscale": "outscale/outscale",
}


@dataclass(frozen=True, slots=True)
class Spec:
    """One resource instance to put in a generated state or plan."""

    type: str
    name: str
    attributes: Mapping[str, Any]
    module: str = ""
    index: int | str | None = None
    alias: str | None = None
    mode: str = "managed"
    sensitive: Sequence[str] = ()
    unknown: Sequence[str] = ()
    references: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def provider_short(self) -> str:
        return self.type.split("_", 1)[0]

    @property
    def address(self) -> str:
        local = f"{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"
        if self.index is not None:
            local += f"[{json.dumps(self.index)}]"
        return f"{self.module}.{local}" if self.module else local

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Spec:
        return cls(
            type=data["type"],
            name=data["name"],
            attributes=data.get("attributes", {}),
            module=data.get("module", ""),
            index=data.get("index"),
            alias=data.get("alias"),
            mode=data.get("mode", "managed"),
            sensitive=tuple(data.get("sensitive", ())),
            unknown=tuple(data.get("unknown", ())),
            references={k: tuple(v) for k, v in (data.get("references") or {}).items()},
        )


def _provider_address(spec: Spec) -> str:
    source = _REGISTRY.get(spec.provider_short, f"hashicorp/{spec.provider_short}")
    address = f'provider["registry.terraform.io/{source}"]'
    return f"{address}.{spec.alias}" if spec.alias else address


def state_document(specs: Iterable[Spec], terraform_version: str = "1.11.4") -> dict[str, Any]:
    """A raw state v4 holding ``specs`` (instances of one resource are grouped)."""
    resources: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for spec in specs:
        key = (spec.module, spec.mode, spec.type, spec.name)
        resource = resources.setdefault(
            key,
            {
                "mode": spec.mode,
                "type": spec.type,
                "name": spec.name,
                "provider": _provider_address(spec),
                "instances": [],
                **({"module": spec.module} if spec.module else {}),
            },
        )
        instance: dict[str, Any] = {
            "schema_version": 0,
            "attributes": dict(spec.attributes),
            "sensitive_attributes": [
                [{"type": "get_attr", "value": name}] for name in spec.sensitive
            ],
            "private": "bnVsbA==",
        }
        if spec.index is not None:
            instance = {"index_key": spec.index, **instance}
        resource["instances"].append(instance)
    return {
        "version": 4,
        "terraform_version": terraform_version,
        "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000",
        "outputs": {},
        "resources": list(resources.values()),
        "check_results": None,
    }


def plan_document(
    specs: Iterable[Spec],
    provider_regions: Mapping[str, str] | None = None,
    terraform_version: str = "1.11.4",
) -> dict[str, Any]:
    """What ``terraform show -json tfplan`` prints for creating ``specs``.

    ``provider_regions`` maps provider configuration keys (``aws``, ``aws.us``) to regions.
    """
    specs = list(specs)
    regions = dict(provider_regions or {"aws": "eu-west-3"})
    changes = []
    config_resources: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        unknown = dict.fromkeys(spec.unknown, True)
        after = {k: v for k, v in spec.attributes.items() if k not in unknown}
        short = spec.provider_short
        changes.append(
            {
                "address": spec.address,
                **({"module_address": spec.module} if spec.module else {}),
                "mode": spec.mode,
                "type": spec.type,
                "name": spec.name,
                **({"index": spec.index} if spec.index is not None else {}),
                "provider_name": f"registry.terraform.io/{_REGISTRY.get(short, short)}",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": after,
                    "after_unknown": unknown,
                    "before_sensitive": False,
                    "after_sensitive": dict.fromkeys(spec.sensitive, True),
                },
            }
        )
        expressions: dict[str, Any] = {}
        for attr, value in spec.attributes.items():
            expressions[attr] = {"constant_value": value}
        for attr, refs in spec.references.items():
            expressions[attr] = {"references": list(refs)}
        config_resources.setdefault(spec.module, []).append(
            {
                "address": f"{spec.type}.{spec.name}",
                "mode": spec.mode,
                "type": spec.type,
                "name": spec.name,
                "provider_config_key": f"{short}.{spec.alias}" if spec.alias else short,
                "expressions": expressions,
                "schema_version": 0,
            }
        )
    return {
        "format_version": "1.2",
        "terraform_version": terraform_version,
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                key: {
                    "name": key.split(".", 1)[0],
                    "full_name": f"registry.terraform.io/hashicorp/{key.split('.', 1)[0]}",
                    **({"alias": key.split(".", 1)[1]} if "." in key else {}),
                    "expressions": {"region": {"constant_value": region}},
                }
                for key, region in regions.items()
            },
            "root_module": _config_module(config_resources, ""),
        },
        "timestamp": "2026-11-29T10:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def _config_module(by_module: Mapping[str, list[dict[str, Any]]], path: str) -> dict[str, Any]:
    module: dict[str, Any] = {"resources": by_module.get(path, [])}
    prefix = f"{path}.module." if path else "module."
    children = sorted(
        {m[len(prefix) :].split(".", 1)[0] for m in by_module if m.startswith(prefix)}
    )
    if children:
        module["module_calls"] = {
            name: {
                "source": f"./modules/{name}",
                "module": _config_module(by_module, prefix + name),
            }
            for name in children
        }
    return module


def write_json(path: Path, document: Mapping[str, Any]) -> Path:
    """Write a document as Terraform does (two-space indent) and return the path."""
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def run_cli(args: Sequence[str]) -> Result:
    """Run ``hds-audit ARGS`` in-process; stdout and stderr are kept apart."""
    from hds_audit.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def terraform_working_copy(source: Path, target: Path) -> dict[str, str]:
    """Copy the Terraform working directory ``source`` to ``target`` and ``terraform init``
    it offline (no provider to download); return the environment to run terraform with."""
    import os
    import shutil
    import subprocess

    shutil.copytree(source, target)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    subprocess.run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=target,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


_Server = TypeVar("_Server", bound=HTTPServer)


@contextmanager
def serving(server: _Server) -> Iterator[_Server]:
    """Serve ``server`` (a loopback API of the tests) on a thread for the duration of the
    block; shut it down and close its socket afterwards."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request a loopback server received: method, path, query."""

    method: str
    path: str
    query: dict[str, list[str]]


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on a free 127.0.0.1 port that logs every request (the tests'
    loopback APIs): ``url``, ``requests()``; handlers append to ``log`` under ``lock``."""

    daemon_threads = True
    request_queue_size = 128  # clients that open one connection per call

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.log: list[LoggedRequest] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.log if method is None or r.method == method]


@contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) for the duration of the block; yields the
    server's root URL (``http://127.0.0.1:PORT``)."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    """Answer a loopback request with ``body`` as JSON."""
    data = json.dumps(body).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@contextmanager
def moto_server_process() -> Iterator[str]:
    """moto's server (``python -m moto.server``, a dev dependency) in a process of its own on
    a free loopback port, for the block: its URL. moto keeps its state per process, so a
    server apart holds only what its users plant (and its CPU is not the caller's)."""
    with socket.socket() as probe:  # a free loopback port for the server to bind
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
