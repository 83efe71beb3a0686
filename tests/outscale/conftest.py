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
def osc_api() -> Iterator[OscServer]:
    with serve(planted()) as server:
        yield server
