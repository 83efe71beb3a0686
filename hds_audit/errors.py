"""Exceptions that carry their exit code (design.md: 0 clean, 1 findings, 2 input, 3 incomplete)."""

from __future__ import annotations

from hds_audit.i18n import Msg


class HdsAuditError(Exception):
    """Base class: ``str(error)`` is the one line shown to the user."""

    exit_code = 3


class UsageError(HdsAuditError):
    """Bad command line, configuration or policy: nothing was audited."""

    exit_code = 2


class InputError(HdsAuditError):
    """An input file cannot be used. Carries the file so the message names it."""

    exit_code = 2

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class PolicyError(UsageError):
    """A policy file is invalid: the message names the file and the line."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


class AuditIncomplete(HdsAuditError):
    """The audit could not complete (e.g. a report could not be written)."""

    exit_code = 3


class Unreachable(AuditIncomplete):
    """An endpoint (cloud API, proxy, Dask scheduler) could not be reached: an environment
    problem, not a bug. The message names the endpoint."""


_REASONS = (  # (what the network error says, the message key of the reason)
    ("refused", "net.refused"),
    ("timed out", "net.timed_out"),
    ("timeout", "net.timed_out"),
    ("proxy", "net.proxy"),
    ("name or service not known", "net.not_resolved"),
    ("nodename nor servname", "net.not_resolved"),
    ("name resolution", "net.not_resolved"),
    ("certificate", "net.tls"),
)


def unreachable_reason(text: str) -> str:
    """Why a connection failed, in a few words, from the text of the network error."""
    lowered = text.lower()
    for needle, reason in _REASONS:
        if needle in lowered:
            return Msg(reason)
    return next((line.strip() for line in text.splitlines() if line.strip()), "?")[:200]


class ShapeError(ValueError):
    """A value inside an input has a shape the tool cannot use (attributes that are a list,
    a region that is a number, nesting too deep). Raised where the value is read; whoever
    knows the file turns it into an :class:`InputError` naming it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def kind_of(value: object) -> str:
    """What a decoded JSON/YAML value is, for a message that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a value of another kind"
