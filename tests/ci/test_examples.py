"""The CI examples parse, and every hds-audit option they use exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from hds_audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("github-actions.yml", "gitlab-ci.yml")


def _options(command: click.Command) -> set[str]:
    names = set()
    for param in command.params:
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    return names


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_parses_and_uses_real_options(name: str) -> None:
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    assert isinstance(main, click.Group)
    commands = {"scan": main.commands["scan"]}
    history = main.commands["history"]
    assert isinstance(history, click.Group)
    commands.update({f"history {k}": v for k, v in history.commands.items()})
    flat = re.sub(r"\\\n\s*|\n\s+(?=--)", " ", text)
    used = re.findall(r"hds-audit (scan|history list|history diff)\b([^\n|;&]*)", flat)
    assert used
    for command, rest in used:
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", rest):
            assert option in _options(commands[command]), f"{name}: {command} {option}"
    assert "report.sarif" in text and "report.junit.xml" in text and "report.md" in text


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_audit_ci_runs_the_gate_with_a_baseline() -> None:
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "audit-ci", "REPORTS=/tmp/hds-ci-dry"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "--format json,html,sarif,junit,csv,markdown" in dry.stdout
    assert "--baseline /tmp/hds-ci-dry/ci-baseline/report.json" in dry.stdout
