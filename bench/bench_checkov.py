"""Benchmark: hds-audit vs Checkov on the same generated plan JSON, encryption at rest.

Generates a ``terraform show -json`` plan of N resources of the types both tools judge for
encryption at rest (EBS volumes, RDS instances and clusters, EFS, Redshift), then times
hds-audit (read + normalise + HDS_ENC_001) and Checkov (its plan runner with the matching
built-in checks, offline, in a child process) from the file to the verdicts, and compares the
(resource, encryption verdict) pairs. Every disagreement is written to a file, grouped by its
explanation on screen. A benchmark, not a test: nothing here asserts a time.

Usage: python bench/bench_checkov.py [--sizes 1000,10000] [--timeout 300] [--keep]

50,000 is not in the default sizes: on 2 cores Checkov took more than 300 s on it (10,000:
about 110 s; its time grows faster than the resource count). ``--sizes 1000,10000,50000`` tries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

# type -> (encryption flag, Checkov check id judging it)
TYPES: dict[str, tuple[str, str]] = {
    "aws_ebs_volume": ("encrypted", "CKV_AWS_3"),
    "aws_db_instance": ("storage_encrypted", "CKV_AWS_16"),
    "aws_rds_cluster": ("storage_encrypted", "CKV_AWS_96"),
    "aws_efs_file_system": ("encrypted", "CKV_AWS_42"),
    "aws_redshift_cluster": ("encrypted", "CKV_AWS_64"),
}
EXPLAIN = {
    ("unknown", "fail"): (
        "deliberate: the flag is known only after apply (computed, not set); hds-audit says "
        "unknown, Checkov reads the missing value as not encrypted"
    ),
    ("unknown", "pass"): (
        "deliberate: the flag is known only after apply; hds-audit says unknown, Checkov passes"
    ),
}


def generate(n: int, path: Path) -> None:
    from hds_audit.checkov.testing import with_planned_values
    from hds_audit.testing import Spec, plan_document, write_json

    types = list(TYPES)
    specs = []
    for i in range(n):
        rtype = types[i % len(types)]
        flag = TYPES[rtype][0]
        attributes: dict[str, Any] = {"availability_zone": "eu-west-3a", "tags": {"n": str(i)}}
        unknown: tuple[str, ...] = ()
        bucket = (i // len(types)) % 10
        if bucket < 5:
            attributes[flag] = True
        elif bucket < 9:
            attributes[flag] = False
        else:
            unknown = (flag,)  # not set in the configuration: computed by the provider
        specs.append(Spec(rtype, f"r{i}", attributes, unknown=unknown))
    write_json(path, with_planned_values(plan_document(specs)))


def run_hds(path: Path) -> tuple[float, dict[str, str]]:
    from hds_audit._gc import paused_gc
    from hds_audit.collectors.terraform import collect_file
    from hds_audit.engine import builtin_policies, evaluate
    from hds_audit.geo import AllowedArea, GeoTables

    geo = GeoTables.default()
    policy = [p for p in builtin_policies() if p.meta.id == "HDS_ENC_001"]
    area = AllowedArea.parse("eu")
    started = time.perf_counter()
    with paused_gc():  # as a scan runs (hds_audit.scan.run_scan)
        resources = collect_file(path, str(path), geo).resources
        findings = evaluate(policy, resources, area)
    elapsed = time.perf_counter() - started
    return elapsed, {f.resource.id: f.status.value for f in findings}


def run_checkov_child(path: str) -> None:
    """In a child process: Checkov's plan runner, offline; prints JSON on stdout."""
    from hds_audit.checkov.runner import offline_environment

    with offline_environment():
        os.environ["CHECKOV_MAX_IAC_FILE_SIZE"] = str(10**10)
        started = time.perf_counter()
        from checkov.runner_filter import RunnerFilter
        from checkov.terraform.plan_runner import Runner

        imported = time.perf_counter()
        checks = sorted({check for _, check in TYPES.values()})
        report = Runner().run(
            root_folder=None,
            files=[path],
            runner_filter=RunnerFilter(framework=["terraform_plan"], checks=checks),
        )
        done = time.perf_counter()
    verdicts = {}
    for record in (*report.passed_checks, *report.failed_checks):
        verdicts[str(record.resource)] = (
            "pass" if record.check_result["result"].name == "PASSED" else "fail"
        )
    json.dump(
        {"import": imported - started, "run": done - imported, "verdicts": verdicts}, sys.stdout
    )


