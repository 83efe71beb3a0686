"""``run.inputs``: every file a run read, with the size and sha256 of the bytes read."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import (
    ATTESTATIONS,
    AUDIT_DATE,
    FIXTURES,
    PLAN,
    ROOT,
    STATE,
    UTF16,
    WAIVERS,
    Keys,
    keygen,
    signed_scan,
    verify,
)

from hds_audit.collectors.terraform import TerraformCollector, collect_remote, reading
from hds_audit.geo import GeoTables
from hds_audit.providers.registry import builtin_registry_text
from hds_audit.testing import Spec, run_cli, state_document, terraform_working_copy, write_json


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return keygen(tmp_path_factory.mktemp("keys"))


def _record(path: Path, kind: str, label: str | None = None) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "path": label or str(path),
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _run(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))["run"]
    return data


def test_run_inputs_list_the_bundled_fixture_files(tmp_path: Path) -> None:
    """``make audit``'s scan: the fixtures folder and the attestations, each file hashed."""
    out = tmp_path / "reports"
    result = run_cli(
        [
            "scan",
            str(FIXTURES),
            "--attestations",
            str(ATTESTATIONS),
            "--output",
            str(out),
            "--format",
            "json",
            "--no-history",
            "--audit-date",
            AUDIT_DATE,
        ]
    )
    assert result.exit_code == 2  # the broken/ fixtures are unusable on purpose
    inputs = _run(out)["inputs"]
    assert inputs[0] == _record(ATTESTATIONS, "attestations")
    # A folder scan reads each state and plan file below it, except working directories
    # (backend-dir/ holds *.tf: only `scan backend-dir` pulls its state) and files it could
    # not even decode (broken/empty.tfstate: reported as an error, no bytes to identify).
    read = sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.suffix in (".json", ".tfstate")
        and "backend-dir" not in p.parts
        and "_generator" not in p.parts
        and p.name != "empty.tfstate"
    )
    files = [{k: v for k, v in i.items() if k != "kind"} for i in inputs[1:]]
    assert files == [{k: v for k, v in _record(p, "").items() if k != "kind"} for p in read]
    assert {i["path"] for i in inputs} >= {str(PLAN), str(STATE), str(UTF16)}
    sources = {s["path"]: s for s in _run(out)["sources"]}
    for record in inputs[1:]:  # the kind, size and bytes the sources list
        source = sources[record["path"]]
        assert (source["kind"], source["size"], source["sha256"]) == (
            record["kind"],
            record["size"],
            record["sha256"],
        )
    truncated = str(FIXTURES / "broken" / "truncated.json")
    assert sources[truncated]["kind"] == "unreadable"  # read and hashed, but not usable


