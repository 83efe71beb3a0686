"""What a newcomer and a CI job hit first (issue 13): wrong folders, no state, no network."""

from __future__ import annotations

import json
import os
import pty
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


def _console_script() -> str:
    exe = shutil.which("hds-audit", path=str(Path(sys.executable).parent))
    assert exe, "the hds-audit console script is installed"
    return exe


def hds_audit_process(
    args: list[str], *, umask: int | None = None, stdout: int = -1, stderr: int = -1
) -> subprocess.CompletedProcess[str]:
    """``hds-audit ARGS`` as a real process (the installed console script), text output;
    ``stdout`` and ``stderr`` are pipes unless a file descriptor is given."""
    return subprocess.run(
        [_console_script(), *args],
        stdout=stdout,
        stderr=stderr,
        text=True,
        check=False,
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


# -- 4. output piped into `head` ends quietly -----------------------------------------------------


def test_a_reader_gone_before_the_first_line_ends_quietly(tmp_path: Path) -> None:
    """The pipe's reading end is closed before hds-audit writes: every write breaks."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = hds_audit_process(["providers", "show", "microsoft"], stdout=write_end)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as a shell reports it; never 0


@pytest.mark.parametrize(
    "command", ["providers show microsoft", "policies list", "frameworks show hds-v2"]
)
def test_commands_piped_into_head_end_quietly(tmp_path: Path, command: str) -> None:
    script = f"'{_console_script()}' {command} | head -1"
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    assert done.stderr == ""


# -- 5. `policies validate DIR` validates what is in DIR ----------------------------------------


def test_policies_validate_a_folder_without_policies_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no policy here\n", encoding="utf-8")
    result = run_cli(["policies", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"hds-audit: error: {tmp_path}: no policy file (*.yaml, *.yml) in this folder\n"
    )


def test_policies_validate_counts_only_the_policies_in_the_folder(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "encryption.yaml").read_text(encoding="utf-8")
    first = text.split("\n---\n")[0].replace("id: HDS_ENC_001", "id: ACME_ENC_001")
    (tmp_path / "acme.yaml").write_text(first, encoding="utf-8")
    result = run_cli(["policies", "validate", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (0, "1 policies valid.\n")
    # the top-level built-in folder validates on its own and with an extra folder
    builtin = run_cli(["policies", "validate", str(ROOT / "policies")])
    assert builtin.exit_code == 0, builtin.stderr
    assert run_cli(["policies", "validate", str(ROOT / "policies"), str(tmp_path)]).exit_code == 0


def test_policies_validate_refuses_an_id_a_builtin_policy_has(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "encryption.yaml").read_text(encoding="utf-8")
    (tmp_path / "mine.yaml").write_text(text.split("\n---\n")[0], encoding="utf-8")
    result = run_cli(["policies", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "duplicate policy id 'HDS_ENC_001' (also in policies/encryption.yaml)" in result.stderr


# -- 11. progress on stderr: on a terminal, or when asked ----------------------------------------


def _big_state(tmp_path: Path, count: int = 2500) -> Path:
    volume = {"availability_zone": "eu-west-3a", "encrypted": True}
    specs = [Spec("aws_ebs_volume", f"v{i}", volume) for i in range(count)]
    return write_json(tmp_path / "big.tfstate", state_document(specs))


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    state = _big_state(tmp_path)
    done = hds_audit_process(
        ["scan", str(state), "-o", str(tmp_path / "out"), "--no-history", "--format", "json"]
    )
    assert done.returncode == 1, done.stderr  # its keys are the provider's
    assert done.stderr == ""  # a CI log stays clean


def test_progress_lines_when_asked(tmp_path: Path) -> None:
    state = _big_state(tmp_path)
    args = [
        "scan",
        str(state),
        "-o",
        str(tmp_path / "out"),
        "--no-history",
        "-q",
        "--progress",
        "--format",
        "json",
    ]
    done = hds_audit_process(args)
    assert done.returncode == 1, done.stderr  # its keys are the provider's
    assert done.stderr.splitlines() == [
        f"hds-audit: terraform: reading {state} (1/1)",
        "hds-audit: evaluating 9 policies on 2,500 resources",
        "hds-audit: writing the reports",
    ]


def test_a_live_progress_line_on_a_terminal(tmp_path: Path) -> None:
    state = _big_state(tmp_path)
    controller, terminal = pty.openpty()
    try:
        args = ["scan", str(state), "-o", str(tmp_path / "out"), "--no-history", "--format", "json"]
        done = hds_audit_process(args, stderr=terminal)
    finally:
        os.close(terminal)
    shown = _drain(controller)
    assert done.returncode == 1
    assert f"\r\x1b[Khds-audit: terraform: reading {state} (1/1): 2,000 resources" in shown
    assert "\r\x1b[Khds-audit: evaluating 9 policies on 2,500 resources" in shown
    assert shown.endswith("\r\x1b[K")  # the line is erased before the summary is printed
    assert "\n" not in shown


def _drain(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()
