"""Fixtures: the loopback Cloud Asset API with a planted estate, and no Google login."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asset_server import AssetEstate, AssetServer, serve
from gcp_estates import planted


@pytest.fixture(autouse=True)
def no_google_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Application Default Credentials, no gcloud configuration, no metadata server."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")


@pytest.fixture
def estate() -> AssetEstate:
    return planted()


@pytest.fixture
def asset(estate: AssetEstate) -> Iterator[AssetServer]:
    with serve(estate) as server:
        yield server
