"""One collection on an executor: the loop the Google Cloud and Scaleway collectors share.

A *run* knows its first tasks, the tasks that follow a result (projects found in an
organisation), records each result and assembles the :class:`Collection`; this module drives
it on the collector's executor (a local thread pool by default), counts the requests and times
it. The notes of the sources collected and whether tasks run in this process are worked out
here too, for every API collector.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from hds_audit.collectors.base import Collection
from hds_audit.collectors.failure import NOT_READ, Failure
from hds_audit.executors.base import Environment, Executor, Task
from hds_audit.executors.local import LocalExecutor

if TYPE_CHECKING:
    from hds_audit.sharding import Shard


@dataclass(slots=True)
class CollectStats:
    """Figures of the last collection (the benchmarks print them): HTTP requests, retries
    included when the tasks ran in this process."""

    requests: int = 0
    wall_seconds: float = 0.0
    projects: int = 0
    resources: int = 0


class TaskRun(Protocol):
    """What a collector's run exposes to :func:`run_tasks`."""

    requests: int  # as the tasks report them (what a cluster's workers sent)

    @property
    def project_count(self) -> int: ...

    def first_tasks(self) -> list[Task]: ...

    def follow(self, task: Task, result: Any) -> Iterable[Task]: ...

    def record(self, task: Task, result: Any) -> None: ...

    def collection(self, executor: str | None) -> Collection: ...


def run_tasks(
    run: TaskRun, env: Environment, executor: Executor | None, max_workers: int
) -> tuple[Collection, int]:
    """Run every task of ``run``; the collection and the requests sent.

    When the tasks ran in this process, every request (retries included) went through its
    environment's tally; on a cluster, the count is what the tasks report. The local
    environment is closed afterwards.
    """
    pool = executor or LocalExecutor(max_workers)
    try:
        for done in pool.run(env, run.first_tasks(), run.follow):
            run.record(done.task, done.result)
        result = run.collection(executor.description if executor is not None else None)
    finally:
        close = getattr(env.local, "close", None)
        if callable(close):
            close()
    tally = getattr(env.local, "tally", None)
    return result, int(tally.count) if tally is not None else run.requests


def timed_run(
    make_run: Callable[[], TaskRun],
    environment: Callable[[], Environment],
    executor: Executor | None,
    max_workers: int,
    clock: Callable[[], float],
) -> tuple[Collection, CollectStats]:
    """:func:`run_tasks` on a new run, and its figures: requests, wall time (building the run
    and the environment included), projects, resources."""
    started = clock()
    run = make_run()
    result, requests = run_tasks(run, environment(), executor, max_workers)
    stats = CollectStats(
        requests=requests,
        wall_seconds=clock() - started,
        projects=run.project_count,
        resources=len(result.resources),
    )
    return result, stats


def runs_elsewhere(executor: Executor | None) -> bool:
    """Whether tasks on ``executor`` run outside this process (each worker builds its own
    environment, credentials included, from the collector's spec)."""
    return executor is not None and executor.name != "local"


def source_notes(shard: Shard | None, executor: str | None, endpoint: str | None) -> list[str]:
    """The notes of a source collected: the shard, the executor it ran on, the endpoint."""
    notes = [f"shard {shard.label}"] if shard is not None else []
    if executor is not None:
        notes.append(f"collected on {executor}")
    if endpoint:
        notes.append(f"endpoint {endpoint}")
    return notes


@dataclass
class ScopeProgress:
    """One line per scope read (a project, a region) on a stream (stderr); silent when
    ``stream`` is None."""

    stream: TextIO | None = None

    def scope(
        self,
        name: str,
        resources: int,
        failure: Failure | None = None,
        not_read: Sequence[str] = (),
    ) -> None:
        """``name: N resources`` (``; not read: ...`` the parts that failed), or, when the whole
        scope failed, ``name: not audited (kind): message``."""
        if self.stream is None:
            return
        text = f"{name}: {resources} resources"
        if failure is not None:
            text = f"{name}: not audited ({failure.kind}): {failure.message}"
        elif not_read:
            text += f"; not read: {', '.join(not_read)}"
        print(text, file=self.stream, flush=True)

    def read(self, name: str, items: Sized | None, failure: Failure | None) -> None:
        """The line of a scope whose ``items`` are None when it failed as a whole."""
        whole = None if items is not None else failure or NOT_READ
        self.scope(name, len(items) if items is not None else 0, whole)


def stderr_stream(quiet: bool) -> TextIO | None:
    """Where progress lines go: stderr, unless ``quiet``."""
    return None if quiet else sys.stderr
