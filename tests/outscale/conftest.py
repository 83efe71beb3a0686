"""Fixtures: the loopback OSC API with a planted estate, and Outscale keys it accepts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from osc_server import OscServer, planted, serve


@pytest.fixture(autouse=True)
def osc_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keys from the environment only: no ~/.osc/config.json of the machine is read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OSC_ACCESS_KEY", "TESTACCESSKEY")
    monkeypatch.setenv("OSC_SECRET_KEY", "TESTSECRETKEY")
    monkeypatch.setenv("OSC_REGION", "eu-west-2")


@pytest.fixture
def oos_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on loopback, standing for OOS (S3-compatible), with no AWS files."""
    import logging

    from moto.server import ThreadedMotoServer

    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/hds-audit-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/hds-audit-test-credentials")
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def osc_api() -> Iterator[OscServer]:
    with serve(planted()) as server:
        yield server
