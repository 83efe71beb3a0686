"""End to end through the CLI: ``hds-audit scan --azure`` against the loopback ARM server."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from arm_server import TENANT, ArmServer, StaticCredential
from azure.core.credentials import AccessToken
from azure_estates import DENIED, PROD
from click.testing import CliRunner
from conftest import loopback_cloud

from hds_audit.cli import main
from hds_audit.collectors.azure import AzureCloud, AzureRuntime
from hds_audit.collectors.azure.table import azure_table

ARM = f"/subscriptions/{PROD}/resourceGroups/health-data/providers"
TENANT_BOUNDARY = f"/tenants/{TENANT}/providers/Microsoft.Resources/dataBoundaries/default"
POLICIES = (
    "HDS_ENC_001",
    "HDS_KEY_001",
    "HDS_REP_001",
    "HDS_RES_001",
    "HDS_RES_002",
    "HDS_TEN_001",
)


def _data_store(enc: str, key: str, rep: str, res: str) -> dict[str, str]:
    return {"HDS_ENC_001": enc, "HDS_KEY_001": key, "HDS_REP_001": rep, "HDS_RES_001": res}


PASSING = _data_store("pass", "pass", "pass", "pass")
# Issue 4, "Done means": the exact findings of the planted estate.
EXPECTED: dict[str, dict[str, str]] = {
    f"{ARM}/Microsoft.Storage/storageAccounts/frgrs": PASSING,  # GRS -> francesouth
    f"{ARM}/Microsoft.Storage/storageAccounts/weragrs": PASSING,  # RAGRS -> northeurope
    f"{ARM}/Microsoft.Storage/storageAccounts/ukdata": _data_store("pass", "pass", "pass", "fail"),
    f"{ARM}/Microsoft.Sql/servers/records-sql": PASSING,
    f"{ARM}/Microsoft.Sql/servers/records-sql/databases/patients": _data_store(
        "pass",
        "pass",
        "fail",
        "pass",  # geo-replicated to eastus
    ),
    f"{ARM}/Microsoft.Compute/disks/vm-os": _data_store(
        "pass", "fail", "pass", "pass"
    ),  # platform key
    f"{ARM}/Microsoft.DocumentDB/databaseAccounts/cosmos-hds": _data_store(
        "pass",
        "pass",
        "fail",
        "pass",  # a location in switzerlandnorth
    ),
    f"{ARM}/Microsoft.KeyVault/vaults/kv-hds": {"HDS_REP_001": "pass", "HDS_RES_001": "pass"},
    f"{ARM}/Microsoft.Compute/virtualMachines/vm": {"HDS_RES_002": "pass"},
    # HDS_TEN_001 judges only the data-boundary setting (scope.types): no finding here.
    f"/subscriptions/{PROD}/resourceGroups/health-data": {"HDS_RES_002": "pass"},
    TENANT_BOUNDARY: {"HDS_RES_002": "not_applicable", "HDS_TEN_001": "pass"},
    # the subscription answering 403, and the namespace not registered: unknown on their scope
    f"azure:{DENIED}": dict.fromkeys(POLICIES, "unknown"),
    f"azure:{PROD}/Microsoft.DataProtection": dict.fromkeys(POLICIES, "unknown"),
}


def _scan(runtime: AzureRuntime, tmp_path: Path, *args: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        main,
        ["scan", *args, "--format", "json", "--output", str(tmp_path)],
        obj=runtime,
        catch_exceptions=False,
    )
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    return result.exit_code, result.output, report


def _verdicts(report: dict) -> dict[str, dict[str, str]]:  # type: ignore[type-arg]
    """Verdicts of the residency, replication, encryption, key and tenant policies (the
    catalogue also grows in other categories, e.g. certified providers, judged elsewhere)."""
    verdicts: dict[str, dict[str, str]] = {}
    for finding in report["findings"]:
        if finding["policy_id"] not in POLICIES:
            continue
        verdicts.setdefault(finding["resource_id"], {})[finding["policy_id"]] = finding["status"]
    return verdicts


def test_planted_estate_gives_exactly_the_expected_findings(
    arm: tuple[ArmServer, str], runtime: AzureRuntime, tmp_path: Path
) -> None:
    server, _ = arm
    code, output, report = _scan(runtime, tmp_path, "--azure", "--quiet")
    assert _verdicts(report) == EXPECTED
    assert [(e["scope"], e["kind"]) for e in report["errors"]] == [
        (f"azure:{PROD}/Microsoft.DataProtection", "not_registered"),
        (f"azure:{DENIED}", "access_denied"),
    ]
    assert code == 2  # inputs (a subscription, a namespace) could not be read; the rest was
    assert "hds-denied" in output and "403" in output
    requests = server.requests()
    assert {r.method for r in requests} == {"GET"}
    assert all(r.authorized for r in requests)


def test_subscription_option_narrows_the_audit(
    arm: tuple[ArmServer, str], runtime: AzureRuntime, tmp_path: Path
) -> None:
    server, _ = arm
    code, _, report = _scan(runtime, tmp_path, "--azure-subscription", PROD, "--quiet")
    verdicts = _verdicts(report)
    assert f"azure:{DENIED}" not in verdicts
    assert verdicts[f"{ARM}/Microsoft.Compute/disks/vm-os"]["HDS_KEY_001"] == "fail"
    assert not any(DENIED in r.path for r in server.requests())
    assert code == 2  # the unregistered namespace is still an input error


def test_config_file_azure_section(
    arm: tuple[ArmServer, str], runtime: AzureRuntime, tmp_path: Path
) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(f"azure:\n  subscriptions: [{PROD}]\n  max_workers: 4\n", encoding="utf-8")
    _, _, report = _scan(runtime, tmp_path, "--config", str(config), "--quiet")
    assert f"azure:{DENIED}" not in _verdicts(report)
    assert f"{ARM}/Microsoft.Storage/storageAccounts/ukdata" in _verdicts(report)


def test_bad_azure_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text("azure:\n  cloud: mars\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2
    assert "azure.cloud must be one of public, china, usgov" in result.output


def test_no_credential_one_line_exit_2_before_any_request(
    arm: tuple[ArmServer, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca = arm
    # DefaultAzureCredential's developer chain (Azure CLI, azd, PowerShell, VS Code) with none
    # of their tools on PATH, and no environment credential.
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_USERNAME",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    runtime = AzureRuntime(cloud=loopback_cloud(server), connection_verify=ca)
    result = CliRunner().invoke(main, ["scan", "--azure", "--output", str(tmp_path)], obj=runtime)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("hds-audit: error: no Azure credential available")
    assert server.requests() == []
    assert not (tmp_path / "report.json").exists()


def test_permissions_azure_prints_exactly_the_read_actions() -> None:
    result = CliRunner().invoke(main, ["permissions", "azure", "--azure-subscription", PROD])
    assert result.exit_code == 0
    role = json.loads(result.output)
    assert role["Actions"] == azure_table().actions()
    assert all(action.endswith("/read") for action in role["Actions"])
    assert role["DataActions"] == [] and role["NotActions"] == []
    assert role["AssignableScopes"] == [f"/subscriptions/{PROD}"]
    assert role["IsCustom"] is True


def test_an_unreachable_resource_manager_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """Issue 13: nothing listens on the endpoint; the audit could not complete (exit 3)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"https://127.0.0.1:{port}"
    cloud = AzureCloud("loopback", endpoint, "login.invalid", f"{endpoint}/.default")
    runtime = AzureRuntime(credential=StaticCredential(), cloud=cloud, retry_total=0)
    result = CliRunner().invoke(
        main, ["scan", "--azure", "--output", str(tmp_path / "out")], obj=runtime
    )
    assert result.exit_code == 3, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith(
        f"hds-audit: error: Azure Resource Manager {endpoint} could not be reached "
        "(connection refused)"
    )
    assert not (tmp_path / "out" / "report.json").exists()


