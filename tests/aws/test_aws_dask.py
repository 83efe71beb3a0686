"""The AWS collection on a real Dask LocalCluster (2 worker processes on loopback).

The same estate through the local executor and through the cluster gives the same report;
a worker killed mid-task is retried, or its scope is ``unknown`` with the reason; an
unreachable scheduler stops the run before any collection.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from estate import Estate, plant, reset_moto

from hds_audit.cli import main
from hds_audit.collectors.aws.options import AwsRuntime
from hds_audit.collectors.aws.testing import Fault, FaultProxy
from hds_audit.executors.cluster import DaskExecutor

REGIONS = "eu-west-3,us-east-1"
# Fields that describe the run rather than the estate.
_RUN_ONLY = ("started_at", "finished_at")


@pytest.fixture(scope="module")
def estate(moto_url: str) -> Estate:
    reset_moto(moto_url)
    return plant(moto_url)


@pytest.fixture(scope="module")
def cluster(aws_env: None) -> Iterator[DaskExecutor]:
    """One LocalCluster for the module; its workers inherit the dummy AWS credentials."""
    executor = DaskExecutor.connect(None, workers=2, threads_per_worker=4)
    try:
        yield executor
    finally:
        executor.close()


def scan(
    url: str, out: Path, *extra: str, organisation: bool = True, read_timeout: int = 30
) -> tuple[int, dict[str, Any], str]:
    """The estate's organisation (or only the management account) through the CLI."""
    args = [
        "scan",
        "--aws-endpoint-url",
        url,
        "--aws-regions",
        REGIONS,
        *(["--aws-org-role", "OrganizationAccountAccessRole"] if organisation else []),
        "--format",
        "json",
        "--output",
        str(out),
        "--no-history",
        *extra,
    ]
    runtime = AwsRuntime(max_attempts=2, connect_timeout=1, read_timeout=read_timeout)
    result = CliRunner().invoke(main, args, obj=runtime)
    report_file = out / "report.json"
    assert report_file.exists(), result.output
    return result.exit_code, json.loads(report_file.read_text()), result.output


