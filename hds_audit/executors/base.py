"""The executor interface: tasks in, results out as they complete, follow-up tasks allowed.

A task is a small picklable description of one unit of work, e.g. (aws, account, region,
service). It runs against an *environment*: the per-process things a worker builds once and
reuses (clients, sessions, caches, a detail-call pool). The environment is described by an
:class:`EnvSpec` -- picklable, with nothing secret in it: credentials come from the worker's
own environment or role -- and built at most once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class EnvSpec(Protocol):
    """How to build a worker's environment; hashable (one environment per spec and process)."""

    def __hash__(self) -> int: ...

    def build(self) -> Any:
        """The environment: clients, caches, pools. Called once per process."""
        ...


@runtime_checkable
class Task(Protocol):
    """One unit of collection work."""

    @property
    def key(self) -> str:
        """Unique and readable within a run: ``aws/123456789012/eu-west-3/s3``."""
        ...

    def run(self, env: Any) -> Any:
        """Do the work; expected failures are part of the result (collection errors)."""
        ...

    def lost(self, reason: str) -> Any:
        """The result standing for this task when it could not run (worker lost, crash)."""
        ...


def affinity_of(task: Task) -> str | None:
    """A task's optional ``affinity``: tasks with the same one are best run in one process
    (an account's tasks reuse the role assumed and the clients built there)."""
    value = getattr(task, "affinity", None)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Environment:
    """The spec every worker builds from, and optionally an environment already built here.

    A collector running in this process may inject what tests and embedders give it (a
    session factory, an observer of every call); executors running elsewhere build their own
    from ``spec``.
    """

    spec: EnvSpec
    local: Any = None


@dataclass(frozen=True, slots=True)
class Done:
    """A finished task: its result, and whether the executor had to stand in for it."""

    task: Task
    result: Any
    lost: str | None = None


Follow = Callable[[Task, Any], Iterable[Task]]


class Executor(Protocol):
    """Runs tasks; yields each :class:`Done` as it completes (any order).

    ``follow`` is called in the calling process with each finished task and its result, and
    returns the tasks to run next (the regions of an account once they are known).
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str:
        """One line for the report's sources and the progress display."""
        ...

    def run(
        self, env: Environment, tasks: Iterable[Task], follow: Follow | None = None
    ) -> Iterator[Done]: ...

    def close(self) -> None: ...


_ENVIRONMENTS: dict[Hashable, Any] = {}
_ENVIRONMENTS_LOCK = threading.Lock()


def environment_for(spec: EnvSpec) -> Any:
    """This process's environment for ``spec``, built on first use (thread-safe)."""
    env = _ENVIRONMENTS.get(spec)
    if env is None:
        with _ENVIRONMENTS_LOCK:
            env = _ENVIRONMENTS.get(spec)
            if env is None:
                env = _ENVIRONMENTS[spec] = spec.build()
    return env


def run_task(spec: EnvSpec, task: Task) -> Any:
    """What a remote worker runs: the task against its process's environment for ``spec``."""
    return task.run(environment_for(spec))


def failure_text(error: BaseException) -> str:
    """``Type: first line`` of an exception, for the reason of a lost task."""
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__
