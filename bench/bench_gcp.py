"""Google Cloud collector benchmark: 3 projects, 3,000 resources, 50 ms per API call.

The loopback Cloud Asset API (tests/gcp/asset_server.py) runs in its own process and sleeps
50 ms before each answer; the real google-cloud-asset client (REST transport) collects the
organisation once with one worker and once with 16. Prints wall times and calls per resource.
SearchAllResources returns up to 500 resources a page, and the pages of one project follow
each other (each needs the previous page's token): the workers run projects side by side.

    .venv/bin/python bench/bench_gcp.py [--workers 16] [--resources 3000] [--projects 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "gcp"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from asset_server import serve_process  # noqa: E402
from bench_support import cpu_line  # noqa: E402
from gcp_estates import ORG, bench_estate  # noqa: E402

from hds_audit.collectors.gcp import CollectStats, GcpCollector  # noqa: E402
from hds_audit.collectors.gcp.environment import ANONYMOUS  # noqa: E402
from hds_audit.geo import GeoTables  # noqa: E402


def run(url: str, workers: int) -> CollectStats:
    collector = GcpCollector(
        scopes=(ORG,), endpoint_url=url, credential_spec=ANONYMOUS, max_workers=workers
    )
    collector.preflight()
    collection = collector.collect(GeoTables.default())
    if collection.errors:
        raise SystemExit(f"benchmark estate gave errors: {collection.errors[:3]}")
    return collector.stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--resources", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.050)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    estate = bench_estate(args.projects, args.resources, args.latency, args.page_size)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    server = context.Process(target=serve_process, args=(estate, ready), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=60)
        run(url, args.workers)  # warm-up: imports, first connection (not measured)
        started = time.perf_counter()
        parallel = run(url, args.workers)
        parallel_wall = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        serial = run(url, 1)
        serial_wall = time.perf_counter() - started
        serial_cpu = time.process_time() - cpu_started  # the server is another process
    finally:
        server.terminate()
        server.join(timeout=10)

    resources = parallel.resources
    print(
        f"gcp bench: {args.projects} projects, {resources} resources, "
        f"{args.latency * 1000:.0f} ms per Cloud Asset call, page size {args.page_size}"
    )
    print(
        f"  {args.workers:>2} workers: wall {parallel_wall:6.2f} s, {parallel.requests} calls, "
        f"{parallel.requests / resources:.4f} calls per resource"
    )
    print(f"   1 worker : wall {serial_wall:6.2f} s, {serial.requests} calls")
    print(cpu_line("collector, 1 worker", serial_cpu, resources))
    print(f"  speed-up over one worker: {serial_wall / parallel_wall:.1f}x")
    return 0 if resources == args.resources and serial.resources == resources else 1


if __name__ == "__main__":
    raise SystemExit(main())
