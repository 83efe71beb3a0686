"""Exceptions that carry their exit code (design.md: 0 clean, 1 findings, 2 input, 3 incomplete)."""

from __future__ import annotations


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
