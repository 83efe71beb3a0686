"""Scaleway collector benchmark: 3 projects, about 1,000 resources, 50 ms per API call.

The loopback Scaleway API (tests/scaleway/api_server.py) runs in its own process and sleeps
50 ms before each answer; the real ``scaleway`` SDK collects the organisation once with one
worker and once with 16 (each worker lists one project's zone or region: 9 zones x 5 list
calls and 3 regions x 4 list calls per project, 100 items a page). Object Storage goes to an
empty moto server (no latency); both servers run in processes of their own. Prints wall
times, calls per resource and the collector's own CPU per resource.

    .venv/bin/python bench/bench_scaleway.py [--workers 16] [--resources 1000] [--projects 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "scaleway"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from api_server import serve_process  # noqa: E402
from bench_support import cpu_line  # noqa: E402
from scw_estates import ACCESS_KEY, ORG, SECRET_KEY, bench_estate  # noqa: E402

from hds_audit.collectors.scaleway import CollectStats, ScalewayCollector  # noqa: E402
from hds_audit.geo import GeoTables  # noqa: E402
from hds_audit.testing import moto_server_process  # noqa: E402


def run(url: str, s3_url: str, workers: int) -> CollectStats:
    collector = ScalewayCollector(api_url=url, s3_endpoint_url=s3_url, max_workers=workers)
    collector.preflight()
    collection = collector.collect(GeoTables.default())
    if collection.errors:
        raise SystemExit(f"benchmark estate gave errors: {collection.errors[:3]}")
    return collector.stats


@contextmanager
def scaleway_api(projects: int, resources: int, latency: float) -> Iterator[tuple[str, str]]:
    """The loopback Scaleway API holding the benchmark estate, in its own process, and an empty
    moto S3 server, for the block: (API URL, S3 URL); SCW_* set for the SDK."""
    os.environ.update(
        SCW_ACCESS_KEY=ACCESS_KEY,
        SCW_SECRET_KEY=SECRET_KEY,
        SCW_DEFAULT_ORGANIZATION_ID=ORG,
        SCW_CONFIG_PATH=str(Path(tempfile.gettempdir()) / "hds-audit-bench-no-scw-config"),
    )
    os.environ.pop("SCW_DEFAULT_PROJECT_ID", None)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    estate = bench_estate(projects, resources, latency)
    server = context.Process(target=serve_process, args=(estate, ready), daemon=True)
    server.start()
    try:
        with moto_server_process() as s3_url:
            yield ready.get(timeout=60), s3_url
    finally:
        server.terminate()
        server.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.050)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    with scaleway_api(args.projects, args.resources, args.latency) as (url, s3_url):
        run(url, s3_url, args.workers)  # warm-up: imports, first connections (not measured)
        started = time.perf_counter()
        parallel = run(url, s3_url, args.workers)
        parallel_wall = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        serial = run(url, s3_url, 1)
        serial_wall = time.perf_counter() - started
        serial_cpu = time.process_time() - cpu_started  # both servers are other processes

    resources = parallel.resources
    print(
        f"scaleway bench: {args.projects} projects, {resources} resources, "
        f"{args.latency * 1000:.0f} ms per Scaleway API call"
    )
    print(
        f"  {args.workers:>2} workers: wall {parallel_wall:6.2f} s, {parallel.requests} calls, "
        f"{parallel.requests / resources:.3f} calls per resource"
    )
    print(f"   1 worker : wall {serial_wall:6.2f} s, {serial.requests} calls")
    print(cpu_line("collector, 1 worker", serial_cpu, resources))
    print(f"  speed-up over one worker: {serial_wall / parallel_wall:.1f}x")
    return 0 if serial.resources == resources else 1


if __name__ == "__main__":
    raise SystemExit(main())
