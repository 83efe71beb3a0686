"""A public test helper: a loopback HTTP proxy that adds latency and faults in front of an
AWS-compatible endpoint (the moto server in the test suite and the benchmark).

Faults are injected at the HTTP boundary, as AWS would send them: a throttling or
AccessDenied error body in the service's own protocol, a region that never answers, or a
response rewritten (to show what moto cannot produce). The collector is never patched.
Service, region and operation are read from the SigV4 ``Authorization`` header and the body.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

#: botocore service-signing names whose protocol is query XML (others: JSON or REST).
_QUERY = {"ec2", "rds", "sts", "iam", "elasticache", "redshift", "sns", "sqs", "autoscaling"}


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the proxy forwarded (or answered itself)."""

    service: str
    region: str
    operation: str
    status: int


@dataclass(slots=True)
class Fault:
    """A fault for the requests that match every given field (``None`` matches all).

    ``action``: ``throttle`` (a throttling error, every attempt), ``deny`` (AccessDenied, or
    ``code``), ``hang`` (wait ``seconds`` then drop the connection), ``rewrite`` (forward, then
    pass the JSON response through ``rewrite``), ``respond`` (answer ``body`` as JSON without
    forwarding: an operation moto does not implement). ``path`` matches a substring of the
    request path (REST protocols carry the operation there).
    """

    action: str
    service: str | None = None
    region: str | None = None
    operation: str | None = None
    path: str | None = None
    body: dict[str, Any] | None = None
    seconds: float = 5.0
    code: str | None = None
    rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def matches(self, service: str, region: str, operation: str, path: str = "") -> bool:
        return (
            (self.service is None or self.service == service)
            and (self.region is None or self.region == region)
            and (self.operation is None or self.operation == operation)
            and (self.path is None or self.path in path)
        )


@dataclass(slots=True)
class FaultProxy:
    """``with FaultProxy(upstream, latency=0.05) as proxy: ... proxy.url``"""

    upstream: str
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.seen.clear()

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def counts(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter((s.service, s.operation) for s in self.seen)

    def fault_for(self, service: str, region: str, operation: str, path: str) -> Fault | None:
        with self._lock:
            return next(
                (f for f in self.faults if f.matches(service, region, operation, path)), None
            )


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def setup(self) -> None:
        super().setup()
        # no Nagle: small replies must not wait for a delayed ACK (40 ms on loopback)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service, region = "unknown", "unknown"
        match = _SCOPE.search(self.headers.get("Authorization", ""))
        if match:
            region, service = match.group(1), match.group(2)
        operation = _operation(self.command, self.path, self.headers, body, service)
        proxy = self.owner
        if proxy.latency:
            time.sleep(proxy.latency)
        fault = proxy.fault_for(service, region, operation, self.path)
        if fault is not None and fault.action == "hang":
            proxy.record(Seen(service, region, operation, 0))
            time.sleep(fault.seconds)
            self.close_connection = True
            return
        if fault is not None and fault.action in ("throttle", "deny"):
            status, headers, payload = _error(service, fault.action, self.headers, fault.code)
            proxy.record(Seen(service, region, operation, status))
            self._reply(status, headers, payload)
            return
        if fault is not None and fault.action == "respond":
            proxy.record(Seen(service, region, operation, 200))
            payload = json.dumps(fault.body or {}).encode()
            self._reply(200, [("Content-Type", "application/json")], payload)
            return
        status, headers, payload = self._forward(body)
        if fault is not None and fault.action == "rewrite" and fault.rewrite and status == 200:
            payload = json.dumps(fault.rewrite(json.loads(payload))).encode()
        proxy.record(Seen(service, region, operation, status))
        self._reply(status, headers, payload)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urlsplit(self.owner.upstream)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            ]
            return response.status, kept, payload
        finally:
            connection.close()

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()  # flushes the status line and headers
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


def _operation(method: str, path: str, headers: Any, body: bytes, service: str) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if service in _QUERY or body.startswith(b"Action="):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    split = urlsplit(path)
    query = "&".join(sorted(k for k in parse_qs(split.query, keep_blank_values=True)))
    return f"{method} {split.path.split('/')[1] if split.path.count('/') > 1 else ''}?{query}"


def _error(
    service: str, action: str, headers: Any, override: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    deny = action == "deny"
    message = "User is not authorized to perform this action" if deny else "Rate exceeded"
    if override:
        message = f"{override} (injected)"
    if headers.get("X-Amz-Target"):
        code = override or ("AccessDeniedException" if deny else "ThrottlingException")
        body = json.dumps({"__type": code, "message": message}).encode()
        return 400, [("Content-Type", "application/x-amz-json-1.1")], body
    if service == "ec2":
        code = override or ("UnauthorizedOperation" if deny else "RequestLimitExceeded")
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            "</Error></Errors><RequestID>fault</RequestID></Response>"
        )
        return (403 if deny else 503), [("Content-Type", "text/xml")], xml.encode()
    if service in _QUERY:
        code = override or ("AccessDenied" if deny else "Throttling")
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        )
        return (403 if deny else 400), [("Content-Type", "text/xml")], xml.encode()
    if service == "s3":
        code = override or ("AccessDenied" if deny else "SlowDown")
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        return (403 if deny else 503), [("Content-Type", "application/xml")], xml.encode()
    code = override or ("AccessDeniedException" if deny else "ThrottlingException")
    return (
        (403 if deny else 429),
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)],
        json.dumps({"message": message}).encode(),
    )


class LatencyMoto:
    """moto's server with latency added at its HTTP boundary, in front of the application.

    Cheaper than :class:`FaultProxy` (one HTTP hop, not two), for the benchmark. ``canned``
    maps a request-path substring to the JSON answered instead (what moto does not
    implement). ``with LatencyMoto(0.05) as server: server.url``.
    """

    def __init__(self, latency: float, canned: dict[str, dict[str, Any]] | None = None) -> None:
        self.latency = latency
        self.canned = canned or {}
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LatencyMoto:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LatencyMoto:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        moto = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if self.latency:
                time.sleep(self.latency)
            path = str(environ.get("PATH_INFO", ""))
            for fragment, body in self.canned.items():
                if fragment in path:
                    payload = json.dumps(body).encode()
                    start_response(
                        "200 OK",
                        [
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload))),
                        ],
                    )
                    return [payload]
            return moto(environ, start_response)

        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