def test_every_kind_of_input_file_is_recorded_in_reading_order(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    registry = tmp_path / "hosts.yaml"
    registry.write_text(builtin_registry_text(), encoding="utf-8")
    first = tmp_path / "first"
    assert run_cli(["scan", str(PLAN), "-o", str(first), "--format", "json"]).exit_code in (0, 1)
    baseline = first / "report.json"
    config = tmp_path / "hds-audit.yaml"
    config.write_text("format: json\nhistory: false\n", encoding="utf-8")
    result = run_cli(
        [
            "scan",
            str(UTF16),
            str(PLAN),
            "--config",
            str(config),
            "--output",
            str(out),
            "--waivers",
            str(WAIVERS),
            "--baseline",
            str(baseline),
            "--registry",
            str(registry),
            "--attestations",
            str(ATTESTATIONS),
        ]
    )
    assert result.exit_code in (0, 1), result.stderr
    run = _run(out)
    assert run["inputs"] == [
        _record(config, "config"),
        _record(WAIVERS, "waivers"),
        _record(baseline, "baseline"),
        _record(registry, "registry"),
        _record(ATTESTATIONS, "attestations"),
        _record(UTF16, "terraform-state"),  # the UTF-16 bytes as read, not the decoded text
        _record(PLAN, "terraform-plan"),
    ]
    assert run["registry_digest"] == _record(registry, "registry")["sha256"]


def test_registry_and_frameworks_digests_identify_their_files(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert run_cli(["scan", str(PLAN), "-o", str(out), "--format", "json"]).exit_code in (0, 1)
    run = _run(out)
    hosts = ROOT / "hds_audit" / "providers" / "data" / "hosts.yaml"
    assert run["registry_digest"] == hashlib.sha256(hosts.read_bytes()).hexdigest()
    folder = ROOT / "hds_audit" / "frameworks" / "data"
    lines = sorted(
        f"hds_audit/frameworks/data/{p.name}\t{hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in folder.glob("*.yaml")
    )
    assert run["frameworks_digest"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert run["inputs"] == [_record(PLAN, "terraform-plan")]  # built-in data is no input


def test_a_remote_state_is_identified_by_the_bytes_pulled(geo: GeoTables) -> None:
    body = STATE.read_bytes()
    url = "s3://states/prod/terraform.tfstate"
    collection = collect_remote(url, geo, lambda _url: body)
    [source] = collection.sources
    assert (source.path, source.size) == (url, len(body))
    assert source.sha256 == hashlib.sha256(body).hexdigest()


@pytest.mark.terraform_cli
def test_a_working_directory_is_identified_by_the_state_pulled(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("the terraform CLI is not installed here")
    work = tmp_path / "backend-dir"
    env = terraform_working_copy(FIXTURES / "backend-dir", work)
    pulled = subprocess.run(
        ["terraform", "state", "pull"], cwd=work, env=env, check=True, capture_output=True
    ).stdout
    out = tmp_path / "out"
    assert run_cli(["scan", str(work), "-o", str(out), "--format", "json"]).exit_code == 0
    [record] = _run(out)["inputs"]
    assert record == {
        "path": str(work),
        "kind": "terraform-state",
        "size": len(pulled),
        "sha256": hashlib.sha256(pulled).hexdigest(),
    }


def test_sign_key_in_the_configuration_signs_and_the_config_is_an_input(
    tmp_path: Path, keys: Keys
) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        f"sign_key: {keys.private}\nformat: [json, html]\nhistory: false\n", encoding="utf-8"
    )
    out = tmp_path / "reports"
    result = run_cli(["scan", str(PLAN), "--config", str(config), "--output", str(out)])
    assert result.exit_code in (0, 1), result.stderr
    assert (out / "manifest.sig").is_file()
    assert verify(out, keys.public, "--inputs", str(config), str(PLAN)).exit_code == 0
    assert _run(out)["inputs"][0] == _record(config, "config")


def test_signing_always_writes_report_json_first(tmp_path: Path, keys: Keys) -> None:
    out = tmp_path / "reports"
    result = signed_scan(out, keys, [PLAN], formats="html")
    assert result.exit_code in (0, 1), result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "manifest.sig",
        "report.html",
        "report.json",
    ]
    assert verify(out, keys.public).exit_code == 0


def test_a_registry_extending_the_builtin_one_counts_both_files(tmp_path: Path) -> None:
    registry = FIXTURES / "registry.yaml"
    assert "extends: builtin" in registry.read_text(encoding="utf-8")
    out = tmp_path / "reports"
    args = ["scan", str(PLAN), "--registry", str(registry), "-o", str(out), "--format", "json"]
    assert run_cli(args).exit_code in (0, 1)
    run = _run(out)
    own = _record(registry, "registry")
    assert run["inputs"][0] == own
    hosts = ROOT / "hds_audit" / "providers" / "data" / "hosts.yaml"
    lines = sorted(
        [
            f"hds_audit/providers/data/hosts.yaml\t{hashlib.sha256(hosts.read_bytes()).hexdigest()}",
            f"{registry}\t{own['sha256']}",
        ]
    )
    assert run["registry_digest"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_a_large_state_is_identified_by_its_bytes(tmp_path: Path) -> None:
    """From ``DIGEST_BESIDE`` bytes on, the digest is computed beside the reader (which lets
    the bytes go after its first pass): the same digest as the bytes on disk."""
    pad = "x" * 1000
    specs = (
        Spec("aws_s3_bucket", f"b{n}", {"bucket": f"b{n}", "region": "eu-west-3", "pad": pad})
        for n in range(5000)
    )
    state = write_json(tmp_path / "big.tfstate", state_document(specs))
    assert state.stat().st_size >= reading.DIGEST_BESIDE
    before = set(threading.enumerate())  # (another test's reader may still be hashing)
    collected = TerraformCollector((str(state),)).collect(GeoTables.default())
    [source] = collected.sources
    assert source.resources == 5000
    assert source.sha256 == hashlib.sha256(state.read_bytes()).hexdigest()
    assert not [t for t in threading.enumerate() if t.name == "input-digest" and t not in before]
