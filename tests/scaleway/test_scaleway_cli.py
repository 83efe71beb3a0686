"""End to end through the CLI: ``hds-audit scan --scaleway`` against the loopback Scaleway API
and moto's S3 server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from api_server import ScalewayApiServer
from scw_estates import ALPHA, BETA, FAILING_ZONE, GAMMA, ORG

from hds_audit.collectors.scaleway import scaleway_table
from hds_audit.reports.json_report import schema_text
from hds_audit.testing import run_cli


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(schema_text()))
    return report


def _args(api: ScalewayApiServer, s3_url: str, out: Path) -> list[str]:
    return [
        "scan",
        "--scaleway-api-url",
        api.url,
        "--scaleway-s3-endpoint-url",
        s3_url,
        "--format",
        "json",
        "--output",
        str(out),
        "--no-history",
    ]


def test_scan_the_organisation_on_the_loopback_api(
    api: ScalewayApiServer, s3_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(_args(api, s3_url, out))
    # a denied project and a failing zone: exit 2, the rest audited and reported
    assert result.exit_code == 2, result.output + result.stderr
    assert f"scaleway:{BETA}: access denied (HTTP 403)" in result.stderr
    report = _report(out)
    assert report["schema_version"] == "1.7"
    assert {r["provider"] for r in report["resources"]} == {"scaleway"}
    assert {r["source"]["kind"] for r in report["resources"]} == {"scaleway-api"}
    assert {e["scope"] for e in report["errors"]} == {
        f"scaleway:{BETA}",
        f"scaleway:{ALPHA}/{FAILING_ZONE}",
        f"scaleway:{GAMMA}/{FAILING_ZONE}",
    }
    for scope in (f"scaleway:{BETA}", f"scaleway:{ALPHA}/{FAILING_ZONE}"):
        hidden = [f for f in report["findings"] if f["resource_id"] == scope]
        assert hidden and {f["status"] for f in hidden} == {"unknown"}
    statuses = {(f["resource_id"], f["policy_id"]): f["status"] for f in report["findings"]}
    assert statuses[("scaleway:s3/nl-ams/fail-ams-plain", "HDS_ENC_001")] == "fail"
    assert f"scaleway {GAMMA}: 2 resources; not read: {FAILING_ZONE}" in result.stderr
    assert f"scaleway {BETA}: not audited (access_denied): access denied (HTTP 403)" in (
        result.stderr
    )
    assert f"scaleway:{ALPHA}/{FAILING_ZONE}: HTTP 503" in result.stderr


def test_scan_reads_the_scaleway_section_of_the_config(
    api: ScalewayApiServer, s3_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "hds-audit.yaml"
    section = {
        "projects": [GAMMA],
        "regions": ["pl-waw"],
        "api_url": api.url,
        "s3_endpoint_url": s3_url,
    }
    config.write_text(yaml.safe_dump({"scaleway": section, "history": False}), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        ["scan", "--config", str(config), "--format", "json", "--output", str(out), "--quiet"]
    )
    assert result.exit_code in (0, 1), result.output + result.stderr
    report = _report(out)
    assert report["errors"] == []
    assert {r["name"] for r in report["resources"]} == {"waw-app", "waw_db"}
    assert {r["region"] for r in report["resources"]} == {"pl-waw"}
    assert {r.path for r in api.requests()} >= {"/rdb/v1/regions/pl-waw/instances"}
    assert not [r for r in api.requests() if "fr-par" in r.path or "nl-ams" in r.path]


def test_no_credentials_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCW_ACCESS_KEY")
    monkeypatch.delenv("SCW_SECRET_KEY")
    result = run_cli(["scan", "--scaleway", "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SCW_ACCESS_KEY and SCW_SECRET_KEY not set" in lines[0] and "scw init" in lines[0]


def test_bad_scaleway_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for section, problem in (
        ({"colour": "blue"}, "unknown scaleway setting colour"),
        ({"projects": ["alpha"]}, "'alpha' is not a Scaleway id"),
        ({"regions": ["Paris"]}, "'Paris' is not a Scaleway region"),
        ({"regions": ["de-fra"]}, "region 'de-fra' is not in the Scaleway region table"),
        ({"api_url": "ftp://x"}, "is not an http:// or https:// URL"),
        ({"max_workers": 0}, "scaleway.max_workers"),
    ):
        config = tmp_path / "hds-audit.yaml"
        config.write_text(yaml.safe_dump({"scaleway": section}), encoding="utf-8")
        result = run_cli(["scan", "--config", str(config), "--output", str(tmp_path / "o")])
        assert result.exit_code == 2, section
        assert problem in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = run_cli(["scan", "--scaleway-project", "nope"])
    assert result.exit_code == 2 and "'nope' is not a Scaleway id" in result.stderr


def test_permissions_scaleway_prints_the_policy_of_the_table() -> None:
    result = run_cli(["permissions", "scaleway", "--scaleway-organization", ORG])
    assert result.exit_code == 0, result.stderr
    policy = json.loads(result.stdout)
    table = scaleway_table()
    sets = [s for rule in policy["rules"] for s in rule["permission_set_names"]]
    expected = {c.permission_set for c in table.services.values()}
    expected |= {table.discovery.permission_set, table.buckets.permission_set}
    assert sorted(sets) == sorted(expected)
    assert all(s.endswith("ReadOnly") for s in sets)
    assert {rule["organization_id"] for rule in policy["rules"]} == {ORG}


def test_shards_merge_into_the_unsharded_scan(
    api: ScalewayApiServer, s3_url: str, tmp_path: Path
) -> None:
    common = ["--quiet", "--audit-date", "2026-12-01"]
    whole = tmp_path / "whole"
    assert run_cli([*_args(api, s3_url, whole), *common]).exit_code == 2
    parts = [tmp_path / f"shard{i}" for i in (1, 2)]
    for i, part in enumerate(parts, 1):
        run_cli([*_args(api, s3_url, part), *common, "--shard", f"{i}/2"])
    merged = tmp_path / "merged"
    result = run_cli(["merge", *map(str, parts), "--format", "json", "--output", str(merged)])
    assert result.exit_code == 2, result.output + result.stderr
    one, many = _report(whole), _report(merged)
    for section in ("resources", "findings", "errors", "summary"):
        assert many[section] == one[section], section
    assert len(one["errors"]) == 3
