"""Sovereign clouds benchmark: OVHcloud, Scaleway and 3DS Outscale together, 50 ms per call.

The suites' loopback APIs hold one estate of about 3,000 resources: OVHcloud (3 Public Cloud
projects in 3 regions, tests/ovh/ovh_server.py), Scaleway (3 projects,
tests/scaleway/api_server.py, in its own process as bench/bench_scaleway.py runs it) and
Outscale (3 regions, 500 a page, tests/outscale/osc_server.py); each API sleeps 50 ms before
each answer; every API runs in a process of its own. The real SDKs collect the three clouds
one after another, once with one worker and once with 16. Prints the machine, wall times and
calls per resource, per cloud and in all, and each collector's own CPU per resource.

    .venv/bin/python bench/bench_sovereign.py [--workers 16] [--resources 1000] (per cloud)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in ("tests/ovh", "tests/outscale", "tests/scaleway", "bench"):
    sys.path.insert(0, str(ROOT / folder))
sys.path.insert(0, str(ROOT))

import osc_server  # noqa: E402
import ovh_server  # noqa: E402
from bench_scaleway import run as run_scaleway  # noqa: E402
from bench_scaleway import scaleway_api  # noqa: E402
from bench_support import cpu_line, serve_in_process  # noqa: E402

from hds_audit.collectors.base import Collection  # noqa: E402
from hds_audit.collectors.outscale.collect import OutscaleCollector  # noqa: E402
from hds_audit.collectors.ovh import OvhCollector  # noqa: E402
from hds_audit.geo import GeoTables  # noqa: E402

OSC_REGIONS = ["eu-west-2", "cloudgouv-eu-west-1", "us-east-2"]
GEO = GeoTables.default()


def machine() -> str:
    """Cores and physical memory of this machine."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"machine: {os.cpu_count()} cores, {memory:.1f} GiB memory"


def checked(collection: Collection, cloud: str) -> int:
    if collection.errors:
        raise SystemExit(f"{cloud} benchmark estate gave errors: {collection.errors[:3]}")
    return len(collection.resources)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000, help="per cloud")
    parser.add_argument("--latency", type=float, default=0.050)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    os.environ.update(
        OVH_ENDPOINT="ovh-eu",
        OVH_APPLICATION_KEY="bench-application",
        OVH_APPLICATION_SECRET="bench-secret",
        OVH_CONSUMER_KEY="bench-consumer",
        OSC_ACCESS_KEY="BENCHACCESSKEY",
        OSC_SECRET_KEY="BENCHSECRETKEY",
    )

    with ExitStack() as stack:
        ovh = stack.enter_context(
            serve_in_process("ovh_server", ovh_server.bench_estate(3, args.resources, args.latency))
        )
        osc = stack.enter_context(
            serve_in_process(
                "osc_server", osc_server.bench_estate(OSC_REGIONS, args.resources, args.latency)
            )
        )
        scw_url, s3_url = stack.enter_context(scaleway_api(3, args.resources, args.latency))

        def run_ovh(workers: int) -> tuple[int, int]:
            before = ovh.request_count()
            collector = OvhCollector(endpoint_url=ovh.url, max_workers=workers)
            collector.preflight()
            found = checked(collector.collect(GEO), "ovh")
            return found, ovh.request_count() - before

        def run_outscale(workers: int) -> tuple[int, int]:
            before = osc.request_count()
            collector = OutscaleCollector(
                regions=tuple(OSC_REGIONS), endpoint_url=osc.url, max_workers=workers
            )
            collector.preflight()
            found = checked(collector.collect(GEO), "outscale")
            return found, osc.request_count() - before

        def run_scw(workers: int) -> tuple[int, int]:
            stats = run_scaleway(scw_url, s3_url, workers)
            return stats.resources, stats.requests

        clouds: dict[str, Callable[[int], tuple[int, int]]] = {
            "ovh": run_ovh,
            "scaleway": run_scw,
            "outscale": run_outscale,
        }
        for collect in clouds.values():
            collect(args.workers)  # warm-up: imports, first connections (not measured)
        measured: dict[int, dict[str, tuple[int, int, float]]] = {}
        cpu: dict[str, float] = {}  # one worker: the collector's own CPU (servers run apart)
        for workers in (args.workers, 1):
            measured[workers] = {}
            for cloud, collect in clouds.items():
                started, cpu_started = time.perf_counter(), time.process_time()
                found, calls = collect(workers)
                measured[workers][cloud] = (found, calls, time.perf_counter() - started)
                cpu[cloud] = time.process_time() - cpu_started

    print(
        f"sovereign bench: OVHcloud + Scaleway + Outscale, {args.latency * 1000:.0f} ms per "
        "API call, clouds collected one after another, local executor"
    )
    print(machine())
    for workers, label in ((args.workers, f"{args.workers:>2} workers"), (1, " 1 worker ")):
        rows = measured[workers]
        for cloud, (found, calls, wall) in rows.items():
            print(
                f"  {label} {cloud:<9}: wall {wall:6.2f} s, {found} resources, {calls} calls, "
                f"{calls / found:.3f} calls per resource"
            )
        found = sum(r[0] for r in rows.values())
        calls = sum(r[1] for r in rows.values())
        wall = sum(r[2] for r in rows.values())
        print(
            f"  {label} all      : wall {wall:6.2f} s, {found} resources, {calls} calls, "
            f"{calls / found:.3f} calls per resource"
        )
    for cloud, seconds in cpu.items():
        found = measured[1][cloud][0]
        print(cpu_line(f"{cloud}, 1 worker", seconds, found))
    fast = sum(r[2] for r in measured[args.workers].values())
    slow = sum(r[2] for r in measured[1].values())
    print(f"  speed-up over one worker: {slow / fast:.1f}x")
    same = all(measured[1][c][0] == measured[args.workers][c][0] for c in measured[args.workers])
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
