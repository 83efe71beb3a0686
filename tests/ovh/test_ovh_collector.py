"""The OVHcloud collector: the real ``ovh`` SDK against the loopback OVH API."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ovh_server import OvhServer, planted, serve

from hds_audit.collectors.ovh import OvhCollector, ovh_table
from hds_audit.collectors.ovh.collect import ReadOnlyViolation, read_only_client
from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.i18n import Msg, messages
from hds_audit.model import Resource
from hds_audit.reports.json_report import schema_text
from hds_audit.testing import run_cli

GEO = GeoTables.default()


def verdicts(resources: list[Resource]) -> dict[tuple[str, str], str]:
    """(resource id's last part, policy id) -> status, in an EU-only area."""
    return {
        (f.resource.id.rsplit("/", 1)[-1], f.policy.id): f.status.value
        for f in evaluate(builtin_policies(), resources, AllowedArea.parse("eu"))
        if f.resource is not None
    }


def test_projects_regions_and_services_read_with_one_denied_project_and_one_failing_region(
    ovh_api: OvhServer,
) -> None:
    collector = OvhCollector(endpoint_url=ovh_api.url)
    collector.preflight()
    collection = collector.collect(GEO)
    by_id = {r.id.rsplit("/", 1)[-1]: r for r in collection.resources}
    assert sorted(by_id) == [
        "db-1",
        "exports",
        "i-1",
        "kube-bhs",
        "kube-gra",
        "ns1.ip-10-0-0.eu",
        "ns2.ip-10-0-1.net",
        "ns3.ip-10-0-2.eu",
        "reg-1",
        "scans",
        "vol-bhs",
        "vol-gra",
    ]
    # Both OVH region schemes: GRA11 (legacy) and the database's GRA, BHS.
    assert by_id["vol-gra"].location.region == "eu-west-gra"
    assert by_id["vol-bhs"].location.country == "CA"
    assert by_id["db-1"].location.region == "eu-west-gra"
    assert [(r.kind, r.location.region) for r in by_id["db-1"].replicas or ()] == [
        ("backup", "ca-east-bhs")
    ]
    assert by_id["scans"].encryption is not None and by_id["scans"].encryption.at_rest is True
    assert by_id["exports"].encryption is not None
    assert by_id["exports"].encryption.at_rest is False
    errors = {e.scope: e.kind for e in collection.errors}
    assert errors == {"ovh:p-denied": "access_denied", "ovh:p-records/WAW1": "http"}
    assert {s.path: s.resources for s in collection.sources} == {
        "ovh:account": 3,
        "ovh:p-denied": 0,
        "ovh:p-records": 9,
    }
    assert all(method == "GET" for method, _ in ovh_api.requests)


def test_verdicts_on_live_ovh_resources(ovh_api: OvhServer) -> None:
    collector = OvhCollector(endpoint_url=ovh_api.url, projects=("p-records",))
    collector.preflight()
    resources = collector.collect(GEO).resources
    findings = verdicts(resources)
    assert findings[("scans", "HDS_ENC_001")] == "pass"
    assert findings[("exports", "HDS_ENC_001")] == "fail"
    assert findings[("vol-gra", "HDS_ENC_001")] == "unknown"
    assert findings[("vol-bhs", "HDS_RES_001")] == "fail"
    assert findings[("db-1", "HDS_REP_001")] == "fail"  # backups pushed to Canada


def test_kubernetes_registries_and_dedicated_servers_located_and_judged(ovh_api: OvhServer) -> None:
    collector = OvhCollector(endpoint_url=ovh_api.url)
    collector.preflight()
    resources = collector.collect(GEO).resources
    by_id = {r.id.rsplit("/", 1)[-1]: r for r in resources}
    # Ids listed, then each object read; a dedicated server's datacenter is its region.
    assert by_id["kube-gra"].type == "ovh_cloud_project_kube"
    assert by_id["kube-gra"].location.region == "eu-west-gra"
    assert by_id["ns1.ip-10-0-0.eu"].id == "ovh:account/dedicated_server/ns1.ip-10-0-0.eu"
    assert by_id["ns1.ip-10-0-0.eu"].location.region == "eu-west-gra"
    assert by_id["ns2.ip-10-0-1.net"].location.country == "CA"
    assert by_id["reg-1"].unknowns["encryption.at_rest"] == Msg("collect.ovh.registry_at_rest")
    # Compute is judged by HDS_RES_002 (where it runs), data by HDS_RES_001 and HDS_ENC_001.
    expected = {
        ("kube-gra", "HDS_RES_002"): "pass",
        ("kube-bhs", "HDS_RES_002"): "fail",
        ("reg-1", "HDS_RES_001"): "pass",
        ("reg-1", "HDS_ENC_001"): "unknown",
        ("ns1.ip-10-0-0.eu", "HDS_RES_002"): "pass",
        ("ns2.ip-10-0-1.net", "HDS_RES_002"): "fail",
        ("ns3.ip-10-0-2.eu", "HDS_RES_002"): "unknown",  # no datacenter
    }
    findings = verdicts(resources)
    assert {key: findings.get(key) for key in expected} == expected
    reads = [path for _, path in ovh_api.requests]
    assert "/dedicated/server/ns2.ip-10-0-1.net" in reads
    assert "/cloud/project/p-records/kube/kube-bhs" in reads


def test_dedicated_servers_denied_is_an_error_while_projects_are_audited() -> None:
    estate = planted()
    estate.denied.add("/dedicated/server")
    with serve(estate) as api:
        collector = OvhCollector(endpoint_url=api.url)
        collector.preflight()
        collection = collector.collect(GEO)
    errors = {e.scope: e.kind for e in collection.errors}
    assert errors["ovh:account/dedicated_server"] == "access_denied"
    assert not any(r.type == "ovh_dedicated_server" for r in collection.resources)
    assert any(r.type == "ovh_cloud_project_kube" for r in collection.resources)


def test_dedicated_servers_not_read_when_the_scan_names_its_projects(ovh_api: OvhServer) -> None:
    collector = OvhCollector(endpoint_url=ovh_api.url, projects=("p-records",))
    collector.preflight()
    collection = collector.collect(GEO)
    assert [s.path for s in collection.sources] == ["ovh:p-records"]
    assert not any(path.startswith("/dedicated") for _, path in ovh_api.requests)


def test_every_reason_of_the_services_table_is_a_catalogue_key() -> None:
    table = ovh_table()
    keys = [s.at_rest_unknown for s in (*table.services, *table.account_services)]
    assert [k for k in keys if k and k not in messages("en")] == []
    assert len([k for k in keys if k]) == 5


def test_the_client_refuses_anything_but_get_before_sending(ovh_api: OvhServer) -> None:
    client = read_only_client(ovh_api.url)
    with pytest.raises(ReadOnlyViolation):
        client.post("/cloud/project/p-records/volume", size=10)
    with pytest.raises(ReadOnlyViolation):
        client.delete("/cloud/project/p-records/volume/vol-gra")
    assert ovh_api.requests == []  # nothing reached the server, not even /auth/time


def test_scan_ovh_end_to_end(ovh_api: OvhServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["scan", "--ovh-endpoint-url", ovh_api.url, "-o", str(out), "--no-history"])
    # A denied project and a failing region: audited as far as read, exit 2, reports written.
    assert result.exit_code == 2, result.output
    assert "ovh:p-denied: access denied (NotGrantedCall)" in result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(schema_text()))
    kinds = {f["source_kind"] for f in data["findings"] if f.get("subject") != "host"}
    assert kinds == {"ovh-api"}
    assert {e["scope"] for e in data["errors"]} == {"ovh:p-denied", "ovh:p-records/WAW1"}


