"""Benchmark: a whole organisation -- 50 AWS accounts x 4 regions -- three ways.

Plants one moto organisation (the management account + 49 created with CreateAccount, each
reached through OrganizationAccountAccessRole) with a few buckets, volumes, snapshots,
tables, keys and queues per account-region, straight to moto in parallel. Then scans it
through the real CLI, against a second moto listener that adds 50 ms to every call and
counts them:

  a. ``--executor local`` (one process, the default 16-thread pool);
  b. ``--executor dask --dask-scheduler ADDR`` on a 4-worker LocalCluster started here
     (processes, loopback; start-up time printed, not counted in the scan);
  c. 4 shards ``--shard i/4`` at once, each a local run as a CI matrix would do it, then
     ``hds-audit merge`` (wall: from the start of the 4 scans to the end of the merge).

Prints wall time, calls and CPU of each, the speed-up over (a), and whether the three reports
agree (same resources, same (policy, resource, status) findings). Then measures tasks one by
one -- an in-process collection of a few accounts at low concurrency, every task timed -- and,
with the CPU the Dask run cost per task and per account set up again on another worker,
extrapolates to 1,000 accounts: calls, task-seconds, wall time for N workers x T threads and
the workers needed for a 1-hour and a 6-hour window. moto runs in a child process on the same
2 cores as the hds-audit processes: those 2 cores limit the three timed runs, not the latency.
A benchmark, not a test: nothing asserts, but a disagreement between the reports is loud.

Usage: python bench/bench_scale.py [--accounts 50] [--regions 4] [--latency 0.05]
       [--workers 4] [--threads 16] [--probe-accounts 4] [--probe-threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_aws import ENV, ORG_ROLE, _cpu, _plant_scope

REGIONS = ["eu-west-3", "eu-central-1", "eu-west-1", "us-east-1", "eu-north-1", "eu-south-1"]
HDS = Path(sys.executable).parent / "hds-audit"
TARGET_ACCOUNTS = 1000
LOCAL_THREADS = 16  # the CLI's default pool (--aws-workers)
WINDOWS = {"1 hour": 3600.0, "6-hour night": 6 * 3600.0}

# per (account, region): 11 resources (and 2 x 3 + 2 + 2 x 2 = 12 per-item detail calls)
MIX = {
    "keys": 2,
    "volumes": 3,
    "snapshots": 1,
    "buckets": 2,
    "tables": 2,
    "databases": 0,
    "queues": 1,
}

# The bench_aws server, plus a count of the calls the slow listener answers: one line on
# stdin asks for it, one line on stdout answers it.
SERVER = textwrap.dedent(
    """
    import logging, sys, threading
    from hds_audit.collectors.aws.testing import LatencyMoto
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    canned = {"replication-configurations": {"Replications": []}}
    plain = LatencyMoto(0.0, canned).start()
    slow = LatencyMoto(float(sys.argv[1]), canned).start()
    calls = [0]
    lock = threading.Lock()
    inner = slow._server.app

    def counting(environ, start_response):
        with lock:
            calls[0] += 1
        return inner(environ, start_response)

    slow._server.app = counting
    print(plain.url, slow.url, flush=True)
    for _ in sys.stdin:
        print(calls[0], flush=True)
    """
)


class Moto:
    """The moto child process: a plain listener, a slow counting one, its CPU."""

    def __init__(self, latency: float) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        assert self.child.stdout is not None
        urls = self.child.stdout.readline().split()
        if len(urls) != 2:
            self.close()
            raise SystemExit("bench_scale: the moto server did not start (see above)")
        self.plain, self.slow = urls

    def calls(self) -> int:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write("count\n")
        self.child.stdin.flush()
        return int(self.child.stdout.readline())

    def cpu(self) -> float:
        return _cpu(self.child.pid)

    def close(self) -> None:
        if self.child.stdin:
            self.child.stdin.close()
        self.child.wait(timeout=30)


# -- planting ---------------------------------------------------------------------------------


_THREAD = threading.local()


def _thread_session() -> Any:
    """One boto3 session per planting thread: its service models are loaded once, not once
    per account and region (client creation is most of the planting CPU otherwise)."""
    import boto3

    session = getattr(_THREAD, "session", None)
    if session is None:
        session = _THREAD.session = boto3.session.Session(region_name="us-east-1")
    return session


@dataclass(frozen=True)
class _Reached:
    """What ``_plant_scope`` needs of a session: clients, here with an account's credentials."""

    credentials: tuple[tuple[str, str], ...] = ()

    def client(self, name: str, **kwargs: Any) -> Any:
        return _thread_session().client(name, **kwargs, **dict(self.credentials))


