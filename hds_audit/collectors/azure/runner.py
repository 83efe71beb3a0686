"""A bounded call runner: in-flight calls in all, per key (subscription) and per group
(subscription and service) are capped.

Calls return their follow-up calls instead of waiting on them, so a detail call never
blocks a worker while it waits for another: no pool starvation, whatever the bounds. A
service task runs its detail calls with it, on the detail pool its process shares.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

Group = tuple[str, str]


@dataclass(slots=True)
class Task:
    """One call: ``key`` bounds its parallelism; ``group`` is what progress reports on."""

    key: str
    group: Group
    run: Callable[[], list[Task]]


def run_tasks(
    tasks: Iterable[Task],
    max_workers: int,
    per_key: int | None = None,
    per_group: int | None = None,
    on_group_done: Callable[[Group], None] | None = None,
    on_crash: Callable[[Task, BaseException], None] | None = None,
    pool: Executor | None = None,
) -> None:
    """Run ``tasks`` and all their follow-ups; returns when every one has finished.

    ``max_workers`` bounds the calls in flight, on ``pool`` (shared, left running) or on a
    pool of that many threads made for this run. A task is expected to record its own
    failures; one that raises anyway is reported to ``on_crash`` (never dropped) and its
    group still completes.
    """
    max_workers = max(1, max_workers)
    per_key = max(1, per_key or max_workers)
    per_group = max(1, per_group or max_workers)
    queues: dict[Group, deque[Task]] = {}  # one per group: round-robin over services
    pending: Counter[Group] = Counter()
    running: Counter[str] = Counter()
    running_groups: Counter[Group] = Counter()

    def enqueue(task: Task) -> None:
        queues.setdefault(task.group, deque()).append(task)
        pending[task.group] += 1

    for task in tasks:
        enqueue(task)
    in_flight: dict[Future[list[Task]], Task] = {}
    runner = pool or ThreadPoolExecutor(max_workers, thread_name_prefix="hds-azure")
    try:
        while True:
            progressed = True
            while progressed and len(in_flight) < max_workers:
                progressed = False
                for group, queue in queues.items():
                    if (
                        queue
                        and len(in_flight) < max_workers
                        and running_groups[group] < per_group
                        and running[queue[0].key] < per_key
                    ):
                        task = queue.popleft()
                        running[task.key] += 1
                        running_groups[group] += 1
                        in_flight[runner.submit(task.run)] = task
                        progressed = True
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                running[task.key] -= 1
                running_groups[task.group] -= 1
                error = future.exception()
                if error is not None:
                    if on_crash is None:
                        raise error
                    on_crash(task, error)
                else:
                    for follow in future.result():
                        enqueue(follow)
                pending[task.group] -= 1
                if pending[task.group] == 0 and on_group_done is not None:
                    on_group_done(task.group)
    finally:
        if pool is None:
            runner.shutdown(wait=True)
