"""The executor interface with its two implementations, on toy tasks (real pools, no mocks)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from toy_tasks import Broken, CountingSpec, Square

from hds_audit.errors import UsageError
from hds_audit.executors import Environment, Task
from hds_audit.executors.cluster import DaskExecutor
from hds_audit.executors.local import LocalExecutor
from hds_audit.executors.settings import merge_executor, parse_executor_section
from hds_audit.sharding import Shard, shard_of


def follow_squares(task: Task, result: Any) -> Iterable[Task]:
    """Each first-generation square asks for one follow-up (n + 100)."""
    if isinstance(task, Square) and task.n < 100:
        return [Square(task.n + 100)]
    return ()


def run_all(executor: Any, spec: CountingSpec, local: Any = None) -> dict[str, Any]:
    tasks: list[Task] = [Square(n) for n in range(6)] + [Broken(7)]
    done = list(executor.run(Environment(spec, local), tasks, follow_squares))
    return {d.task.key: d for d in done}


def test_local_executor_runs_follow_ups_and_stands_in_for_crashes() -> None:
    env = {"label": "injected", "pid": os.getpid(), "runs": 0}
    done = run_all(LocalExecutor(3), CountingSpec("unused"), local=env)
    assert {k for k in done if k.startswith("square/")} == {
        f"square/{n}" for n in [*range(6), *range(100, 106)]
    }
    assert done["square/104"].result[0] == 104 * 104
    assert done["square/3"].lost is None
    assert env["runs"] == 12, "the injected environment was used, not a built one"
    broken = done["broken/7"]
    assert broken.lost is not None and "ZeroDivisionError" in broken.lost
    assert broken.result == (-1, broken.lost, 0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskExecutor]:
    executor = DaskExecutor.connect(None, workers=2, threads_per_worker=2, retries=1)
    try:
        yield executor
    finally:
        executor.close()


def test_dask_executor_gives_the_same_results_from_worker_processes(
    cluster: DaskExecutor,
) -> None:
    local = run_all(LocalExecutor(3), CountingSpec("spec"))
    remote = run_all(cluster, CountingSpec("spec"))
    assert {k: d.result[:2] for k, d in remote.items() if d.lost is None} == {
        k: d.result[:2] for k, d in local.items() if d.lost is None
    }
    pids = {d.result[2] for d in remote.values() if d.lost is None}
    assert os.getpid() not in pids, "the tasks ran in the workers, not here"
    broken = remote["broken/7"]
    assert broken.lost is not None
    assert "after its retries" in broken.lost and "ZeroDivisionError" in broken.lost
    assert "Dask" in cluster.description and "2 workers" in cluster.description


def test_executor_settings_from_the_configuration_file() -> None:
    assert parse_executor_section("dask", "f.yaml").kind == "dask"
    parsed = parse_executor_section({"scheduler": "tcp://s:8786", "retries": 0}, "f.yaml")
    assert (parsed.kind, parsed.scheduler, parsed.retries) == ("dask", "tcp://s:8786", 0)
    for bad, message in [
        ("ray", "executor.kind"),
        ({"workers": 0}, "executor.workers"),
        ({"retries": True}, "executor.retries"),
        ({"timeout": -1}, "executor.timeout"),
        ({"sheduler": "x"}, "unknown executor setting sheduler"),
        (3, "'executor' must be"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_executor_section(bad, "f.yaml")
    assert merge_executor(parsed, "local", None).kind == "local"
    assert merge_executor(None, None, "tcp://x:1").kind == "dask"
    with pytest.raises(UsageError, match="needs --executor dask"):
        merge_executor(None, "local", "tcp://x:1")


def test_shards_are_parsed_and_each_key_has_exactly_one() -> None:
    assert Shard.parse("3/16") == Shard(3, 16) and Shard.parse(" 1 / 1 ").label == "1/1"
    for bad in ("0/4", "5/4", "1/0", "a/b", "3", ""):
        with pytest.raises(UsageError, match="--shard"):
            Shard.parse(bad)
    keys = [f"aws:{n:012d}" for n in range(400)]
    shards = [Shard(i, 8) for i in range(1, 9)]
    owners = [[s.index for s in shards if s.owns(k)] for k in keys]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(1 for o in owners if o == [i]) for i in range(1, 9)]
    assert min(sizes) > 20, sizes  # spread, not all in one slice


def test_shard_assignment_is_stable_across_releases() -> None:
    """Users' CI matrices depend on it: changing the hash would move accounts between jobs."""
    assert shard_of("aws:123456789012", 16) == 8
    assert shard_of("azure:00000000-0000-0000-0000-000000000001", 4) == 2


def test_executor_and_shard_live_in_the_configuration_file(tmp_path: Path) -> None:
    from hds_audit.config import load_config

    config = tmp_path / "hds-audit.yaml"
    config.write_text(
        "executor:\n  kind: dask\n  workers: 4\n  threads_per_worker: 16\nshard: 3/16\n",
        encoding="utf-8",
    )
    loaded = load_config(str(config))
    assert loaded.shard == Shard(3, 16)
    assert loaded.executor is not None
    assert (loaded.executor.kind, loaded.executor.workers, loaded.executor.scheduler) == (
        "dask",
        4,
        None,
    )
    config.write_text("shard: 17/16\n", encoding="utf-8")
    with pytest.raises(UsageError, match="shard"):
        load_config(str(config))
