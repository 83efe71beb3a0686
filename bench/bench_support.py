"""What the benchmarks share: a suite's loopback API run in a process of its own, so a
benchmark's CPU time is the collector's alone (a server in a thread of the same process would
be counted with it), and the line that prints that CPU per resource."""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from typing import Any


def _serve(module: str, estate: Any, answers: Queue[Any], asks: Queue[str]) -> None:
    """The child: serve ``estate`` with ``module.serve``; answer the request count on ask."""
    with importlib.import_module(module).serve(estate) as server:
        answers.put(server.url)
        while asks.get() != "stop":
            answers.put(len(server.requests))


class RemoteServer:
    """A loopback API running in a child process: its URL and how many requests it served."""

    def __init__(self, url: str, answers: Queue[Any], asks: Queue[str]) -> None:
        self.url = url
        self._answers, self._asks = answers, asks

    def request_count(self) -> int:
        self._asks.put("count")
        count: int = self._answers.get(timeout=60)
        return count


@contextmanager
def serve_in_process(module: str, estate: Any) -> Iterator[RemoteServer]:
    """``module.serve(estate)`` (a test-suite server module on ``sys.path``) in a spawned
    process for the duration of the block."""
    context = multiprocessing.get_context("spawn")
    answers: Queue[Any] = context.Queue()
    asks: Queue[str] = context.Queue()
    child = context.Process(target=_serve, args=(module, estate, answers, asks), daemon=True)
    child.start()
    try:
        yield RemoteServer(answers.get(timeout=60), answers, asks)
    finally:
        asks.put("stop")
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()


def cpu_line(label: str, seconds: float, resources: int) -> str:
    """``  CPU per resource (LABEL): N ms (S s CPU)``, the figure a regression shows in."""
    per_resource = seconds / max(resources, 1) * 1000
    return f"  CPU per resource ({label}): {per_resource:.2f} ms ({seconds:.2f} s CPU)"