def test_missing_credentials_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        monkeypatch.delenv(name)
    result = run_cli(["scan", "--ovh", "-o", str(tmp_path / "out"), "--no-history"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "OVHcloud: no API credentials" in lines[0]
    assert "Traceback" not in result.output
    monkeypatch.delenv("OVH_ENDPOINT")
    result = run_cli(["scan", "--ovh", "-o", str(tmp_path / "out"), "--no-history"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "OVHcloud: no API endpoint (set OVH_ENDPOINT" in lines[0]
    assert "; no API credentials" in lines[0]
    assert not (tmp_path / "out").exists()  # stopped before any scan


def test_permissions_ovh_are_get_rules_on_the_paths_read() -> None:
    result = run_cli(["permissions", "ovh"])
    assert result.exit_code == 0
    rules = json.loads(result.output)["accessRules"]
    assert {r["method"] for r in rules} == {"GET"}
    assert {"method": "GET", "path": "/cloud/project/*/region/*/storage"} in rules
    assert {"method": "GET", "path": "/cloud/project"} in rules
    assert {"method": "GET", "path": "/cloud/project/*/kube/*"} in rules
    assert {"method": "GET", "path": "/cloud/project/*/containerRegistry"} in rules
    assert {"method": "GET", "path": "/dedicated/server"} in rules
    assert {"method": "GET", "path": "/dedicated/server/*"} in rules


def test_tasks_and_their_results_travel_to_other_processes(ovh_api: OvhServer) -> None:
    import pickle

    from hds_audit.collectors.ovh.collect import OvhEnvSpec, ReadProject

    spec = OvhEnvSpec(ovh_api.url)
    assert pickle.loads(pickle.dumps(spec)) == spec
    env = spec.build()  # what a worker builds: its own client, from its own environment
    listed = ReadProject("p-records").run(env)
    again = pickle.loads(pickle.dumps(listed))
    assert again.items is not None and len(again.items) == 9
    assert set(again.region_failures) == {"WAW1"}


def test_ovh_section_of_the_configuration_file(ovh_api: OvhServer, tmp_path: Path) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        f"ovh:\n  projects: [p-records]\n  endpoint_url: {ovh_api.url}\n"
        "output: out\nhistory: false\n",
        encoding="utf-8",
    )
    result = run_cli(["scan", "--config", str(config)])
    assert result.exit_code == 2, result.output  # the failing region
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in data["run"]["sources"]] == ["ovh:p-records"]  # not the denied one
    config.write_text("ovh: {project: [p-records]}\n", encoding="utf-8")
    bad = run_cli(["scan", "--config", str(config)])
    assert bad.exit_code == 2
    assert "unknown ovh setting project; known: enabled, endpoint_url, projects" in bad.output
