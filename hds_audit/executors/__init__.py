"""Where collection tasks run: a local thread pool, or a Dask distributed cluster.

Collectors describe their work as small, picklable :class:`Task` objects and hand them to an
:class:`Executor`; evaluation and report writing stay in the calling process, so every
executor gives the same report for the same estate. Only :func:`open_executor` knows which
implementation is in use.
"""

from hds_audit.executors.base import (
    Done,
    Environment,
    EnvSpec,
    Executor,
    Task,
    run_task,
)
from hds_audit.executors.settings import ExecutorSettings, open_executor, parse_executor_section

__all__ = [
    "Done",
    "EnvSpec",
    "Environment",
    "Executor",
    "ExecutorSettings",
    "Task",
    "open_executor",
    "parse_executor_section",
    "run_task",
]
