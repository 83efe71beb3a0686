"""Tasks for the executor tests: importable by Dask workers (they inherit sys.path)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CountingSpec:
    """An environment that records the process it was built in."""

    label: str

    def build(self) -> dict[str, Any]:
        return {"label": self.label, "pid": os.getpid(), "runs": 0}


@dataclass(frozen=True, slots=True)
class Square:
    """Squares ``n``; ``fan_out`` follow-ups are asked for by the test's ``follow``."""

    n: int
    fan_out: int = 0

    @property
    def key(self) -> str:
        return f"square/{self.n}"

    def run(self, env: dict[str, Any]) -> tuple[int, str, int]:
        env["runs"] += 1
        return self.n * self.n, env["label"], env["pid"]

    def lost(self, reason: str) -> tuple[int, str, int]:
        return -1, reason, 0


@dataclass(frozen=True, slots=True)
class Broken:
    """A task with a bug: it raises."""

    n: int

    @property
    def key(self) -> str:
        return f"broken/{self.n}"

    def run(self, env: dict[str, Any]) -> tuple[int, str, int]:
        raise ZeroDivisionError(f"task {self.n} divides by zero")

    def lost(self, reason: str) -> tuple[int, str, int]:
        return -1, reason, 0
