"""What a newcomer and a CI job hit first (issue 13): wrong folders, no state, no network."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hds_audit.testing import Spec, run_cli, state_document, write_json

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "terraform_fixtures"
PARIS = Spec("aws_s3_bucket", "ok", {"bucket": "ok", "region": "eu-west-3"})


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# -- 1. zero sources read is an input error, never a green verdict ------------------------------


@pytest.mark.parametrize("content", [None, "README.md"])
def test_a_folder_with_nothing_to_audit_is_an_input_error(
    tmp_path: Path, content: str | None
) -> None:
    folder = tmp_path / "infra"
    folder.mkdir()
    if content:
        (folder / content).write_text("# the platform\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(["scan", str(folder), "-o", str(out)])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [
        f"hds-audit: error: nothing to audit in {folder}: no state or plan JSON found"
    ]
    assert result.stdout == ""
    assert not out.exists(), "no report, no green verdict"


def test_an_empty_folder_beside_real_inputs_is_reported_and_the_rest_audited(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "wrong"
    empty.mkdir()
    state = write_json(tmp_path / "ok.tfstate", state_document([PARIS]))
    out = tmp_path / "out"
    result = run_cli(["scan", str(state), str(empty), "-o", str(out), "--format", "json"])
    assert result.exit_code == 2
    assert f"hds-audit: error: {empty}: no state or plan JSON found" in result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(e["source"], e["kind"]) for e in report["errors"]] == [
        (str(empty), "nothing_to_audit")
    ]
    assert {r["id"] for r in report["resources"]} >= {"aws_s3_bucket.ok"}


def test_a_shard_owning_nothing_still_writes_an_empty_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["scan", "--shard", "1/2", "-o", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["resources"] == [] and report["errors"] == []


# -- 2. a folder of .tf files with no state -------------------------------------------------------


@pytest.mark.terraform_cli
def test_terraform_code_without_state_points_to_terraform_code(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("the terraform CLI is not installed here")
    code = tmp_path / "infra"
    code.mkdir()
    (code / "main.tf").write_text(
        'resource "terraform_data" "archive" {\n  input = "x"\n}\n', encoding="utf-8"
    )
    backend = tmp_path / "backend-dir"  # a backend never initialised: `terraform init` missing
    shutil.copytree(FIXTURES / "backend-dir", backend)
    result = run_cli(["scan", str(code), str(backend), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    first, second = _lines(result.stderr)
    assert first == (
        f"hds-audit: error: {code}: no Terraform state here (terraform state pull found none); "
        f"give --terraform-code {code} to audit its code, or a plan as JSON "
        "(terraform show -json tfplan > plan.json)"
    )
    assert second.startswith(f"hds-audit: error: {backend}: no Terraform state readable here: ")
    assert "run terraform init there" in second and "--terraform-code" in second
    assert "terraformrc" not in result.stderr and "\x1b[" not in result.stderr


# -- 3. an endpoint that cannot be reached -------------------------------------------------------


def test_an_unreachable_aws_endpoint_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = f"http://127.0.0.1:{closed_port()}"
    out = tmp_path / "out"
    result = run_cli(
        ["scan", "--aws", "--aws-endpoint-url", url, "--aws-regions", "eu-west-3", "-o", str(out)]
    )
    assert result.exit_code == 3
    [line] = _lines(result.stderr)
    assert line.startswith(f"hds-audit: error: AWS endpoint {url}/ could not be reached ")
    assert "connection refused" in line and "internal error" not in line
    assert not out.exists()


# -- 13. `scan` with nothing to scan says what it can scan --------------------------------------


def test_scan_without_arguments_suggests_every_kind_of_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no hds-audit.yaml here
    result = run_cli(["scan"])
    assert result.exit_code == 2
    [line] = _lines(result.stderr)
    for hint in ("--terraform", "--aws", "--azure", "hds-audit.yaml"):
        assert hint in line


# -- 6. reports and history respect the umask ----------------------------------------------------


def hds_audit_process(
    args: list[str], *, umask: int | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``hds-audit ARGS`` as a real process (the installed console script), text output."""
    exe = shutil.which("hds-audit", path=str(Path(sys.executable).parent))
    assert exe, "the hds-audit console script is installed"
    return subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_reports_and_history_get_the_mode_the_umask_gives(
    tmp_path: Path, umask: int, mode: int
) -> None:
    state = write_json(tmp_path / "ok.tfstate", state_document([PARIS]))
    out = tmp_path / "out"
    done = hds_audit_process(
        ["scan", str(state), "-o", str(out), "--format", "json,html,sarif,csv", "-q"],
        umask=umask,
    )
    assert done.returncode in (0, 1), done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "history.sqlite",
        "report.csv",
        "report.html",
        "report.json",
        "report.sarif",
    ]
    assert {name: stat.S_IMODE((out / name).stat().st_mode) for name in written} == dict.fromkeys(
        written, mode
    )
