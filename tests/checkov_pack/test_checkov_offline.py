"""No network: Checkov runs with outbound connections refused at the socket level."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest

from hds_audit.checkov.runner import run_checkov
from hds_audit.model import Status

HCL = Path(__file__).parent / "hcl"


def _loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        try:
            return ipaddress.ip_address(str(address[0])).is_loopback
        except ValueError:
            return str(address[0]) == "localhost"
    return True  # AF_UNIX paths never leave the machine


def test_scan_works_with_outbound_connections_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _loopback(address):
            attempts.append(address)
            raise ConnectionRefusedError(f"network disabled by the test: {address}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _loopback(address):
            attempts.append(address)
            raise ConnectionRefusedError(f"network disabled by the test: {address}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(host)
        raise socket.gaierror(f"name resolution disabled by the test: {host}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    # a platform key in the environment must not make Checkov call its platform
    monkeypatch.setenv("BC_API_KEY", "00000000-0000-0000-0000-000000000000")

    run = run_checkov(str(HCL / "azure"))

    verdicts = {(f.policy.id, f.resource.id): f.status for f in run.findings}
    assert verdicts[("HDS_RES_001", "azurerm_managed_disk.fail_res_disk")] is Status.FAIL
    assert any(f.policy.id.startswith("CKV_AZURE") for f in run.findings)
    assert attempts == []
