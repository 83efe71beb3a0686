"""Fixtures: the loopback ARM server with the planted estate, and the runtime to inject."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_server import ArmServer, StaticCredential, serve
from azure_estates import planted

from hds_audit.collectors.azure import AzureCloud, AzureRuntime


def loopback_cloud(server: ArmServer) -> AzureCloud:
    """A cloud whose Resource Manager is the loopback server (token scope on it too)."""
    return AzureCloud(
        name="loopback",
        resource_manager=server.url,
        authority_host="login.invalid",
        credential_scope=f"{server.url}/.default",
        data_boundaries=True,
    )


@pytest.fixture
def arm() -> Iterator[tuple[ArmServer, str]]:
    """The planted estate of issue 4 on a fresh server: (server, CA bundle path)."""
    with serve(planted()) as running:
        yield running


@pytest.fixture
def runtime(arm: tuple[ArmServer, str]) -> AzureRuntime:
    server, ca = arm
    return AzureRuntime(
        credential=StaticCredential(), cloud=loopback_cloud(server), connection_verify=ca
    )
