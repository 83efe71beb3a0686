"""Azure collector benchmark: 3 subscriptions, 3,000 resources, 50 ms per ARM call.

The loopback ARM server (tests/azure/arm_server.py) runs in its own process and sleeps
50 ms before each answer; the real azure-mgmt clients collect the estate once with one
worker and once with the default bound. Prints wall times, calls per resource and the
speed-up (target: at least 6x).

    .venv/bin/python bench/bench_azure.py [--workers 16] [--resources 3000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "azure"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from arm_server import StaticCredential, serve_process  # noqa: E402
from azure_estates import bench_estate  # noqa: E402
from bench_support import cpu_line  # noqa: E402

from hds_audit.collectors.azure import AzureCloud, AzureCollector, CollectStats  # noqa: E402
from hds_audit.geo import GeoTables  # noqa: E402

TARGET_SPEEDUP = 6.0


def run(url: str, ca: str, workers: int) -> CollectStats:
    cloud = AzureCloud("loopback", url, "login.invalid", f"{url}/.default", data_boundaries=True)
    collector = AzureCollector(
        cloud=cloud, credential=StaticCredential(), connection_verify=ca, max_workers=workers
    )
    collection = collector.collect(GeoTables.default())
    if collection.errors:
        raise SystemExit(f"benchmark estate gave errors: {collection.errors[:3]}")
    return collector.stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--resources", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.050)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    estate = bench_estate(args.subscriptions, args.resources)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    with tempfile.TemporaryDirectory(prefix="hds-bench-arm-") as tmp:
        server = context.Process(
            target=serve_process,
            args=(estate, args.latency, args.page_size, ready, tmp),
            daemon=True,
        )
        server.start()
        try:
            url, ca = ready.get(timeout=60)
            run(url, ca, args.workers)  # warm-up: imports, TLS, token (not measured)
            started = time.perf_counter()
            parallel = run(url, ca, args.workers)
            parallel_wall = time.perf_counter() - started
            started, cpu_started = time.perf_counter(), time.process_time()
            serial = run(url, ca, 1)
            serial_wall = time.perf_counter() - started
            serial_cpu = time.process_time() - cpu_started  # the server is another process
        finally:
            server.terminate()
            server.join(timeout=10)

    # The tenant's data-boundary resource is not one of the estate's resources.
    resources = parallel.resources - 1
    speedup = serial_wall / parallel_wall
    print(
        f"azure bench: {args.subscriptions} subscriptions, {resources} resources, "
        f"{args.latency * 1000:.0f} ms per ARM call, page size {args.page_size}"
    )
    print(
        f"  {args.workers:>2} workers: wall {parallel_wall:6.2f} s, {parallel.requests} calls, "
        f"{parallel.requests / resources:.3f} calls per resource"
    )
    print(f"   1 worker : wall {serial_wall:6.2f} s, {serial.requests} calls")
    print(cpu_line("collector, 1 worker", serial_cpu, resources))
    verdict = "ok" if speedup >= TARGET_SPEEDUP else f"BELOW the {TARGET_SPEEDUP:.0f}x target"
    print(f"  speed-up over one worker: {speedup:.1f}x ({verdict})")
    return 0 if speedup >= TARGET_SPEEDUP else 1


if __name__ == "__main__":
    raise SystemExit(main())
