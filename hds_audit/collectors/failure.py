"""Why a cloud call failed, classified: the shape every API collector reports failures in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call failed, classified: access_denied, not_registered, throttled, ..."""

    kind: str
    message: str


#: The kind of failure of a task that never came back (its worker lost, a crash).
TASK_LOST = "task_lost"


def lost(reason: str) -> Failure:
    """The failure standing for a task that did not come back (worker lost, crash)."""
    return Failure(TASK_LOST, reason)


#: The failure of a scope whose task brought nothing back to say why.
NOT_READ = Failure("internal", "not read")


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, at most 300 characters."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]
