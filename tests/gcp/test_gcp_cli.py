"""End to end through the CLI: ``hds-audit scan --gcp`` against the loopback Cloud Asset API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from asset_server import AssetServer
from gcp_estates import ALPHA, BETA, GAMMA, ORG

from hds_audit.collectors.gcp import gcp_table
from hds_audit.reports.json_report import schema_text
from hds_audit.testing import run_cli


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(schema_text()))
    return report


def test_scan_org_scope_on_the_loopback_api(asset: AssetServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        [
            "scan",
            "--gcp-scope",
            ORG,
            "--gcp-endpoint-url",
            asset.url,
            "--format",
            "json",
            "--output",
            str(out),
            "--no-history",
        ]
    )
    # two projects could not be read: exit 2, the rest audited and reported
    assert result.exit_code == 2, result.output + result.stderr
    assert f"gcp:{BETA}: access denied (HTTP 403" in result.stderr
    report = _report(out)
    assert report["resources"] and {r["provider"] for r in report["resources"]} == {"gcp"}
    assert {r["source"]["kind"] for r in report["resources"]} == {"gcp-api"}
    assert {s["identity"] for s in report["run"]["sources"]} == {"anonymous"}
    assert {e["scope"] for e in report["errors"]} == {f"gcp:{BETA}", f"gcp:{GAMMA}"}
    hidden = [f for f in report["findings"] if f["resource_id"] == f"gcp:{BETA}"]
    assert hidden and {f["status"] for f in hidden} == {"unknown"}
    assert f"gcp {ALPHA}: 8 resources" in result.stderr
    assert f"gcp {BETA}: not audited (access_denied)" in result.stderr


def test_scan_reads_the_gcp_section_of_the_config(asset: AssetServer, tmp_path: Path) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        yaml.safe_dump({"gcp": {"scopes": [ALPHA], "endpoint_url": asset.url}, "history": False}),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_cli(
        ["scan", "--config", str(config), "--format", "json", "--output", str(out), "--quiet"]
    )
    assert result.exit_code == 1, result.output + result.stderr
    report = _report(out)
    assert report["errors"] == []
    assert {r["source"]["account"] for r in report["resources"]} == {ALPHA}


def test_no_credentials_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli(["scan", "--gcp", "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "gcloud auth application-default login" in lines[0]
    assert "GOOGLE_APPLICATION_CREDENTIALS" in lines[0]


def test_bad_scope_is_one_line_and_exit_2() -> None:
    result = run_cli(["scan", "--gcp-scope", "billingAccounts/1"])
    assert result.exit_code == 2
    assert "billingAccounts/1" in result.stderr and "Traceback" not in result.stderr


def test_permissions_gcp_prints_the_role_of_the_table() -> None:
    result = run_cli(["permissions", "gcp"])
    assert result.exit_code == 0
    role = yaml.safe_load(result.stdout)
    expected = sorted({p for call in gcp_table().calls.values() for p in call.permissions})
    assert role["includedPermissions"] == expected == ["cloudasset.assets.searchAllResources"]
    assert role["stage"] == "GA"


def test_shards_merge_into_the_unsharded_scan(asset: AssetServer, tmp_path: Path) -> None:
    common = ["--gcp-scope", ORG, "--gcp-endpoint-url", asset.url, "--format", "json"]
    common += ["--no-history", "--quiet", "--audit-date", "2026-12-01"]
    whole = tmp_path / "whole"
    assert run_cli(["scan", *common, "--output", str(whole)]).exit_code == 2
    parts = [tmp_path / f"shard{i}" for i in (1, 2)]
    for i, part in enumerate(parts, 1):
        run_cli(["scan", *common, "--shard", f"{i}/2", "--output", str(part)])
    merged = tmp_path / "merged"
    result = run_cli(["merge", *map(str, parts), "--format", "json", "--output", str(merged)])
    assert result.exit_code == 2, result.output + result.stderr
    one, many = _report(whole), _report(merged)
    for section in ("resources", "findings", "errors", "summary"):
        assert many[section] == one[section], section
    assert len(one["errors"]) == 2


def test_bad_gcp_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for section, problem in (
        ({"colour": "blue"}, "unknown gcp setting colour"),
        ({"scopes": ["billingAccounts/1"]}, "'billingAccounts/1' is not a scope"),
        ({"endpoint_url": "ftp://x"}, "is not an http:// or https:// URL"),
        ({"max_workers": 0}, "gcp.max_workers"),
    ):
        config = tmp_path / "hds-audit.yaml"
        config.write_text(yaml.safe_dump({"gcp": section}), encoding="utf-8")
        result = run_cli(["scan", "--config", str(config)])
        assert result.exit_code == 2, section
        assert problem in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_default_scope_is_the_project_of_the_environment(
    asset: AssetServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["scan", "--gcp-endpoint-url", asset.url, "--format", "json", "--no-history"]
    result = run_cli([*args, "--output", str(tmp_path / "none")])
    assert result.exit_code == 2 and "give --gcp-scope" in result.stderr
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "alpha-hds")
    out = tmp_path / "out"
    result = run_cli([*args, "--output", str(out), "--quiet"])
    assert result.exit_code == 1, result.stderr
    assert {s["path"] for s in _report(out)["run"]["sources"]} == {"gcp:projects/alpha-hds"}


def test_an_organisation_that_answers_403_is_an_error_on_its_scope(
    asset: AssetServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["scan", "--gcp-scope", "organizations/999", "--gcp-scope", ALPHA]
    args += ["--gcp-endpoint-url", asset.url, "--format", "json", "--no-history", "--quiet"]
    result = run_cli([*args, "--output", str(out)])
    assert result.exit_code == 2
    report = _report(out)
    assert [(e["scope"], e["kind"]) for e in report["errors"]] == [
        ("gcp:organizations/999", "access_denied")
    ]
    assert report["resources"]  # the project given beside it is still audited