def _reach(url: str, account: str | None) -> _Reached:
    if account is None:
        return _Reached()
    sts = _thread_session().client("sts", endpoint_url=url)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName="bench"
    )["Credentials"]
    return _Reached(
        (
            ("aws_access_key_id", creds["AccessKeyId"]),
            ("aws_secret_access_key", creds["SecretAccessKey"]),
            ("aws_session_token", creds["SessionToken"]),
        )
    )


def plant(url: str, accounts: int, regions: list[str]) -> tuple[list[str], int]:
    """The organisation and its resources; returns the member account ids and the count."""
    org = _thread_session().client("organizations", endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"m{i}@example.org", AccountName=f"m{i}")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(accounts - 1)
    ]
    everyone: list[str | None] = [None, *members]
    with ThreadPoolExecutor(max_workers=8) as pool:
        reached = dict(zip(everyone, pool.map(lambda a: _reach(url, a), everyone), strict=True))
        futures = [
            pool.submit(_plant_scope, url, reached[a], a or "mgmt", r, MIX)
            for a in everyone
            for r in regions
        ]
        planted = sum(f.result() for f in futures)
    return members, planted


# -- the three runs through the CLI ----------------------------------------------------------


def scan_command(url: str, regions: list[str], output: Path, *extra: str) -> list[str]:
    return [
        str(HDS),
        "scan",
        "--aws-org-role",
        ORG_ROLE,
        "--aws-endpoint-url",
        url,
        "--aws-regions",
        ",".join(regions),
        "--format",
        "json",
        "--output",
        str(output),
        "--no-history",
        "--quiet",
        "--fail-on",
        "none",
        "--no-fail-on-unknown",
        *extra,
    ]


def run_all(commands: list[list[str]], cwd: Path) -> list[int]:
    """Start every command at once, wait for all; print what a failing one said."""
    children = [
        subprocess.Popen(
            command, cwd=cwd, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for command in commands
    ]
    codes = []
    for command, child in zip(commands, children, strict=True):
        out, err = child.communicate()
        codes.append(child.returncode)
        if child.returncode != 0:
            print(
                f"!!! {' '.join(command[1:3])} exited {child.returncode}:\n"
                f"{(out + err).decode(errors='replace')[-3000:]}",
                flush=True,
            )
    return codes


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    name: str
    wall: float
    calls: int
    cpu_client: float
    cpu_moto: float
    folder: Path
    note: str = ""
    cpu_workers: float = 0.0  # the Dask workers' (cpu_client: the CLI processes')
    cpu_here: float = 0.0  # this process: the LocalCluster's scheduler runs here


@dataclass(frozen=True)
class Digest:
    resources: frozenset[str]
    findings: frozenset[tuple[str, str, str]]
    errors: int


def digest(folder: Path) -> Digest | None:
    path = folder / "report.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Digest(
        frozenset(r["id"] for r in data["resources"]),
        frozenset((f["policy_id"], f["resource_id"], f["status"]) for f in data["findings"]),
        len(data["errors"]),
    )


def compare(runs: list[Run]) -> None:
    digests = {run.name: digest(run.folder) for run in runs}
    reference_name = runs[0].name
    reference = digests[reference_name]
    for run in runs:
        got = digests[run.name]
        if got is None:
            print(f"!!! {run.name}: no report.json in {run.folder}")
            continue
        print(
            f"  {run.name}: {len(got.resources)} resources, {len(got.findings)} findings, "
            f"{got.errors} collection errors"
        )
    if reference is None:
        return
    for run in runs[1:]:
        got = digests[run.name]
        if got is None:
            continue
        if got.resources == reference.resources and got.findings == reference.findings:
            print(f"  {run.name} vs {reference_name}: OK (same resources, same findings)")
            continue
        print(f"!!! {run.name} DISAGREES with {reference_name}:")
        for label, mine, theirs in (
            ("resources", got.resources, reference.resources),
            ("findings", got.findings, reference.findings),
        ):
            extra, missing = sorted(map(str, mine - theirs)), sorted(map(str, theirs - mine))
            if extra or missing:
                print(f"!!!   {label}: {len(extra)} only in {run.name}, {len(missing)} missing")
                for item in [*extra[:3], *missing[:3]]:
                    print(f"!!!     {item}")


# -- per-task measurement ----------------------------------------------------------------------


