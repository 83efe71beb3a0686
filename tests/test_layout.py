"""The repository layout the product card fixes: built-in policies at the top level."""

from __future__ import annotations

from pathlib import Path

from hds_audit.engine import builtin_policies
from hds_audit.engine.policies import builtin_policy_dir
from hds_audit.testing import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_policies_live_in_the_top_level_folder() -> None:
    folder = ROOT / "policies"
    assert not (ROOT / "hds_audit" / "policies").exists()
    assert Path(str(builtin_policy_dir())).resolve() == folder
    shipped = sorted(p.name for p in folder.glob("*.yaml"))
    assert shipped, "policies/ holds the built-in YAML policies"
    assert sorted({p.meta.file for p in builtin_policies()}) == [f"policies/{n}" for n in shipped]


def test_policies_validate_passes_on_the_builtin_folder() -> None:
    result = run_cli(["policies", "validate", str(ROOT / "policies")])
    assert result.exit_code == 0, result.stderr
    assert result.output == f"{len(builtin_policies())} policies valid.\n"
