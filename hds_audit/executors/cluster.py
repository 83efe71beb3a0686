"""The Dask executor: tasks on an existing ``distributed`` cluster, or a LocalCluster here.

Tasks are submitted with :func:`~hds_audit.executors.base.run_task`; each worker process
builds its environment once from the (picklable, secret-free) spec and keeps it. A task whose
worker dies is rescheduled by the scheduler (``distributed.scheduler.allowed-failures``); an
exception is retried ``retries`` times. What still fails comes back as the task's ``lost``
result, with the reason: the run completes and that scope is ``unknown``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hds_audit.errors import Unreachable, UsageError, unreachable_reason
from hds_audit.executors.base import (
    Done,
    Environment,
    Follow,
    Task,
    affinity_of,
    failure_text,
    run_task,
)
from hds_audit.sharding import shard_of

DEFAULT_RETRIES = 2


def _installed_version() -> str | None:
    """What a worker reports: the hds-audit version it would run (None: not installed)."""
    import importlib.metadata as metadata
    import importlib.util

    if importlib.util.find_spec("hds_audit") is None:
        return None
    try:
        return metadata.version("hds-audit")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(slots=True)
class DaskExecutor:
    """Submits every task to a ``distributed.Client``; results stream back as they finish."""

    client: Any
    cluster: Any = None  # the LocalCluster this executor started (closed with it)
    retries: int = DEFAULT_RETRIES
    address: str = ""
    name: str = "dask"
    _closed: bool = field(default=False)

    @classmethod
    def connect(
        cls,
        scheduler: str | None,
        *,
        workers: int | None = None,
        threads_per_worker: int | None = None,
        retries: int = DEFAULT_RETRIES,
        timeout: float = 10.0,
    ) -> DaskExecutor:
        """Reach ``scheduler`` (or start a LocalCluster on loopback): exit 3 when the scheduler
        cannot be reached, 2 when the cluster is unusable.

        Checked before any collection: the scheduler answers, at least one worker is there,
        and every worker runs the same hds-audit version as this client.
        """
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as error:
            raise UsageError(
                f"--executor dask needs Dask ({error}): pip install 'hds-audit[dask]'"
            ) from None
        cluster = None
        try:
            if scheduler is None:
                # A killed worker's replacement may take more than the default 15 s to
                # register on a loaded machine; the LocalCluster must not give up on it.
                dask.config.set({"distributed.deploy.lost-worker-timeout": "10 minutes"})
                cluster = LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=threads_per_worker or 8,
                    processes=True,
                    host="127.0.0.1",
                    # the scheduler's HTTP endpoint (health, metrics): loopback, any free port
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster, timeout=timeout)
            else:
                client = Client(scheduler, timeout=timeout)
        except Exception as error:  # unreachable, refused, or a LocalCluster that won't start
            if cluster is not None:
                cluster.close()
            if scheduler is None:
                raise UsageError(
                    f"--executor dask: could not start a LocalCluster ({failure_text(error)})"
                ) from None
            raise Unreachable(
                f"Dask scheduler {scheduler} could not be reached "
                f"({unreachable_reason(str(error))}); check --dask-scheduler "
                "(executor.scheduler in hds-audit.yaml) and the network"
            ) from None
        address = scheduler or str(getattr(client.scheduler, "address", "") or "LocalCluster")
        executor = cls(client, cluster, retries, address)
        try:
            executor._check_workers(timeout)
        except UsageError:
            executor.close()
            raise
        return executor

    def _check_workers(self, timeout: float) -> None:
        label = self.address
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise UsageError(
                f"--dask-scheduler {label}: the cluster has no worker (waited {timeout:g} s)"
            ) from None
        try:
            version = importlib.metadata.version("hds-audit")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
            version = "unknown"
        reported: dict[str, str | None] = self.client.run(_installed_version)
        wrong = sorted(
            f"{worker} ({found or 'not installed'})"
            for worker, found in reported.items()
            if found != version
        )
        if wrong:
            raise UsageError(
                f"--dask-scheduler {label}: workers must run hds-audit {version}; "
                f"these do not: {', '.join(wrong)}"
            )

    @property
    def description(self) -> str:
        workers = len(self.client.nthreads())  # every worker (scheduler_info may page them)
        where = "LocalCluster" if self.cluster is not None else "cluster"
        return f"Dask {where} {self.address} ({workers} workers)"

    def run(
        self, env: Environment, tasks: Iterable[Task], follow: Follow | None = None
    ) -> Iterator[Done]:
        from distributed import as_completed

        run_id = uuid.uuid4().hex[:12]
        spec = env.spec  # a few hundred bytes: sent with each task, so no worker holds it alone
        owners: dict[str, Task] = {}
        completed = as_completed()
        workers = sorted(self.client.nthreads())

        def submit(task: Task) -> None:
            # Same affinity, same preferred worker (a stable hash over the workers present at
            # the start): an account is set up in one process, not in every one. The
            # preference is loose: idle workers may steal, and a lost worker's tasks move.
            affinity = affinity_of(task)
            preferred = (
                [workers[shard_of(affinity, len(workers)) - 1]] if affinity and workers else None
            )
            future = self.client.submit(
                run_task,
                spec,
                task,
                key=f"hds-{run_id}-{task.key}",
                retries=self.retries,
                pure=False,
                workers=preferred,
                allow_other_workers=preferred is not None,
            )
            owners[future.key] = task
            completed.add(future)

        for task in tasks:
            submit(task)
        for future in completed:
            task = owners.pop(future.key)
            try:
                # a result whose worker died before we read it is recomputed: wait for it
                finished = Done(task, future.result())
            except Exception as error:
                reason = _lost_reason(error)
                finished = Done(task, task.lost(reason), reason)
            future.release()
            yield finished
            if follow is not None:
                for more in follow(task, finished.result):
                    submit(more)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _lost_reason(error: BaseException) -> str:
    if type(error).__name__ == "CancelledError":  # the scheduler or the client went away
        return f"task lost on the Dask cluster ({failure_text(error)})"
    if type(error).__name__ == "KilledWorker":
        return (
            "worker lost while running the task, still lost after the scheduler's retries "
            f"({failure_text(error)})"
        )
    return f"task failed on the Dask cluster after its retries ({failure_text(error)})"
