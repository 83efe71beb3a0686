"""``merge --sign-key``: the merged report is signed like a scan and names the shards'
manifests it merged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from evidence_helpers import AUDIT_DATE, PLAN, STATE, UTF16, Keys, keygen, signed_scan, verify

from hds_audit.testing import run_cli


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return keygen(tmp_path_factory.mktemp("keys"))


def test_merge_of_two_signed_shards_signs_and_verifies(tmp_path: Path, keys: Keys) -> None:
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for index, folder in enumerate(shards, start=1):
        result = signed_scan(
            folder, keys, [PLAN, STATE, UTF16], "--shard", f"{index}/2", formats="json"
        )
        assert result.exit_code in (0, 1), result.stderr
        assert verify(folder, keys.public).exit_code == 0
    merged = tmp_path / "merged"
    result = run_cli(
        [
            "merge",
            *map(str, shards),
            "--output",
            str(merged),
            "--format",
            "json,html,sarif",
            "--audit-date",
            AUDIT_DATE,
            "--sign-key",
            str(keys.private),
        ]
    )
    assert result.exit_code in (0, 1), result.stderr
    checked = verify(merged, keys.public, "--inputs", str(PLAN), str(STATE), str(UTF16))
    assert checked.exit_code == 0, checked.output
    assert "3 report file(s) and 3 input file(s) match" in checked.stdout
    run = json.loads((merged / "report.json").read_text(encoding="utf-8"))["run"]
    assert [m["manifest_sha256"] for m in run["merged_from"]] == [
        hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest() for folder in shards
    ]
    # what the merge read (the shards' report.json), then what the shards read, once each
    reports = [
        {
            "path": str(folder / "report.json"),
            "kind": "report",
            "size": (folder / "report.json").stat().st_size,
            "sha256": hashlib.sha256((folder / "report.json").read_bytes()).hexdigest(),
        }
        for folder in shards
    ]
    assert run["inputs"][:2] == reports
    assert sorted(i["path"] for i in run["inputs"][2:]) == sorted(map(str, (PLAN, STATE, UTF16)))
    manifest = json.loads((merged / "manifest.json").read_text(encoding="utf-8"))
    assert [m["manifest_sha256"] for m in manifest["run"]["merged_from"]] == [
        m["manifest_sha256"] for m in run["merged_from"]
    ]


def test_an_unsigned_shard_is_merged_with_no_manifest_recorded(tmp_path: Path) -> None:
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for index, folder in enumerate(shards, start=1):
        args = ["scan", str(PLAN), str(STATE), "--shard", f"{index}/2", "-o", str(folder)]
        assert run_cli([*args, "--format", "json", "--no-history"]).exit_code in (0, 1)
    merged = tmp_path / "merged"
    result = run_cli(["merge", *map(str, shards), "-o", str(merged), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    run = json.loads((merged / "report.json").read_text(encoding="utf-8"))["run"]
    assert [m["manifest_sha256"] for m in run["merged_from"]] == [None, None]
    assert not (merged / "manifest.json").exists()


def test_a_shard_changed_after_signing_is_refused(tmp_path: Path, keys: Keys) -> None:
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for index, folder in enumerate(shards, start=1):
        result = signed_scan(folder, keys, [PLAN, STATE], "--shard", f"{index}/2", formats="json")
        assert result.exit_code in (0, 1), result.stderr
    report = shards[1] / "report.json"
    report.write_text(report.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    merged = tmp_path / "merged"
    result = run_cli(["merge", *map(str, shards), "-o", str(merged), "--format", "json"])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"hds-audit: error: {report}: differs from what ")
    assert line.endswith("changed after it was signed")
    assert not merged.exists()
