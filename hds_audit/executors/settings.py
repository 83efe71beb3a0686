"""``--executor`` / ``--dask-scheduler`` and the ``executor:`` section of ``hds-audit.yaml``.

No Dask import here: settings are validated before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hds_audit.errors import UsageError
from hds_audit.executors.base import Executor

EXECUTORS = ("local", "dask")
_KEYS = frozenset({"kind", "scheduler", "workers", "threads_per_worker", "retries", "timeout"})


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """``kind``: local (thread pool, the default) or dask (``scheduler``: None = LocalCluster)."""

    kind: str = "local"
    scheduler: str | None = None
    workers: int | None = None  # LocalCluster size
    threads_per_worker: int | None = None  # LocalCluster threads per worker process
    retries: int = 2
    timeout: float = 10.0


def _whole(value: Any, key: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{label}: executor.{key} must be a whole number from {low} to {high}")
    return value


def parse_executor_section(value: Any, label: str) -> ExecutorSettings:
    """Validate ``executor:`` (a name, ``local`` / ``dask``, or a mapping of settings)."""
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, Mapping):
        raise UsageError(f"{label}: 'executor' must be local, dask or a mapping of settings")
    unknown = sorted(set(map(str, value)) - _KEYS)
    if unknown:
        raise UsageError(
            f"{label}: unknown executor setting {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_KEYS))}"
        )
    kind = value.get("kind", "dask" if value.get("scheduler") else "local")
    if kind not in EXECUTORS:
        raise UsageError(f"{label}: executor.kind must be one of {', '.join(EXECUTORS)}")
    scheduler = value.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler):
        raise UsageError(f"{label}: executor.scheduler must be an address (tcp://host:8786)")
    timeout = value.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError(f"{label}: executor.timeout must be a number of seconds above 0")
    return ExecutorSettings(
        kind=str(kind),
        scheduler=scheduler,
        workers=_whole(value["workers"], "workers", label, 1, 1024) if "workers" in value else None,
        threads_per_worker=_whole(value["threads_per_worker"], "threads_per_worker", label, 1, 256)
        if "threads_per_worker" in value
        else None,
        retries=_whole(value.get("retries", 2), "retries", label, 0, 20),
        timeout=float(timeout),
    )


def merge_executor(
    file: ExecutorSettings | None, kind: str | None, scheduler: str | None
) -> ExecutorSettings:
    """Command line over file; ``--dask-scheduler`` alone means ``--executor dask``."""
    from dataclasses import replace

    base = file or ExecutorSettings()
    if kind == "local" and scheduler:
        raise UsageError("--dask-scheduler needs --executor dask")
    chosen = kind or ("dask" if scheduler else base.kind)
    return replace(base, kind=chosen, scheduler=scheduler or base.scheduler)


def open_executor(settings: ExecutorSettings) -> Executor | None:
    """The executor to run collection tasks on; ``None``: each collector's own thread pool.

    A Dask cluster is reached here, before any collection (exit 3 when it cannot be).
    """
    if settings.kind == "local":
        return None
    from hds_audit.executors.cluster import DaskExecutor

    return DaskExecutor.connect(
        settings.scheduler,
        workers=settings.workers,
        threads_per_worker=settings.threads_per_worker,
        retries=settings.retries,
        timeout=settings.timeout,
    )