def estate_view(report: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on the executor: resources, findings, errors, sources."""
    sources = [
        {**s, "notes": [n for n in s["notes"] if not n.startswith("collected on")]}
        for s in report["run"]["sources"]
    ]
    return {
        "resources": report["resources"],
        "findings": report["findings"],
        "errors": report["errors"],
        "sources": sources,
        "summary": report["summary"],
    }


def address(cluster: DaskExecutor) -> str:
    return str(cluster.client.scheduler.address)


def test_the_cluster_gives_the_local_report(
    estate: Estate, moto_url: str, cluster: DaskExecutor, tmp_path: Path
) -> None:
    code_local, local, _ = scan(moto_url, tmp_path / "local", "--executor", "local")
    code_dask, remote, output = scan(
        moto_url, tmp_path / "dask", "--dask-scheduler", address(cluster)
    )
    assert local["resources"], "the estate was collected"
    assert estate_view(remote) == estate_view(local), output
    assert code_dask == code_local
    notes = [n for s in remote["run"]["sources"] for n in s["notes"]]
    assert any(n.startswith("collected on Dask") for n in notes)
    # both accounts of the organisation were reached by the workers (role assumed there)
    assert {s["path"] for s in remote["run"]["sources"]} == {
        "aws:123456789012",
        f"aws:{estate.member}",
    }


def _hung(proxy: FaultProxy, operation: str) -> bool:
    return any(s.operation == operation and s.status == 0 for s in proxy.seen)


def _kill_worker_running(cluster: DaskExecutor, fragment: str) -> None:
    """SIGKILL the worker process running the task whose key contains ``fragment``.

    The kill waits until that task is the only one on its worker: on a loaded machine the
    scheduler may have queued most of the scan there, and what the tests mean to lose is
    the hung task, not whatever else happened to be waiting behind it.
    """
    client = cluster.client
    deadline = time.monotonic() + 120
    seen = False
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(fragment in str(key) for key in keys):
                seen = True
                if len(keys) == 1:
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    return
        time.sleep(0.1)
    what = "alone on its worker" if seen else "on any worker"
    raise AssertionError(f"the task {fragment!r} was never {what}")


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _scan_killing_a_worker(
    cluster: DaskExecutor, faults: FaultProxy, out: Path, keep_fault: bool
) -> tuple[int, dict[str, Any], str]:
    """A scan whose CloudTrail task in eu-west-3 hangs until its worker is killed."""
    import threading

    # the call hangs (and the client waits) longer than the kill may take on a loaded machine
    hang = Fault("hang", service="cloudtrail", region="eu-west-3", seconds=240)
    faults.faults.append(hang)
    result: dict[str, Any] = {}

    def run() -> None:
        result["scan"] = scan(
            faults.url,
            out,
            "--dask-scheduler",
            address(cluster),
            organisation=False,
            read_timeout=240,
        )

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(lambda: _hung(faults, "DescribeTrails"), "the CloudTrail call to hang")
    if not keep_fault:
        faults.faults.remove(hang)
    _kill_worker_running(cluster, "/eu-west-3/cloudtrail")
    thread.join(timeout=600)
    assert not thread.is_alive()
    faults.faults.clear()
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarted the dead one
    scanned: tuple[int, dict[str, Any], str] = result["scan"]
    return scanned


def test_a_killed_worker_task_is_retried_and_the_report_is_complete(
    estate: Estate, moto_url: str, cluster: DaskExecutor, faults: FaultProxy, tmp_path: Path
) -> None:
    _code, reference, _ = scan(moto_url, tmp_path / "ref", organisation=False)
    _code, report, output = _scan_killing_a_worker(
        cluster, faults, tmp_path / "killed", keep_fault=False
    )
    assert report["errors"] == reference["errors"], output
    assert estate_view(report) == estate_view(reference), output


def test_a_task_lost_for_good_makes_its_scope_unknown(
    estate: Estate, moto_url: str, cluster: DaskExecutor, faults: FaultProxy, tmp_path: Path
) -> None:
    scheduler = cluster.cluster.scheduler
    allowed = scheduler.allowed_failures
    scheduler.allowed_failures = 0  # the first lost worker fails the task for good
    try:
        code, report, output = _scan_killing_a_worker(
            cluster, faults, tmp_path / "lost", keep_fault=True
        )
    finally:
        scheduler.allowed_failures = allowed
    # every task that was on the killed worker is lost, the hung one among them
    [lost] = [e for e in report["errors"] if e["scope"].endswith("/eu-west-3/cloudtrail")]
    assert lost["kind"] == "task_lost" and "worker lost" in lost["message"], lost
    assert all(e["kind"] == "task_lost" for e in report["errors"]), report["errors"]
    unknown = [
        f
        for f in report["findings"]
        if f["status"] == "unknown" and "/eu-west-3/cloudtrail" in f["resource_id"]
    ]
    assert unknown, "the lost scope is unknown, never a pass"
    assert all("worker lost" in (f["reason"] or "") for f in unknown)
    # everything else was still collected, and the run says it could not read a scope
    assert any(r["region"] == "us-east-1" for r in report["resources"])
    assert code == 2, output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_scheduler_stops_before_any_collection(
    estate: Estate, moto_url: str, faults: FaultProxy, tmp_path: Path
) -> None:
    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        f"executor:\n  scheduler: tcp://127.0.0.1:{_closed_port()}\n  timeout: 1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--config",
            str(config),
            "--aws-endpoint-url",
            faults.url,
            "--output",
            str(tmp_path / "out"),
        ],
        obj=AwsRuntime(max_attempts=1),
    )
    assert result.exit_code == 3, result.output  # the audit could not complete (issue 13)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("hds-audit: error: Dask scheduler tcp://127.0.0.1:")
    assert "could not be reached (timed out)" in lines[0], result.output
    assert not faults.seen, "nothing was collected"
    assert not (tmp_path / "out" / "report.json").exists()


def test_shards_merged_equal_the_unsharded_run(
    estate: Estate, moto_url: str, cluster: DaskExecutor, tmp_path: Path
) -> None:
    """Three slices of the organisation (one on the cluster), merged: the whole run again."""
    _code, whole, _ = scan(moto_url, tmp_path / "whole", "--audit-date", "2026-11-29")
    seen: list[str] = []
    for index in (1, 2, 3):
        where = ["--dask-scheduler", address(cluster)] if index == 2 else []
        _code, part, _ = scan(
            moto_url,
            tmp_path / f"shard{index}",
            "--shard",
            f"{index}/3",
            "--audit-date",
            "2026-11-29",
            *where,
        )
        assert part["run"]["shard"] == {"index": index, "count": 3}
        seen.extend(s["path"] for s in part["run"]["sources"])
    assert sorted(seen) == sorted(s["path"] for s in whole["run"]["sources"])
    result = CliRunner().invoke(
        main,
        [
            "merge",
            *(str(tmp_path / f"shard{i}") for i in (1, 2, 3)),
            "--output",
            str(tmp_path / "merged"),
            "--format",
            "json",
        ],
    )
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert merged["resources"] == whole["resources"], result.output
    assert merged["findings"] == whole["findings"]
    assert merged["errors"] == whole["errors"]
    assert merged["summary"] == whole["summary"]
    assert result.exit_code == 1  # the estate has planted violations, as the whole run
