"""Read Terraform JSON files as they really come: BOMs, UTF-16, CI wrapper lines, huge states.

``read_text`` turns bytes into the JSON text and notes anything odd it had to get past.
``JsonCursor`` walks a JSON text value by value with the C decoder, so a 40 MB state is
never held as one Python object tree: each resource is decoded, used and dropped.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hds_audit.errors import InputError
from hds_audit.i18n import Msg

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# hashicorp/setup-terraform's wrapper prints the command before the output and
# GitHub workflow commands after it; other CI wrappers print similar banners.
_WRAPPER_LINE = re.compile(r"^\s*(\[command\].*|::[a-z-]+(::| ).*|##\[[a-z]+\].*)$")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(slots=True)
class JsonText:
    """The decoded JSON text of one file, and what had to be done to read it."""

    text: str
    start: int
    notes: list[str] = field(default_factory=list)
    size: int = 0  # bytes read from the file
    sha256: str = ""  # of those bytes, for the report's run.inputs


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            if encoding != "utf-8":
                notes.append(Msg("note.decoded_bom", encoding=encoding.upper()))
            return _strict_decode(raw[len(bom) :], encoding, name)
    # UTF-16 without a BOM: every other byte of ASCII JSON is NUL.
    head = raw[:64]
    if len(head) >= 4 and head[1::2].count(0) == len(head[1::2]):
        notes.append(Msg("note.decoded_no_bom", encoding="UTF-16-LE"))
        return _strict_decode(raw, "utf-16-le", name)
    if len(head) >= 4 and head[0::2].count(0) == len(head[0::2]):
        notes.append(Msg("note.decoded_no_bom", encoding="UTF-16-BE"))
        return _strict_decode(raw, "utf-16-be", name)
    return _strict_decode(raw, "utf-8", name)


def _strict_decode(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            name, Msg("input.bad_encoding", encoding=encoding.upper(), byte=error.start)
        ) from None


def read_text(path: Path, name: str | None = None) -> JsonText:
    """Read ``path`` and locate the JSON document in it.

    Raises :class:`InputError` (naming the file) when it is empty, unreadable or holds no JSON.
    """
    label = name or str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(
            label, Msg("input.unreadable", error=str(error.strerror or error))
        ) from None
    if not raw.strip():
        raise InputError(label, Msg("input.empty"))
    notes: list[str] = []
    size, digest = len(raw), hashlib.sha256(raw).hexdigest()
    text = _decode(raw, label, notes)
    del raw
    start = _skip_wrapper_lines(text, label, notes)
    return JsonText(text=text, start=start, notes=notes, size=size, sha256=digest)


def _skip_wrapper_lines(text: str, name: str, notes: list[str]) -> int:
    """Return the offset of the JSON document, past lines a CI wrapper printed before it."""
    pos = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    skipped = 0
    while pos < len(text):
        end = text.find("\n", pos)
        line = text[pos : end if end >= 0 else len(text)]
        if not _WRAPPER_LINE.match(line):
            if text[pos] in "{[":
                break
            shown = line.strip()[:60]
            raise InputError(name, Msg("input.not_json", shown=repr(shown)))
        skipped += 1
        if end < 0:
            raise InputError(name, Msg("input.only_wrapper"))
        pos = _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]
    if skipped:
        notes.append(Msg("note.wrapper_before", n=skipped))
    return pos


def check_trailer(doc: JsonText, end: int, name: str) -> None:
    """After the document ends at ``end``, accept only whitespace or CI wrapper lines."""
    rest = doc.text[end:]
    if not rest.strip():
        return
    lines = [line for line in rest.splitlines() if line.strip()]
    if all(_WRAPPER_LINE.match(line) for line in lines):
        doc.notes.append(Msg("note.wrapper_after", n=len(lines)))
        return
    shown = lines[0].strip()[:60]
    raise InputError(name, Msg("input.trailing_data", shown=repr(shown)))


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}\[\]]')


def _ends_inside_document(text: str, start: int) -> bool:
    """True when the text stops while a container or a string is still open (and every
    bracket before that point matched): the file was cut, not malformed."""
    stack: list[str] = []
    pairs = {"}": "{", "]": "["}
    for match in _TOKENS.finditer(text, start):
        token = match.group()
        if token in "{[":
            stack.append(token)
        elif token in "}]":
            if not stack or stack.pop() != pairs[token]:
                return False
        elif len(token) == 1 or not token.endswith('"'):
            return True  # a string that runs to the end of the text
    return bool(stack)


def describe_json_error(error: json.JSONDecodeError, text: str, start: int = 0) -> str:
    """One line for a decoding error; says 'truncated' when the text simply stops."""
    if not text[error.pos :].strip() or _ends_inside_document(text, start):
        last_line = text.count("\n", 0, len(text.rstrip())) + 1
        return Msg("input.truncated", line=last_line)
    return Msg("input.bad_json", error=error.msg, line=error.lineno, column=error.colno)


class JsonCursor:
    """Walk a JSON text without decoding it whole. Positions are offsets into ``text``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def _skip_ws(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def _expect(self, pos: int, char: str) -> int:
        if pos >= len(self.text) or self.text[pos] != char:
            found = self.text[pos : pos + 1] or "end of file"
            raise json.JSONDecodeError(f"Expecting {char!r}, found {found!r}", self.text, pos)
        return pos + 1

    def value(self, pos: int) -> tuple[Any, int]:
        """Decode the value at ``pos``; return it and the offset just past it."""
        return _DECODER.raw_decode(self.text, self._skip_ws(pos))

    def object(
        self, pos: int, handlers: Mapping[str, Callable[[int], int]], decoded: dict[str, Any]
    ) -> int:
        """Decode the object at ``pos`` member by member into ``decoded``; return its end.

        A member whose key has a handler is not decoded here: the handler gets the value's
        offset and returns the offset just past it (it may read what ``decoded`` holds so far).
        """
        text = self.text
        pos = self._skip_ws(self._expect(self._skip_ws(pos), "{"))
        if pos < len(text) and text[pos] == "}":
            return pos + 1
        while True:
            pos = self._expect(pos, '"')
            key, pos = json.decoder.scanstring(text, pos)  # type: ignore[attr-defined]
            pos = self._skip_ws(self._expect(self._skip_ws(pos), ":"))
            handler = handlers.get(key)
            if handler is not None:
                pos = handler(pos)
            else:
                decoded[key], pos = _DECODER.raw_decode(text, pos)
            pos = self._skip_ws(pos)
            if pos < len(text) and text[pos] == ",":
                pos = self._skip_ws(pos + 1)
                continue
            return self._expect(pos, "}")

    def array(self, pos: int, each: Callable[[Any], None]) -> int:
        """Decode the array at ``pos`` one element at a time, passing each to ``each``.

        Returns the offset just past the array. ``null`` is accepted as an empty array.
        """
        text = self.text
        pos = self._skip_ws(pos)
        if text.startswith("null", pos):
            return pos + 4
        pos = self._skip_ws(self._expect(pos, "["))
        if pos < len(text) and text[pos] == "]":
            return pos + 1
        scan = _DECODER.scan_once  # type: ignore[attr-defined]  # the C scanner, per element
        while True:
            try:
                element, pos = scan(text, pos)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            each(element)
            # Pretty-printed states put ",\n    " between resources: take the common case
            # without the regex.
            if text.startswith(",\n", pos):
                pos = self._skip_ws(pos + 2)
                continue
            pos = self._skip_ws(pos)
            if pos < len(text) and text[pos] == ",":
                pos = self._skip_ws(pos + 1)
                continue
            return self._expect(pos, "]")