@dataclass
class _Timed:
    """A task whose run is timed (wall seconds, in the thread that runs it)."""

    task: Any
    samples: list[tuple[str, float]]

    @property
    def key(self) -> str:
        return str(self.task.key)

    def run(self, env: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.task.run(env)
        finally:
            kind = getattr(self.task, "service", "account")
            self.samples.append((kind, time.perf_counter() - started))

    def lost(self, reason: str) -> Any:
        return self.task.lost(reason)


@dataclass
class TimingExecutor:
    """A local executor that times every task it runs."""

    threads: int
    samples: list[tuple[str, float]] = field(default_factory=list)
    name: str = "local"

    @property
    def description(self) -> str:
        return f"timed local thread pool ({self.threads} threads)"

    def run(self, env: Any, tasks: Iterable[Any], follow: Any = None) -> Iterator[Any]:
        from hds_audit.executors import Done
        from hds_audit.executors.local import LocalExecutor

        def timed_follow(task: Any, result: Any) -> list[_Timed]:
            return [_Timed(t, self.samples) for t in follow(task.task, result)]

        inner = LocalExecutor(self.threads)
        wrapped = [_Timed(t, self.samples) for t in tasks]
        for done in inner.run(env, wrapped, timed_follow if follow else None):
            timed: Any = done.task
            yield Done(timed.task, done.result, done.lost)

    def close(self) -> None:
        return None


@dataclass
class PerTask:
    accounts: int
    tasks: int
    calls: int
    account_s: float  # mean wall seconds of an account task
    service_s: float  # mean wall seconds of a service task
    longest_s: float  # the longest service task
    cpu_s: float  # collector CPU seconds per task (this process, every thread)
    wall: float
    errors: int


def measure_tasks(url: str, regions: list[str], members: list[str], threads: int) -> PerTask:
    """Collect a few accounts in this process, every task timed, at low concurrency."""
    import boto3

    from hds_audit.collectors.aws import AwsCollector, AwsSettings, CallRecord, service_table
    from hds_audit.geo import GeoTables

    calls: list[CallRecord] = []
    lock = threading.Lock()

    def observe(call: CallRecord) -> None:
        with lock:
            calls.append(call)

    roles = tuple(f"arn:aws:iam::{a}:role/{ORG_ROLE}" for a in members)
    settings = AwsSettings(
        regions=tuple(regions), role_arns=roles, endpoint_url=url, max_workers=threads
    )
    table = service_table()
    base = boto3.session.Session(region_name="us-east-1")
    # the service models are parsed once per process (a worker's start-up), not per task
    for name in {"sts", "organizations", *(s.client for s in table.services.values())}:
        base.client(name, endpoint_url=url)
    executor = TimingExecutor(threads)
    collector = AwsCollector(
        settings, session_factory=lambda _: base, observer=observe, executor=executor
    )
    geo = GeoTables.default()
    collector.prepare()
    calls.clear()  # the client's own check, not a task's
    cpu, started = time.process_time(), time.perf_counter()
    collection = collector.collect(geo)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    accounts = [s for kind, s in executor.samples if kind == "account"]
    services = [s for kind, s in executor.samples if kind != "account"]
    return PerTask(
        accounts=len(members),
        tasks=len(executor.samples),
        calls=len(calls),
        account_s=sum(accounts) / max(1, len(accounts)),
        service_s=sum(services) / max(1, len(services)),
        longest_s=max(services, default=0.0),
        cpu_s=cpu / max(1, len(executor.samples)),
        wall=wall,
        errors=len(collection.errors),
    )


@dataclass(frozen=True)
class Costs:
    """CPU seconds per task: the collection itself (an account set up once), what running it
    on Dask adds on the workers (measured), and the single client and scheduler processes."""

    task_cpu: float
    dask_cpu: float
    client_cpu: float


def extrapolate(
    per: PerTask, costs: Costs, calls_per_account: float, regions: int, services: int, threads: int
) -> None:
    accounts = TARGET_ACCOUNTS
    per_account = 1 + regions * services
    tasks = accounts * per_account
    task_seconds = accounts * per.account_s + accounts * regions * services * per.service_s
    client_cpu = tasks * costs.client_cpu
    chain = per.account_s + per.longest_s  # an account's regions are known before its tasks

    def worker_cpu(workers: int) -> float:
        # an account's tasks prefer one worker (affinity): it is set up about once whatever
        # N; what Dask adds per task (transfer, bookkeeping, the odd stolen task set up
        # again) is the measured overhead
        return tasks * (costs.task_cpu + costs.dask_cpu)

    def wall(workers: int) -> float:
        return (
            max(task_seconds / (workers * threads), worker_cpu(workers) / workers, client_cpu)
            + chain
        )

    def needed(window: float) -> str:
        fits = next((n for n in range(1, 4097) if wall(n) <= window), None)
        return str(fits) if fits else "out of reach"

    print(
        f"extrapolation to {accounts:,} accounts x {regions} regions x {services} services "
        f"(this bench's estate in every account):"
    )
    print(
        f"  {tasks:,} tasks, {calls_per_account * accounts:,.0f} API calls, "
        f"{task_seconds:,.0f} task-seconds ({task_seconds / 3600:.1f} h on one thread); "
        f"{worker_cpu(1):,.0f} CPU-seconds on the workers, "
        f"{client_cpu:,.0f} on the client"
    )
    cells = ", ".join(f"{n} -> {_duration(wall(n))}" for n in (1, 4, 16, 64))
    print(f"  wall with N workers x {threads} threads: {cells}")
    answers = "; ".join(f"within {label}: {needed(window)}" for label, window in WINDOWS.items())
    print(f"  workers needed ({threads} threads, one core each): {answers}")
    print(
        "  model: wall = max(task-seconds / (N x T), worker CPU-seconds(N) / N, client "
        f"CPU-seconds) + one account's chain ({chain:.1f} s: its account task, then its "
        f"longest service task); worker CPU = tasks x ({costs.task_cpu * 1000:.0f} ms of "
        f"collection + {costs.dask_cpu * 1000:.0f} ms of Dask overhead)"
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=4, help="Dask workers and shards")
    parser.add_argument("--threads", type=int, default=16, help="threads per Dask worker")
    parser.add_argument("--probe-accounts", type=int, default=4)
    parser.add_argument("--probe-threads", type=int, default=4)
    args = parser.parse_args()
    os.environ.update(ENV)  # the Dask workers and the CLI runs inherit the dummy credentials
    regions = REGIONS[: args.regions]
    from hds_audit.collectors.aws.table import service_table

    services = len(service_table().services)
    moto = Moto(args.latency)
    runs: list[Run] = []
    work = Path(tempfile.mkdtemp(prefix="hds-bench-scale-"))
    try:
        started = time.perf_counter()
        members, planted = plant(moto.plain, args.accounts, regions)
        print(
            f"planted {planted:,} resources in {args.accounts} accounts x {len(regions)} regions "
            f"({', '.join(regions)}) of one organisation "
            f"({time.perf_counter() - started:.1f} s, straight to moto)"
        )
        print(f"latency added at the HTTP boundary: {args.latency * 1000:.0f} ms per call")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} cores, load average before the scans {load}")
        # moto builds each (account, region, service) backend on first use: an untimed
        # warm-up scan (no latency) pays that once, so no timed run is charged for it.
        warm = time.perf_counter()
        run_all([scan_command(moto.plain, regions, work / "warm")], work)
        print(f"warm-up scan, no latency (untimed): {time.perf_counter() - warm:.1f} s")

        def timed(name: str, commands: list[list[str]], folder: Path, note: str = "") -> Run:
            calls, cpu, moto_cpu = moto.calls(), children_cpu(), moto.cpu()
            here, begin = time.process_time(), time.perf_counter()
            run_all(commands, work)
            return Run(
                name,
                time.perf_counter() - begin,
                moto.calls() - calls,
                children_cpu() - cpu,
                moto.cpu() - moto_cpu,
                folder,
                note,
                cpu_here=time.process_time() - here,
            )

        runs.append(
            timed("local", [scan_command(moto.slow, regions, work / "local")], work / "local")
        )
        _print_run(runs[-1], runs[0])

        from hds_audit.executors.cluster import DaskExecutor

        begin = time.perf_counter()
        cluster = DaskExecutor.connect(None, workers=args.workers, threads_per_worker=args.threads)
        cluster.client.run(_preload)  # long-lived workers have the code loaded already
        up = time.perf_counter() - begin
        try:
            pids: dict[str, int] = cluster.client.run(os.getpid)
            before = sum(_cpu(pid) for pid in pids.values())
            command = scan_command(
                moto.slow, regions, work / "dask", "--dask-scheduler", cluster.address
            )
            runs.append(
                timed(
                    "dask",
                    [command],
                    work / "dask",
                    f"{args.workers} workers x {args.threads} threads, LocalCluster up in "
                    f"{up:.1f} s (not counted)",
                )
            )
            runs[-1].cpu_workers = sum(_cpu(pid) for pid in pids.values()) - before
        finally:
            cluster.close()
        _print_run(runs[-1], runs[0])

        shards = [work / f"shard{i}" for i in range(1, args.workers + 1)]
        commands = [
            scan_command(moto.slow, regions, folder, "--shard", f"{i}/{args.workers}")
            for i, folder in enumerate(shards, start=1)
        ]
        sharded = timed("shards", commands, work / "merged")
        merge = time.perf_counter()
        merge_command = [str(HDS), "merge", *map(str, shards), "--output", str(work / "merged")]
        merge_command += ["--format", "json", "--fail-on", "none", "--no-fail-on-unknown"]
        run_all([merge_command], work)
        merge = time.perf_counter() - merge
        sharded.wall += merge
        sharded.note = (
            f"{args.workers} shard scans at once, {sharded.wall - merge:.1f} s, "
            f"+ merge {merge:.1f} s"
        )
        runs.append(sharded)
        _print_run(sharded, runs[0])
        print("reports:")
        compare(runs)

        local, dask = runs[0], runs[1]
        tasks = args.accounts * (1 + len(regions) * services)
        print(
            f"per task: {tasks:,} tasks ({args.accounts} accounts + {args.accounts} x "
            f"{len(regions)} regions x {services} services); {local.calls:,} calls in the local "
            f"run = {local.calls / tasks:.2f} per task, {local.calls / args.accounts:.0f} per "
            "account"
        )
        probe = measure_tasks(
            moto.slow, regions, members[: args.probe_accounts], args.probe_threads
        )
        print(
            f"task time, measured one by one: {probe.accounts} accounts collected in this process "
            f"at {args.probe_threads} threads ({probe.wall:.1f} s, {probe.tasks} tasks, "
            f"{probe.calls} calls, {probe.errors} errors): account task {probe.account_s:.2f} s, "
            f"service task {probe.service_s:.2f} s mean ({probe.longest_s:.2f} s longest); "
            f"the local run's wall x {LOCAL_THREADS} threads / tasks gives "
            f"{local.wall * LOCAL_THREADS / tasks:.2f} s (tasks queueing for the 2 cores)"
        )
        overhead = max(0.0, dask.cpu_workers / tasks - probe.cpu_s)
        costs = Costs(probe.cpu_s, overhead, max(dask.cpu_client, dask.cpu_here) / tasks)
        print(
            f"CPU per task: local run {local.cpu_client / tasks * 1000:.0f} ms (collection, "
            "evaluation and report in one process); measured one by one "
            f"{probe.cpu_s * 1000:.0f} ms (collection, each account set up once); Dask run "
            f"{dask.cpu_workers / tasks * 1000:.0f} ms on the workers, "
            f"{dask.cpu_client / tasks * 1000:.0f} ms on the client, "
            f"{dask.cpu_here / tasks * 1000:.0f} ms on the scheduler: "
            f"Dask adds {costs.dask_cpu * 1000:.0f} ms per task on the workers (an account's "
            "tasks prefer one worker; transfers, bookkeeping and stolen tasks set up again)"
        )
        extrapolate(probe, costs, local.calls / args.accounts, len(regions), services, args.threads)
        print(
            f"assumptions: AWS answers every call in {args.latency * 1000:.0f} ms whatever the "
            "load, and its API rate limits are per account and region, so they do not add up "
            "across accounts; one core per worker; this bench's estate per account (11 "
            "resources per region: more resources, more detail calls); the Dask overhead per task "
            f"measured at {args.workers} workers holds at any N. Here the 2 cores, shared "
            "by moto and hds-audit, limit the three timed runs, not the latency."
        )
    finally:
        moto.close()
        shutil.rmtree(work, ignore_errors=True)


def _preload() -> None:
    import hds_audit.collectors.aws.tasks  # noqa: F401


def _print_run(run: Run, reference: Run) -> None:
    speed = reference.wall / run.wall if run.wall else 0.0
    workers = (
        f" + workers {run.cpu_workers:.1f} s + scheduler {run.cpu_here:.1f} s"
        if run.cpu_workers
        else ""
    )
    used = run.cpu_client + run.cpu_workers + run.cpu_moto + (run.cpu_here if workers else 0.0)
    busy = used / run.wall if run.wall else 0.0
    print(
        f"{run.name:>6}: {run.wall:6.1f} s wall, {speed:.2f}x local; {run.calls:,} calls; "
        f"CPU: hds-audit {run.cpu_client:.1f} s{workers}, moto {run.cpu_moto:.1f} s "
        f"({busy:.1f} cores busy)" + (f"  [{run.note}]" if run.note else ""),
        flush=True,
    )


if __name__ == "__main__":
    main()
