"""Progress a person can follow: live on a terminal, log lines in CI, nothing with --quiet."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO


class Progress(Protocol):
    """Events of an Azure collection; implementations must be thread-safe."""

    def subscription(self, subscription: str, label: str) -> None: ...

    def finished(
        self, subscription: str, service: str, resources: int, errors: int, message: str | None
    ) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """``--quiet``: nothing."""

    def subscription(self, subscription: str, label: str) -> None:
        return None

    def finished(
        self, subscription: str, service: str, resources: int, errors: int, message: str | None
    ) -> None:
        return None

    def close(self) -> None:
        return None


class LogProgress:
    """One plain line per finished (subscription, service): for CI logs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}

    def subscription(self, subscription: str, label: str) -> None:
        with self._lock:
            self._labels[subscription] = label

    def finished(
        self, subscription: str, service: str, resources: int, errors: int, message: str | None
    ) -> None:
        label = self._labels.get(subscription, subscription)
        line = f"azure: {label}: {service}: {resources} resource(s)"
        if errors:
            line += f", {errors} error(s)" + (f": {message}" if message else "")
        with self._lock:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        return None


@dataclass(slots=True)
class _Row:
    label: str
    services: int = 0
    resources: int = 0
    errors: int = 0
    last: str = ""


class LiveProgress:
    """A redrawn block, one line per subscription: services done, resources, errors so far."""

    def __init__(
        self,
        stream: TextIO,
        services: int,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream
        self.total = services
        self.clock = clock
        self.interval = interval
        self._rows: dict[str, _Row] = {}
        self._drawn = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def subscription(self, subscription: str, label: str) -> None:
        with self._lock:
            self._rows.setdefault(subscription, _Row(label))
            self._draw(force=True)

    def finished(
        self, subscription: str, service: str, resources: int, errors: int, message: str | None
    ) -> None:
        with self._lock:
            row = self._rows.setdefault(subscription, _Row(subscription))
            row.services += 1
            row.resources += resources
            row.errors += errors
            row.last = service
            self._draw()

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        out = self.stream
        if self._drawn:
            out.write(f"\x1b[{self._drawn}F")
        for row in self._rows.values():
            done = "done" if row.services >= self.total else f"{row.services}/{self.total}"
            line = f"azure {row.label[:40]:40} {done:>7} services  {row.resources:6} resources"
            if row.errors:
                line += f"  {row.errors} error(s)"
            if row.last and row.services < self.total:
                line += f"  (last: {row.last})"
            out.write("\x1b[2K" + line + "\n")
        self._drawn = len(self._rows)
        out.flush()

    def close(self) -> None:
        with self._lock:
            self._draw(force=True)
