"""``hds-audit merge``: shards of one run become the report an unsharded run writes."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result
from merge_helpers import (
    ALL_FILES,
    AUDIT_DATE,
    COMPLIANT_PLAN,
    FIXTURES,
    RECORDS_PLAN,
    RECORDS_STATE,
    ROOT,
    TRUNCATED,
    edit,
    read,
    scan,
    shard_dirs,
    tenant_resource,
    with_tenant,
    write,
)

from hds_audit.cli import main
from hds_audit.engine import builtin_policies, load_policy_text, policy_set_digest
from hds_audit.errors import UsageError
from hds_audit.merge import merge_reports
from hds_audit.model import CollectionError
from hds_audit.reports.json_report import schema_text, write_json
from hds_audit.sharding import Shard
from hds_audit.testing import run_cli

SCHEMA = json.loads(schema_text())
# Everything a report says about the estate (run facts such as times differ by nature).
ESTATE = ("resources", "findings", "errors", "summary", "policies", "compliance")


def _merge(*args: str | Path) -> Result:
    return run_cli(["merge", *map(str, args)])


def test_three_shards_equal_one_unsharded_run(tmp_path: Path) -> None:
    dirs = shard_dirs(tmp_path)
    whole = read(write(scan(ALL_FILES), tmp_path / "whole") / "report.json")
    merged = merge_reports(dirs)
    data = read(write_json(merged, tmp_path / "merged.json"))
    for section in ESTATE:  # same content, same order
        assert data[section] == whole[section], section
    assert data["errors"] and data["summary"]["by_status"]["fail"]  # something to compare
    # Host-level verdicts: one per host scope, covering what every shard judged.
    shard_covers = [
        {
            i
            for f in read(d / "report.json")["findings"]
            if "covers" in f
            for i in f["covers"]["resource_ids"]
        }
        for d in dirs
    ]
    merged_covers = {
        i for f in data["findings"] if "covers" in f for i in f["covers"]["resource_ids"]
    }
    assert sum(1 for c in shard_covers if c) >= 2 and merged_covers == set().union(*shard_covers)
    run = data["run"]
    assert run["sources"] == whole["run"]["sources"]
    assert run["policy_set"] == whole["run"]["policy_set"]
    assert run["allowed_area"] == whole["run"]["allowed_area"]
    assert run["audit_date"] == whole["run"]["audit_date"] == AUDIT_DATE.isoformat()
    assert run["shard"] is None
    shards = [read(d / "report.json")["run"] for d in dirs]
    assert run["started_at"] == shards[0]["started_at"]  # earliest
    assert run["finished_at"] == shards[-1]["finished_at"]  # latest
    assert [m["shard"] for m in run["merged_from"]] == [{"index": i, "count": 3} for i in (1, 2, 3)]
    assert [m["path"] for m in run["merged_from"]] == [str(d / "report.json") for d in dirs]
    assert merged.exit_code == 2  # the unreadable file: same rules as scan


def test_the_order_shards_are_given_in_does_not_matter(tmp_path: Path) -> None:
    dirs = shard_dirs(tmp_path)
    forward = read(write_json(merge_reports(dirs), tmp_path / "a.json"))
    backward = read(write_json(merge_reports(dirs[::-1]), tmp_path / "b.json"))
    for section in ESTATE:
        assert forward[section] == backward[section]
    assert forward["run"]["merged_from"] == backward["run"]["merged_from"]


def test_what_two_shards_both_read_is_kept_once(tmp_path: Path) -> None:
    """The same file in two shards: its resources, findings, error and source once."""
    dirs = shard_dirs(tmp_path, [(COMPLIANT_PLAN, TRUNCATED), (COMPLIANT_PLAN, TRUNCATED)])
    whole = read(write(scan([TRUNCATED, COMPLIANT_PLAN]), tmp_path / "whole") / "report.json")
    data = read(write_json(merge_reports(dirs), tmp_path / "merged.json"))
    for section in ESTATE:
        assert data[section] == whole[section], section
    assert data["run"]["sources"] == whole["run"]["sources"]
    assert len(data["errors"]) == 1


def test_a_tenant_resource_and_an_identical_error_are_kept_once(tmp_path: Path) -> None:
    denied = CollectionError(
        "azure:tenant/t-1", "azure:tenant/t-1/dataBoundaries", "403 Forbidden", kind="access"
    )
    other = CollectionError("azure:tenant/t-1", "azure:tenant/t-1/x", "429 Too Many Requests")
    one = with_tenant(scan([RECORDS_STATE], shard=Shard(1, 2)), denied)
    two = with_tenant(scan([RECORDS_PLAN], shard=Shard(2, 2)), denied)
    two.errors = [*two.errors, other]
    merged = merge_reports([write(one, tmp_path / "1"), write(two, tmp_path / "2")])
    tenant = tenant_resource().id
    assert [r.id for r in merged.resources].count(tenant) == 1
    assert [f.resource.id for f in merged.findings].count(tenant) == 1
    assert [(e.scope, e.message) for e in merged.errors] == [
        (denied.scope, denied.message),
        (other.scope, other.message),
    ]
    assert merged.resources[-1].id == tenant  # Azure after Terraform, as a scan lists them
    assert len(merged.resources) == len(one.resources) + len(two.resources) - 1


def test_the_merged_report_validates_against_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _merge(*shard_dirs(tmp_path), "-o", out, "--format", "json")
    assert result.exit_code == 2, result.output  # the unreadable file of shard 3
    data = read(out / "report.json")
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == "1.7"
    assert re.fullmatch(r"[0-9a-f]{64}", data["run"]["policy_set"]["digest"])
    broken = dict(data, run={**data["run"], "shard": {"index": 0, "count": 2}})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_merge_writes_every_format_and_gates_like_scan(tmp_path: Path) -> None:
    dirs = shard_dirs(tmp_path, [(COMPLIANT_PLAN,), (RECORDS_PLAN,)])
    out = tmp_path / "out"
    formats = "json,html,sarif,junit,csv,markdown"
    result = _merge(*dirs, "-o", out, "--format", formats, "--lang", "en")
    assert result.exit_code == 1, result.output  # planted violations, no input error
    names = ("report.json", "report.html", "report.sarif", "report.junit.xml", "report.csv")
    for name in (*names, "report.md"):
        assert (out / name).stat().st_size > 0, name
    assert "Merged 2 report(s) (shards 1/2, 2/2)." in result.stdout
    assert "Exit 1:" in result.stdout
    assert '<html lang="en">' in (out / "report.html").read_text(encoding="utf-8")
    sarif = read(out / "report.sarif")
    assert sarif["runs"][0]["results"]
    csv_rows = (out / "report.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) == 1 + len(read(out / "report.json")["findings"])
    quiet = _merge(*dirs, "-o", out, "--format", "json", "--fail-on", "none", "-q")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert read(out / "report.json")["summary"]["gate"]["fail_on"] == "none"


def test_the_gate_defaults_to_the_shards_gate(tmp_path: Path) -> None:
    dirs = shard_dirs(tmp_path, [(COMPLIANT_PLAN,), (RECORDS_PLAN,)])
    for folder in dirs:
        edit(folder, lambda d: d["summary"]["gate"].update(fail_on="none"))
    out = tmp_path / "out"
    assert _merge(*dirs, "-o", out, "--format", "json").exit_code == 0
    assert _merge(*dirs, "-o", out, "--format", "json", "--fail-on", "low").exit_code == 1


@pytest.mark.browser
def test_merge_prints_the_pdf(tmp_path: Path) -> None:
    if shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists():
        if os.environ.get("HDS_AUDIT_SKIP_BROWSER") == "1":
            pytest.skip("chromium is not installed and HDS_AUDIT_SKIP_BROWSER=1")
        pytest.fail("--format pdf needs chromium (apt-get install chromium)")
    out = tmp_path / "out"
    dirs = shard_dirs(tmp_path, [(COMPLIANT_PLAN,)])
    result = _merge(*dirs, "-o", out, "--format", "pdf", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_audit_date_option_recomputes_the_compliance_views(tmp_path: Path) -> None:
    dirs = shard_dirs(tmp_path, [(COMPLIANT_PLAN,), (RECORDS_PLAN,)])
    attestations = str(FIXTURES / "attestations.yaml")
    out = tmp_path / "out"
    args = ("-o", out, "--format", "json", "--attestations", attestations)
    _merge(*dirs, *args)
    shards_day = read(out / "report.json")
    _merge(*dirs, *args, "--audit-date", "2028-01-01")
    later = read(out / "report.json")
    assert shards_day["compliance"]["audit_date"] == "2026-11-29"
    assert later["compliance"]["audit_date"] == later["run"]["audit_date"] == "2028-01-01"
    # the attestations of 2026 have expired by 2028: more is owed
    assert len(later["compliance"]["owed"]) > len(shards_day["compliance"]["owed"])
    assert later["findings"] == shards_day["findings"]  # verdicts are the shards'
    bad = _merge(*dirs, "-o", out, "--audit-date", "tomorrow")
    assert bad.exit_code == 2 and "--audit-date" in bad.stderr


# -- refusals ---------------------------------------------------------------------------------


def _refused(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hds-audit: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _two(tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> list[Path]:
    return [
        write(scan([COMPLIANT_PLAN], **first), tmp_path / "a"),
        write(scan([RECORDS_PLAN], **second), tmp_path / "b"),
    ]


def test_refuses_shards_of_different_policy_sets(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 2)})
    edit(b, lambda d: d["run"]["policy_set"].update(digest="f" * 64))
    _refused(_merge(a, b), str(a / "report.json"), str(b / "report.json"), "policy sets")


def test_refuses_a_report_without_a_policy_set_digest(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 2)})
    edit(b, lambda d: d["run"]["policy_set"].pop("digest"))
    _refused(_merge(a, b), str(b / "report.json"), "no policy set digest")


def test_refuses_different_allowed_areas(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 2), "area": "eea"})
    _refused(_merge(a, b), "different allowed areas", "(eu vs eea)", str(b / "report.json"))


def test_refuses_different_shard_counts(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 3)})
    _refused(_merge(a, b), "different shard counts", str(a / "report.json"))


def test_refuses_a_shard_given_twice(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(1, 2)})
    _refused(_merge(a, b), "are both shard 1/2", str(a / "report.json"), str(b / "report.json"))


def test_refuses_missing_slices(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 5)}, {"shard": Shard(3, 5)})
    _refused(_merge(a, b), "shards 2, 4, 5 of 5 are missing")
    _refused(_merge(a), "shards 2, 3, 4, 5 of 5 are missing")
    c, _ = _two(tmp_path / "2", {"shard": Shard(1, 2)}, {"shard": Shard(1, 2)})
    _refused(_merge(c), "shard 2 of 2 is missing")


def test_refuses_a_whole_run_mixed_with_shards(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {})
    _refused(_merge(a, b), f"{b / 'report.json'} is not a shard", "shard 1/2")


def test_refuses_different_audit_dates(tmp_path: Path) -> None:
    later = AUDIT_DATE.replace(day=30)
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 2), "audit_date": later})
    _refused(_merge(a, b), "different dates", "2026-11-29 vs 2026-11-30", "--audit-date")


def test_refuses_a_report_of_a_newer_schema_major(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {"shard": Shard(1, 2)}, {"shard": Shard(2, 2)})
    edit(b, lambda d: d.update(schema_version="2.0"))
    _refused(_merge(a, b), str(b / "report.json"), "this hds-audit reads 1.x")


def test_refuses_a_missing_input(tmp_path: Path) -> None:
    _refused(_merge(tmp_path / "nowhere"), "nowhere", "report not found")
    with pytest.raises(UsageError):
        merge_reports([])


def test_whole_runs_merge_without_slice_checks(tmp_path: Path) -> None:
    a, b = _two(tmp_path, {}, {})
    merged = merge_reports([a, b])
    whole = scan([COMPLIANT_PLAN, RECORDS_PLAN])
    assert [f.policy.id for f in merged.findings] == [f.policy.id for f in whole.findings]
    assert merged.run.merged_from is not None
    assert [m.shard for m in merged.run.merged_from] == [None, None]


# -- what a scan records --------------------------------------------------------------------


def test_a_scan_records_its_shard_digest_and_audit_date(tmp_path: Path) -> None:
    data = read(write(scan([COMPLIANT_PLAN], shard=Shard(3, 16)), tmp_path) / "report.json")
    run = data["run"]
    assert run["shard"] == {"index": 3, "count": 16}
    assert run["policy_set"]["digest"] == policy_set_digest(builtin_policies())
    assert run["audit_date"] == "2026-11-29" == data["compliance"]["audit_date"]
    assert run["merged_from"] is None
    assert data["policies"][0]["translations"]["fr"]["name"]
    jsonschema.validate(data, SCHEMA)
    unsharded = read(write(scan([COMPLIANT_PLAN]), tmp_path / "u") / "report.json")
    assert unsharded["run"]["shard"] is None


def test_the_policy_set_digest_is_its_content_not_its_order_or_files() -> None:
    builtin = list(builtin_policies())
    assert policy_set_digest(builtin) == policy_set_digest(builtin[::-1])
    assert policy_set_digest(builtin) != policy_set_digest(builtin[1:])
    source = (ROOT / "policies" / "encryption.yaml").read_text(encoding="utf-8")
    elsewhere = load_policy_text(source, "/elsewhere/encryption.yaml")
    by_id = {p.id: p for p in elsewhere}
    moved = [by_id.get(p.id, p) for p in builtin]
    assert moved != builtin  # the file names differ ...
    assert policy_set_digest(moved) == policy_set_digest(builtin)  # ... the content does not
    stricter = load_policy_text(source.replace("severity: high", "severity: critical"), "x")
    changed = [{p.id: p for p in stricter}.get(p.id, p) for p in builtin]
    assert policy_set_digest(changed) != policy_set_digest(builtin)


# -- with the scan's own --shard ------------------------------------------------------------


def _scan_has_shard() -> bool:
    scan_command = main.commands["scan"]
    return any("--shard" in getattr(p, "opts", ()) for p in scan_command.params)


@pytest.mark.skipif(not _scan_has_shard(), reason="scan --shard is not there yet")
def test_scan_shards_merge_into_the_unsharded_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paths hash to different slices of 2 (given relative to the repository)."""
    monkeypatch.chdir(ROOT)
    inputs = ["terraform_fixtures/patient-records", "terraform_fixtures/compliant"]
    common = ["--format", "json", "--no-history", "--audit-date", "2026-11-29"]
    dirs = []
    for index in (1, 2):
        out = tmp_path / f"shard-{index}"
        result = run_cli(["scan", *inputs, "--shard", f"{index}/2", "-o", str(out), *common])
        assert result.exit_code in (0, 1), result.output
        recorded = read(out / "report.json")["run"]["shard"]
        assert recorded == {"index": index, "count": 2}, "cli.scan: ScanOptions(shard=shard)"
        dirs.append(out)
    whole = tmp_path / "whole"
    assert run_cli(["scan", *inputs, "-o", str(whole), *common]).exit_code == 1
    merged = tmp_path / "merged"
    result = _merge(*dirs, "-o", merged, "--format", "json")
    assert result.exit_code == 1, result.output
    expected, got = read(whole / "report.json"), read(merged / "report.json")

    def findings(data: Any) -> list[tuple[Any, ...]]:
        return sorted(
            (f["policy_id"], f["resource_id"], f["source_kind"], f["status"], repr(f["evidence"]))
            for f in data["findings"]
        )

    assert findings(got) == findings(expected)
    assert sorted(r["id"] for r in got["resources"]) == sorted(
        r["id"] for r in expected["resources"]
    )
    assert got["errors"] == expected["errors"]
    assert got["summary"] == expected["summary"]
