"""Fixtures: the loopback OVH API with a planted estate, and OVH keys that only it accepts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ovh_server import OvhServer, planted, serve


@pytest.fixture(autouse=True)
def ovh_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keys from the environment only: no ovh.conf of the machine or the user is read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OVH_ENDPOINT", "ovh-eu")
    monkeypatch.setenv("OVH_APPLICATION_KEY", "test-application")
    monkeypatch.setenv("OVH_APPLICATION_SECRET", "test-secret")
    monkeypatch.setenv("OVH_CONSUMER_KEY", "test-consumer")


@pytest.fixture
def ovh_api() -> Iterator[OvhServer]:
    with serve(planted()) as server:
        yield server
