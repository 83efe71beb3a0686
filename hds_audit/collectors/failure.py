"""Why a cloud call failed, classified: the shape every API collector reports failures in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call failed, classified: access_denied, not_registered, throttled, ..."""

    kind: str
    message: str


#: The failure of a scope whose task brought nothing back to say why.
NOT_READ = Failure("internal", "not read")


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, at most 300 characters."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]
