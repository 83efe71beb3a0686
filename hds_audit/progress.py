"""Progress of a long scan on stderr: one live line on a terminal, nothing in CI unless asked.

Stages are what the scan is doing ("terraform: reading plan.json (1/3)"); counts say how far
a stage got. Counts are reported every :data:`EVERY` items, so the cost stays negligible
and the output does not depend on timing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

EVERY = 1000  # items between two count reports
_CLEAR = "\r\x1b[K"  # back to the start of the line, erase it


class ScanProgress(Protocol):
    """Told what the scan is doing; never influences it."""

    @property
    def active(self) -> bool: ...

    def stage(self, text: str) -> None: ...

    def count(self, done: int, unit: str = "resources") -> None: ...

    def close(self) -> None: ...


class Silent:
    """No progress (not a terminal, ``--no-progress``, ``--quiet``)."""

    active = False

    def stage(self, text: str) -> None:
        return None

    def count(self, done: int, unit: str = "resources") -> None:
        return None

    def close(self) -> None:
        return None


SILENT = Silent()


@dataclass(slots=True)
class LiveLine:
    """A terminal: one line, rewritten in place, erased when the scan is done."""

    stream: TextIO
    active: bool = True
    _stage: str = ""
    _shown: bool = False

    def _show(self, text: str) -> None:
        self.stream.write(f"{_CLEAR}hds-audit: {text}")
        self.stream.flush()
        self._shown = True

    def stage(self, text: str) -> None:
        self._stage = text
        self._show(text)

    def count(self, done: int, unit: str = "resources") -> None:
        self._show(f"{self._stage}: {done:,} {unit}")

    def close(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._shown = False


@dataclass(slots=True)
class Lines:
    """``--progress`` where stderr is not a terminal (a CI log): one line per stage, and one
    per ten count reports."""

    stream: TextIO
    active: bool = True
    _stage: str = ""

    def stage(self, text: str) -> None:
        self._stage = text
        self.stream.write(f"hds-audit: {text}\n")
        self.stream.flush()

    def count(self, done: int, unit: str = "resources") -> None:
        if done % (EVERY * 10) == 0:
            self.stream.write(f"hds-audit: {self._stage}: {done:,} {unit}\n")
            self.stream.flush()

    def close(self) -> None:
        return None


def progress_for(wanted: bool | None, quiet: bool, stream: TextIO | None = None) -> ScanProgress:
    """``--progress`` (True), ``--no-progress`` (False) or neither (None: on a terminal only).

    ``--quiet`` silences it unless ``--progress`` is given explicitly.
    """
    stream = stream or sys.stderr
    if wanted is False or (wanted is None and quiet):
        return SILENT
    terminal = stream.isatty()
    if wanted is None and not terminal:
        return SILENT
    return LiveLine(stream) if terminal else Lines(stream)
