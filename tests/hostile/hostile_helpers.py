"""Helpers of the hostile-input tests: run the command on inputs built in ``tmp_path`` and
read every output it wrote (reports of all formats, stdout and stderr)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hds_audit.testing import Spec, run_cli, state_document, write_json

ROOT = Path(__file__).resolve().parents[2]
CERTIFIED = str(ROOT / "tests" / "fixtures" / "registry" / "certified.yaml")
ALL_FORMATS = "json,html,sarif,junit,csv,markdown"
# A guard against a run that never ends (the failure these tests look for), not a speed
# assertion: a healthy run takes a few seconds.
HANG_GUARD_SECONDS = 120
# Address space of a subprocess run: a runaway allocation fails there, not on the machine.
MEMORY_GUARD_BYTES = 3 * 1024**3

GOOD = Spec("aws_s3_bucket", "good", {"bucket": "good", "region": "eu-west-3"})

POLICY = """\
metadata:
  id: {id}
  name: Custom {id}
  category: residency
  severity: high
  rationale: because
  remediation: fix it
  frameworks: {{hds-v2: ["EXI 28"]}}
definition:
  cond_type: attribute
  attribute: {attribute}
  operator: {operator}
  value: {value}
"""


def policy_text(
    attribute: str, operator: str = "exists", value: str = "null", policy_id: str = "CUSTOM_001"
) -> str:
    return POLICY.format(id=policy_id, attribute=attribute, operator=operator, value=value)


def good_state(folder: Path, name: str = "good.tfstate") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_json(folder / name, state_document([GOOD]))


@dataclass
class Run:
    """One run of the command: exit code, what it printed and where it wrote."""

    exit_code: int
    output: str
    out: Path

    def report(self) -> dict[str, Any]:
        text = (self.out / "report.json").read_text(encoding="utf-8")
        data: dict[str, Any] = json.loads(text, parse_constant=_refuse)
        return data

    def everything(self) -> str:
        """Every byte the run showed or wrote, as text: stdout, stderr and every report."""
        parts = [self.output]
        if self.out.is_dir():
            for path in sorted(self.out.iterdir()):
                if path.is_file():
                    parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    def resource_ids(self) -> set[str]:
        return {r["id"] for r in self.report()["resources"]}

    def error_messages(self) -> list[str]:
        return [f"{e['source']}: {e['message']}" for e in self.report()["errors"]]


def _refuse(constant: str) -> Any:
    raise ValueError(f"report.json holds {constant}: not strict JSON")


def scan(tmp_path: Path, *args: str, formats: str = ALL_FORMATS) -> Run:
    """``hds-audit scan ARGS`` in-process, every format, into ``tmp_path/out``."""
    out = tmp_path / "out"
    result = run_cli(["scan", *args, "-o", str(out), "--format", formats, "--registry", CERTIFIED])
    return Run(result.exit_code, result.output, out)


def _guarded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_GUARD_BYTES, MEMORY_GUARD_BYTES))


def cli_subprocess(
    tmp_path: Path, *args: str, cwd: Path | None = None, prefix: Sequence[str] = ()
) -> Run:
    """``hds-audit ARGS`` in a child process bounded in memory, for inputs that could hang
    or exhaust memory; a child still running after the guard fails the test."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [*prefix, sys.executable, "-c", "from hds_audit.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        env=env,
        cwd=cwd or tmp_path,
        preexec_fn=_guarded,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr, out)


def scan_subprocess(
    tmp_path: Path, *args: str, cwd: Path | None = None, prefix: Sequence[str] = ()
) -> Run:
    out = tmp_path / "out"
    return cli_subprocess(
        tmp_path,
        "scan",
        *args,
        "-o",
        str(out),
        "--format",
        "json",
        "--registry",
        CERTIFIED,
        cwd=cwd,
        prefix=prefix,
    )


def deep_json(depth: int) -> str:
    """A JSON value nested ``depth`` lists deep."""
    return "[" * depth + "]" * depth
