"""Benchmark: the instructions the Terraform pipeline executes, stage by stage (issue 16).

On a shared 2-core machine the same run's wall time moves by 15 % and more from one run to
the next; the number of instructions it executes does not (the hash seed is fixed). This is
the profile to compare two commits with: each stage runs in a fresh process under
valgrind's cachegrind, after the same process has run every stage before it, and the
difference between two such runs is the stage's count. Needs valgrind (``apt-get install
valgrind``); prints why it skips without it. Valgrind runs the code some forty times
slower: 10,000 resources take about a minute, twice that with --against.

Usage: python bench/bench_instructions.py [--resources 10000] [--against OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_terraform import generate

# Each stage runs everything before it, then itself (the setup loads every data file).
_CHILD = r"""
import sys
from pathlib import Path
from hds_audit._gc import paused_gc
from hds_audit.collectors.terraform import TerraformCollector, _normalised, documents
from hds_audit.collectors.terraform.normalise import type_table
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.engine import builtin_policies
from hds_audit.frameworks import builtin_frameworks
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.providers.registry import builtin_registry
from hds_audit.reports.json_report import write_json
from hds_audit.scan import ScanOptions, judged_attribute_roots, run_scan
import hds_audit.collectors.terraform.fast_state
import hds_audit.frameworks.compliance, hds_audit.reports.drift_json
try:
    from hds_audit.collectors.terraform.normalise import index_slimmer
    slim = {"slim": index_slimmer()}
except ImportError:  # a checkout before 2026-12-04 (--against)
    from hds_audit.collectors.terraform.normalise import index_keeps_whole, index_view
    slim = {"slim": index_view, "kept_whole": index_keeps_whole}

geo = GeoTables.default(); policies = builtin_policies(); AllowedArea.parse("eu")
builtin_registry(); builtin_frameworks(); type_table()
roots = judged_attribute_roots(policies)
state, stage, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
chain = ["setup", "read", "first pass", "index, second pass, normalise"]
with paused_gc():
    if stage in chain[1:]:
        doc = read_text(Path(state), state)
    if stage in chain[2:]:
        parsed = documents.parse_document(doc, state, **slim)
    if stage in chain[3:]:
        _normalised(parsed, state, geo, roots)
if stage in ("evaluate", "report.json"):
    try:  # one process: a forked child's instructions would not be counted
        collector = TerraformCollector((state,), second_process_from=None)
    except TypeError:  # a checkout before the second process (--against)
        collector = TerraformCollector((state,))
    report = run_scan(ScanOptions(collectors=[collector]), geo=geo, policies=policies)
    if stage == "report.json":
        with paused_gc():
            write_json(report, out)
"""
STAGES = ["read", "first pass", "index, second pass, normalise", "evaluate", "report.json"]
# The scan collects again, as the stages before it did: what it adds is the evaluation.
_AFTER = {"evaluate": "index, second pass, normalise"}


def instructions(checkout: Path | None, state: Path, stage: str, out: Path) -> int:
    """The instructions a fresh process executes up to and including ``stage``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _CHILD,
            str(state),
            stage,
            str(out),
        ],
        env=env,
        cwd=tempfile.gettempdir(),  # never the checkout: PYTHONPATH decides the code
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def profile(checkout: Path | None, state: Path, workdir: Path) -> dict[str, int]:
    """Each stage's own instructions."""
    out = workdir / "report.json"
    counts = {"setup": instructions(checkout, state, "setup", out)}
    own, previous = {}, "setup"
    for stage in STAGES:
        counts[stage] = instructions(checkout, state, stage, out)
        own[stage] = counts[stage] - counts[_AFTER.get(stage, previous)]
        previous = stage
    return own


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument(
        "--against", type=Path, help="another checkout of hds-audit to compare with"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("bench_instructions: skipped, valgrind is not installed (apt-get install valgrind)")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="hds-audit-instructions-"))
    try:
        state = workdir / "state.tfstate"
        generate(state, args.resources)
        here = Path(__file__).resolve().parent.parent
        mine = profile(here, state, workdir)
        other = profile(args.against.resolve(), state, workdir) if args.against else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    n = args.resources
    print(f"instructions per resource, {n:,} generated resources (valgrind, hash seed 0)")
    header = f"{'stage':<32} | {'this checkout':>13}"
    if other is not None:
        header += f" | {'--against':>13} | change"
    print(header)
    mine["total"] = sum(mine.values())
    if other is not None:
        other["total"] = sum(other.values())
    for stage in [*STAGES, "total"]:
        line = f"{stage:<32} | {mine[stage] / n:>13,.0f}"
        if other is not None:
            change = (mine[stage] - other[stage]) / other[stage] * 100 if other[stage] else 0.0
            line += f" | {other[stage] / n:>13,.0f} | {change:+.1f} %"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
