"""Progress a person can follow: a live display on a terminal, log lines elsewhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO


class Progress(Protocol):
    """Told about every task of the scan; never influences it."""

    def planned(self, account: str, tasks: int) -> None: ...

    def task_done(
        self, account: str, region: str, service: str, resources: int, error: str | None
    ) -> None: ...

    def note(self, message: str) -> None: ...

    def finished(self) -> None: ...


class NoProgress:
    """``--quiet``: nothing."""

    def planned(self, account: str, tasks: int) -> None:
        return None

    def task_done(
        self, account: str, region: str, service: str, resources: int, error: str | None
    ) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def finished(self) -> None:
        return None


@dataclass(slots=True)
class LogProgress:
    """Plain lines (CI logs): one per finished task."""

    stream: TextIO
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def planned(self, account: str, tasks: int) -> None:
        self._line(f"aws: {account}: {tasks} tasks planned")

    def task_done(
        self, account: str, region: str, service: str, resources: int, error: str | None
    ) -> None:
        outcome = f"ERROR {error}" if error else f"{resources} resources"
        self._line(f"aws: {account}/{region}/{service}: {outcome}")

    def note(self, message: str) -> None:
        self._line(f"aws: {message}")

    def finished(self) -> None:
        return None


@dataclass(slots=True)
class _AccountLine:
    planned: int = 0
    done: int = 0
    resources: int = 0
    errors: int = 0
    regions: set[str] = field(default_factory=set)
    last: str = ""


@dataclass(slots=True)
class LiveProgress:
    """A terminal display redrawn in place: one line per account, counts and errors so far."""

    stream: TextIO
    clock: Callable[[], float] = time.monotonic
    interval: float = 0.1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _accounts: dict[str, _AccountLine] = field(default_factory=dict)
    _drawn: int = 0
    _last_draw: float = 0.0

    def planned(self, account: str, tasks: int) -> None:
        with self._lock:
            self._accounts.setdefault(account, _AccountLine()).planned += tasks
            self._draw(force=True)

    def task_done(
        self, account: str, region: str, service: str, resources: int, error: str | None
    ) -> None:
        with self._lock:
            line = self._accounts.setdefault(account, _AccountLine())
            line.done += 1
            line.resources += resources
            line.errors += error is not None
            line.regions.add(region)
            line.last = f"{region}/{service}" + (" (error)" if error else "")
            self._draw()

    def note(self, message: str) -> None:
        with self._lock:
            self._clear()
            self.stream.write(f"aws: {message}\n")
            self._drawn = 0
            self._draw(force=True)

    def finished(self) -> None:
        with self._lock:
            self._draw(force=True)
            self.stream.write("\n" if self._drawn == 0 else "")
            self.stream.flush()
            self._drawn = 0

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._clear()
        lines = [
            f"aws {account}: {a.done}/{a.planned} tasks, {len(a.regions)} regions, "
            f"{a.resources} resources, {a.errors} errors  {a.last}"
            for account, a in sorted(self._accounts.items())
        ]
        for text in lines:
            self.stream.write(f"\x1b[K{text}\n")
        self._drawn = len(lines)
        self.stream.flush()