def compare(hds: dict[str, str], checkov: dict[str, str]) -> list[tuple[str, str, str, str]]:
    out = []
    for resource in sorted(set(hds) | set(checkov)):
        ours, theirs = hds.get(resource, "-"), checkov.get(resource, "-")
        if ours != theirs:
            reason = EXPLAIN.get((ours, theirs), "UNEXPECTED: to investigate")
            out.append((resource, ours, theirs, reason))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--timeout", type=float, default=300.0, help="Checkov's limit per size")
    parser.add_argument("--keep", action="store_true", help="keep the generated plans")
    parser.add_argument("--checkov-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.checkov_child:
        run_checkov_child(args.checkov_child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="hds-bench-checkov-"))
    rows = []
    print(f"hds-audit vs Checkov, encryption at rest on a plan JSON ({', '.join(TYPES)})")
    for n in sizes:
        plan = workdir / f"plan-{n}.json"
        generate(n, plan)
        hds_time, hds = run_hds(plan)
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--checkov-child", str(plan)],
                capture_output=True,
                text=True,
                timeout=args.timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            print(f"{n:>7,} resources: Checkov took more than {args.timeout:.0f} s; stopping here")
            break
        result = json.loads(child.stdout)
        checkov_time = float(result["run"])
        disagreements = compare(hds, result["verdicts"])
        agree = 1 - len(disagreements) / max(len(set(hds) | set(result["verdicts"])), 1)
        listing = workdir / f"disagreements-{n}.tsv"
        listing.write_text(
            "".join(f"{r}\t{o}\t{t}\t{why}\n" for r, o, t, why in disagreements), encoding="utf-8"
        )
        rows.append((n, hds_time, checkov_time, result["import"], agree, disagreements, listing))
        if not args.keep:
            plan.unlink()
    print()
    header = f"{'resources':>10} {'hds-audit':>10} {'Checkov':>10} {'ratio':>8} {'agreement':>10}"
    print(f"{header} {'unexplained':>12}")
    for n, hds_time, checkov_time, _, agree, disagreements, _ in rows:
        ratio = checkov_time / hds_time if hds_time else float("inf")
        unexplained = sum(1 for d in disagreements if d[3].startswith("UNEXPECTED"))
        print(
            f"{n:>10,} {hds_time:>9.2f}s {checkov_time:>9.2f}s {ratio:>7.1f}x {agree:>9.2%}"
            f" {unexplained:>12,}"
        )
    print("(agreement: share of (resource, encryption verdict) pairs on which both tools agree;")
    print(" unexplained: disagreements that are not a documented, deliberate difference)")
    if rows:
        print(f"(Checkov's import, not counted above: {rows[0][3]:.1f} s)")
    for n, _, _, _, _, disagreements, listing in rows:
        groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for resource, ours, theirs, why in disagreements:
            groups[(ours, theirs, why)].append(resource)
        print(f"\n{n:,} resources: {len(disagreements):,} disagreement(s), all listed in {listing}")
        for (ours, theirs, why), resources in sorted(groups.items()):
            by_type = Counter(r.split(".")[0] for r in resources)
            types = ", ".join(f"{t} {c}" for t, c in sorted(by_type.items()))
            print(f"  hds-audit {ours} / Checkov {theirs}: {len(resources):,} ({types})")
            print(f"    {why}")
            print(f"    e.g. {', '.join(resources[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
