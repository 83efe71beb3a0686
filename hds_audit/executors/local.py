"""The default executor: a bounded thread pool in this process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from hds_audit.executors.base import (
    Done,
    Environment,
    Follow,
    Task,
    environment_for,
    failure_text,
)


@dataclass(slots=True)
class LocalExecutor:
    """Runs tasks on ``max_workers`` threads; the environment is built (or given) here once."""

    max_workers: int = 16
    name: str = "local"

    @property
    def description(self) -> str:
        return f"local thread pool ({self.max_workers} threads)"

    def run(
        self, env: Environment, tasks: Iterable[Task], follow: Follow | None = None
    ) -> Iterator[Done]:
        built = env.local if env.local is not None else environment_for(env.spec)
        with ThreadPoolExecutor(
            max_workers=max(1, self.max_workers), thread_name_prefix="hds-task"
        ) as pool:
            pending: dict[Future[Any], Task] = {pool.submit(t.run, built): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        finished = Done(task, future.result())
                    else:  # a bug in a task: reported on its scope, never dropped
                        reason = f"task crashed ({failure_text(error)})"
                        finished = Done(task, task.lost(reason), reason)
                    yield finished
                    if follow is not None:
                        for more in follow(task, finished.result):
                            pending[pool.submit(more.run, built)] = more

    def close(self) -> None:
        return None
