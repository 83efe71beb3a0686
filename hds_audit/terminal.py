"""Text from inputs shown on a terminal: control characters are escaped, never interpreted.

A resource named ``evil\\x1b]0;title\\x07`` or a file name holding ``\\x1b[2J`` must not
retitle, clear or rewrite the operator's terminal (or a CI log viewer): such characters are
shown as ``\\x1b``. Bidirectional overrides, which make a line read differently from what
it holds, are shown as ``\\u202e``.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character (newlines included) escaped."""
    return _CONTROL.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Like :func:`printable`, keeping the line breaks of a message of several lines."""
    return "\n".join(printable(line) for line in text.split("\n"))