class _ScopeRecorder(StaticCredential):
    """The tests' identity, noting the scopes and authority tokens are asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return super().get_token(*scopes, **kwargs)


def test_azure_endpoint_url_audits_a_custom_resource_manager(
    arm: tuple[ArmServer, str], tmp_path: Path
) -> None:
    """Issue 13: --azure-endpoint-url (Azure Stack Hub, a private ARM), no cloud injected."""
    server, ca = arm
    credential = _ScopeRecorder()
    runtime = AzureRuntime(credential=credential, connection_verify=ca)  # no cloud: from URL
    code, _, report = _scan(runtime, tmp_path, "--azure-endpoint-url", server.url, "--quiet")
    assert code == 2  # the planted estate's 403 subscription and unregistered namespace
    assert f"{ARM}/Microsoft.Storage/storageAccounts/ukdata" in _verdicts(report)
    assert server.requests() and all(r.authorized for r in server.requests())
    assert set(credential.scopes) == {(f"{server.url}/.default",)}


def test_azure_endpoint_and_audience_from_hds_audit_yaml(
    arm: tuple[ArmServer, str], tmp_path: Path
) -> None:
    server, ca = arm
    audience = "https://management.adfs.azurestack.local/4f3e2d1c/.default"
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        f"azure:\n  endpoint_url: {server.url}/\n  authority_host: adfs.azurestack.local\n"
        f"  credential_scope: {audience}\n  subscriptions: [{PROD}]\n",
        encoding="utf-8",
    )
    credential = _ScopeRecorder()
    runtime = AzureRuntime(credential=credential, connection_verify=ca)
    _, _, report = _scan(runtime, tmp_path, "--config", str(config), "--quiet")
    assert f"{ARM}/Microsoft.Compute/disks/vm-os" in _verdicts(report)
    assert set(credential.scopes) == {(audience,)}


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("endpoint_url: ftp://arm.local", "azure.endpoint_url: 'ftp://arm.local' is not an http"),
        ("authority_host: login.local", "azure.authority_host needs azure.endpoint_url"),
    ],
)
def test_bad_custom_endpoint_settings_are_usage_errors(
    tmp_path: Path, section: str, problem: str
) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(f"azure:\n  {section}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2
    assert problem in result.output
