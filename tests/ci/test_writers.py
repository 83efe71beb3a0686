"""SARIF (validated against the official 2.1.0 schema), JUnit (parsed back), CSV (read back),
Markdown (fits a PR comment), all from the one report model."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
from conftest import (
    ENCRYPTED,
    ENCRYPTION_POLICY,
    HOSTILE,
    PLAIN,
    cloud_finding,
    read_json,
    scan,
    terraform_file,
    with_cloud,
)

from hds_audit.model import Evidence, Status
from hds_audit.reports.csv_report import COLUMNS, safe_cell, write_csv
from hds_audit.reports.json_report import schema_text, write_json
from hds_audit.reports.junit import write_junit
from hds_audit.reports.markdown import COMMENT_LIMIT, render_markdown, write_markdown
from hds_audit.reports.model import Report
from hds_audit.reports.sarif import SECURITY_SEVERITY, write_sarif
from hds_audit.waivers import parse_waivers

WAIVERS = """
waivers:
  - policy_id: HDS_ENC_001
    resource_id: aws_ebs_volume.plain
    reason: Scratch volume, no health data; re-created encrypted in Q1
    approved_by: Jeanne Martin (DPO)
    expires: 2027-03-31
"""


def _report(tmp_path: Path) -> Report:
    state = terraform_file(tmp_path, "prod.tfstate", [ENCRYPTED, PLAIN, HOSTILE])
    report = scan(state, waivers=parse_waivers(WAIVERS, "waivers.yaml"))
    return with_cloud(report)


# --------------------------------------------------------------------------- SARIF


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path, sarif_schema: Any) -> None:
    report = _report(tmp_path)
    document = read_json(write_sarif(report, tmp_path / "report.sarif"))
    jsonschema.validate(document, sarif_schema)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    enc = rules[ENCRYPTION_POLICY]
    assert enc["fullDescription"]["text"] and enc["help"]["text"] and enc["help"]["markdown"]
    assert (
        enc["properties"]["security-severity"]
        == SECURITY_SEVERITY[next(p for p in report.policies if p.id == ENCRYPTION_POLICY).severity]
    )
    assert enc["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    # Every listed result points at its rule by id and index.
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_locates_terraform_by_file_and_address_cloud_by_arn(tmp_path: Path) -> None:
    document = read_json(write_sarif(_report(tmp_path), tmp_path / "report.sarif"))
    results = document["runs"][0]["results"]
    plain = next(
        r
        for r in results
        if r["ruleId"] == ENCRYPTION_POLICY
        and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "aws_ebs_volume.plain"
    )
    location = plain["locations"][0]
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("prod.tfstate")
    cloud = next(r for r in results if r["ruleId"] == "HDS_RES_001" and "arn:" in json.dumps(r))
    logical = cloud["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "arn:aws:s3:::records-dr-us"
    assert "physicalLocation" not in cloud["locations"][0]
    assert cloud["kind"] == "fail" and cloud["level"] == "error"


def test_sarif_keeps_waived_visible_as_accepted_suppression(tmp_path: Path) -> None:
    document = read_json(write_sarif(_report(tmp_path), tmp_path / "report.sarif"))
    results = document["runs"][0]["results"]
    waived = [r for r in results if r["properties"]["status"] == "waived"]
    assert len(waived) == 1
    suppression = waived[0]["suppressions"][0]
    assert suppression["status"] == "accepted"
    assert "Jeanne Martin (DPO)" in suppression["justification"]
    unknown = [r for r in results if r["properties"]["status"] == "unknown"]
    assert unknown and all(r["kind"] == "open" and r["level"] == "none" for r in unknown)
    # fingerprints are unique and stable: policy | source kind | resource id
    prints = [r["partialFingerprints"]["hdsAuditFinding/v1"] for r in results]
    assert len(prints) == len(set(prints))
    assert f"{ENCRYPTION_POLICY}|terraform-state|aws_ebs_volume.plain" in prints


def test_sarif_carries_the_baseline_state(tmp_path: Path) -> None:
    from hds_audit.baseline import load_baseline

    state = terraform_file(tmp_path, "prod.tfstate", [ENCRYPTED, PLAIN])
    write_json(scan(state), tmp_path / "base.json")
    later = terraform_file(tmp_path, "prod.tfstate", [ENCRYPTED, PLAIN, HOSTILE])
    report = scan(later, baseline=load_baseline(tmp_path / "base.json"))
    results = read_json(write_sarif(report, tmp_path / "r.sarif"))["runs"][0]["results"]
    states = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r["baselineState"]
        for r in results
        if r["ruleId"] == ENCRYPTION_POLICY
    }
    assert states == {"aws_ebs_volume.plain": "unchanged", HOSTILE.address: "new"}


# --------------------------------------------------------------------------- JUnit


def test_junit_parses_back_one_case_per_policy_and_resource(tmp_path: Path) -> None:
    report = _report(tmp_path)
    root = ET.parse(write_junit(report, tmp_path / "report.junit.xml")).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.findings) == int(root.get("tests", "0"))
    counts = Counter(f.status for f in report.findings)
    failures = root.findall(".//testcase/failure")
    assert len(failures) == counts[Status.FAIL] + counts[Status.UNKNOWN]
    assert int(root.get("failures", "0")) == len(failures)
    skipped = [c for c in cases if c.find("skipped") is not None]
    waived = [c for c in skipped if "waived" in c.find("skipped").get("message", "")]  # type: ignore[union-attr]
    assert [c.get("name") for c in waived] == ["aws_ebs_volume.plain"]
    hostile = [c for c in cases if c.get("name") == HOSTILE.address]
    assert hostile and hostile[0].get("classname", "").startswith("HDS_")
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests", "0")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "0")) == len(suite.findall("testcase/failure"))


def test_junit_survives_characters_xml_cannot_carry(tmp_path: Path) -> None:
    finding = cloud_finding()
    odd = finding._replace(
        resource=replace(finding.resource, id="arn:aws:s3:::a\x01b\x1fc"),
        evidence=(Evidence("name", "nul\x00byte"),),
    )
    report = replace(_report(tmp_path), findings=[odd], resources=[odd.resource])
    root = ET.parse(write_junit(report, tmp_path / "j.xml")).getroot()
    case = root.find("./testsuite/testcase")
    assert case is not None and case.get("name", "").startswith("arn:aws:s3:::a")


# --------------------------------------------------------------------------- CSV


def test_csv_reads_back_every_finding(tmp_path: Path) -> None:
    report = _report(tmp_path)
    with write_csv(report, tmp_path / "report.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(report.findings)
    assert Counter(r["status"] for r in rows) == Counter(f.status.value for f in report.findings)
    waived = [r for r in rows if r["status"] == "waived"]
    assert waived[0]["resource_id"] == "aws_ebs_volume.plain"
    assert "Jeanne Martin" in waived[0]["reason"]
    hostile = [r for r in rows if r["resource_id"] == HOSTILE.address]
    assert hostile, "a quote, a pipe and markup survive CSV quoting"


def test_csv_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("aws_s3_bucket.x") == "aws_s3_bucket.x"
    finding = cloud_finding()
    evil = finding._replace(resource=replace(finding.resource, id="=cmd|' /C calc'!A0"))
    report = replace(_report(tmp_path), findings=[evil])
    with write_csv(report, tmp_path / "e.csv").open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["resource_id"] == "'=cmd|' /C calc'!A0"


# --------------------------------------------------------------------------- Markdown


def test_markdown_summary_has_counts_top_failures_and_link(tmp_path: Path) -> None:
    report = _report(tmp_path)
    text = write_markdown(report, tmp_path / "report.md", "https://ci.example/report.html")
    body = text.read_text(encoding="utf-8")
    assert body.startswith("## ✗ hds-audit:")
    assert "### Top failures" in body
    assert "[Full HTML report](https://ci.example/report.html)" in body
    assert "Waived findings (1)" in body, "waived stays visible"
    # hostile markup and pipes are inert
    assert "<b>" not in body and "\\<b\\>" in body
    assert "=cmd\\|" in body
    for line in body.splitlines():
        if line.startswith("| "):
            assert line.count(" | ") + 2 == line.count("|") - line.count("\\|"), line


def test_markdown_fits_a_pull_request_comment(tmp_path: Path) -> None:
    report = _report(tmp_path)
    template = next(f for f in report.findings if f.status is Status.FAIL)
    many = [
        template._replace(resource=replace(template.resource, id=f"module.m{i}.{'x' * 150}"))
        for i in range(3000)
    ]
    big = replace(report, findings=many)
    text = render_markdown(big, top=3000)
    assert len(text) <= COMMENT_LIMIT
    assert "truncated to fit in a pull-request comment" in text
    small = render_markdown(big, top=3000, max_chars=4000)
    assert len(small) <= 4000 and "truncated" in small
    assert "truncated" not in render_markdown(report)


# --------------------------------------------------------------------------- JSON 1.1


def test_json_report_1_1_validates_and_keeps_waived(tmp_path: Path) -> None:
    report = _report(tmp_path)
    data = read_json(write_json(report, tmp_path / "report.json"))
    jsonschema.validate(data, json.loads(schema_text()))
    major, minor = map(int, data["schema_version"].split("."))
    assert major == 1 and minor >= 1
    statuses = Counter(f["status"] for f in data["findings"])
    assert statuses["waived"] == 1
    assert {f["source_kind"] for f in data["findings"]} == {
        "terraform-state",
        "aws-api",
        "registry",
    }
    hosts = [f for f in data["findings"] if f.get("subject") == "host"]
    assert hosts and all(f["source_kind"] == "registry" for f in hosts)
    assert all(f["covers"]["count"] == len(f["covers"]["resource_ids"]) > 0 for f in hosts)
    assert data["waivers"]["waived"] == 1 and data["waivers"]["stale"] == []
    assert data["baseline"] is None and data["fixed"] == []


def test_waiver_expiry_uses_the_run_clock(tmp_path: Path) -> None:
    state = terraform_file(tmp_path, "prod.tfstate", [PLAIN])
    waivers = parse_waivers(WAIVERS, "waivers.yaml")
    from datetime import UTC, datetime
    from datetime import time as dtime

    before = datetime.combine(date(2027, 3, 31), dtime(23, 0), tzinfo=UTC)
    after = datetime.combine(date(2027, 4, 1), dtime(0, 30), tzinfo=UTC)
    assert scan(state, waivers=waivers, now=before).by_status["waived"] == 1
    late = scan(state, waivers=waivers, now=after)
    assert late.by_status["waived"] == 0
    assert late.waivers is not None and [w.line for w, _ in late.waivers.expired] == [3]
