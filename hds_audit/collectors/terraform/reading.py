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
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hds_audit import beside, inputs
from hds_audit.errors import InputError
from hds_audit.i18n import Msg


def _finite(text: str) -> float | str:
    """A JSON number as a float, or its own text when no finite float holds it (``1e400``):
    reports are strict JSON, and ``Infinity`` is not JSON."""
    number = float(text)
    return number if number - number == 0 else text


def _constant(text: str) -> str:
    """``NaN`` / ``Infinity`` (accepted by Python's decoder, not by JSON) stay text."""
    return text


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_SPACE = re.compile(rb"[ \t\n\r]*")
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


# From this size on, a file's digest is computed beside the reader (hashlib lets go of the
# interpreter): 0.03 s of a 52 MB state's read off the critical path.
DIGEST_BESIDE = 1 << 22


class Digest:
    """The sha256 of a file's bytes, as hex: computed by a thread of its own for a large
    file, while its reading goes on; :meth:`value` waits for it. The thread lets the bytes
    go once done (the reader may let them go sooner)."""

    __slots__ = ("_data", "_thread", "_value")

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data
        self._value = ""
        self._thread: threading.Thread | None = None
        if len(data) < DIGEST_BESIDE:
            self._run()
        else:
            self._thread = threading.Thread(target=self._run, name="input-digest", daemon=True)
            beside.fork_safe(self._thread)  # a child never asks for the digest
            self._thread.start()

    def _run(self) -> None:
        assert self._data is not None
        self._value = hashlib.sha256(self._data).hexdigest()
        self._data = None

    def let_bytes_go_in_child(self) -> None:
        """In a forked child, which never asks for the digest (its thread is not there):
        the bytes are let go."""
        self._data = None

    def value(self) -> str:
        """The digest (the thread's, waited for; computed here if the thread could not)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._data is not None:
            self._run()
        return self._value


class JsonText:
    """One file's JSON document, and what had to be done to read it.

    A UTF-8 file is kept as its bytes (``data``, the document starting at ``byte_start``):
    the state reader decodes from them, and ``text`` is only decoded when the general
    reader needs it (the bytes are then let go). Other encodings are decoded at once.
    """

    __slots__ = (
        "_digest",
        "_text",
        "bom",
        "byte_start",
        "data",
        "encoding",
        "identity",
        "notes",
        "path",
        "size",
        "start",
    )

    def __init__(
        self,
        text: str | None,
        start: int,
        notes: list[str] | None = None,
        *,
        size: int = 0,
        sha256: str | Digest = "",
        encoding: str = "utf-8",
        bom: int = 0,
        data: bytes | None = None,
        byte_start: int = 0,
    ) -> None:
        self._text = text
        self.start = start  # offset of the document in ``text``
        self.notes: list[str] = notes if notes is not None else []
        self.size = size  # bytes read from the file
        self._digest = sha256
        self.encoding = encoding
        self.bom = bom  # length of the byte-order mark
        self.data = data  # the file's bytes, until the text is decoded (UTF-8 only)
        self.byte_start = byte_start  # offset of the document in ``data``
        # The file the bytes came from, and its identity when read: a reader may let the
        # bytes go and read them again (``inputs.reopen`` checks it is the same file).
        self.path: Path | None = None
        self.identity: inputs.FileIdentity | None = None

    @property
    def sha256(self) -> str:
        """The sha256 of the bytes read, for the report's ``run.inputs``."""
        digest = self._digest
        return digest if isinstance(digest, str) else digest.value()

    @property
    def text(self) -> str:
        """The decoded text (decoded from ``data`` on first use; the bytes are dropped)."""
        if self._text is None:
            if self.data is None:
                raise ValueError("a JsonText holds neither text nor bytes")
            self._text = self.data[self.bom :].decode(self.encoding)
            self.data = None
        return self._text

    def let_bytes_go_in_child(self) -> None:
        """In a forked child (:mod:`hds_audit.beside`) done with the file's bytes: let them
        go, the digest's hold included, so that once this process lets them go too they
        are not left as the child's own memory."""
        self.data = None
        if isinstance(self._digest, Digest):
            self._digest.let_bytes_go_in_child()

    def byte_offset(self, pos: int) -> int:
        """The offset in the file's bytes of ``pos`` in the decoded text."""
        return self.bom + len(self.text[:pos].encode(self.encoding))


def _encoding(raw: bytes, notes: list[str]) -> tuple[str, int]:
    """The encoding of the file's bytes and the length of its byte-order mark."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            if encoding != "utf-8":
                notes.append(Msg("note.decoded_bom", encoding=encoding.upper()))
            return encoding, len(bom)
    # UTF-16 without a BOM: every other byte of ASCII JSON is NUL.
    head = raw[:64]
    if len(head) >= 4 and head[1::2].count(0) == len(head[1::2]):
        notes.append(Msg("note.decoded_no_bom", encoding="UTF-16-LE"))
        return "utf-16-le", 0
    if len(head) >= 4 and head[0::2].count(0) == len(head[0::2]):
        notes.append(Msg("note.decoded_no_bom", encoding="UTF-16-BE"))
        return "utf-16-be", 0
    return "utf-8", 0


def _strict_decode(raw: bytes, encoding: str, name: str, skip: int = 0) -> str:
    try:
        return raw[skip:].decode(encoding) if skip else raw.decode(encoding)
    except UnicodeDecodeError as error:
        problem = Msg("input.bad_encoding", encoding=encoding.upper(), byte=skip + error.start)
        raise InputError(name, problem) from None


_CHUNK = 1 << 20


def _check_utf8(raw: bytes, name: str, skip: int) -> None:
    """Raise what :func:`_strict_decode` would for bad UTF-8, without keeping the text
    (decoded a megabyte at a time)."""
    if raw.isascii():
        return
    view = memoryview(raw)
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = skip
    try:
        while done < len(raw):
            decoder.decode(view[done : done + _CHUNK], final=done + _CHUNK >= len(raw))
            done += _CHUNK
    except UnicodeDecodeError:
        _strict_decode(raw, "utf-8", name, skip)  # raises, naming the first bad byte
        raise


def read_text(path: Path, name: str | None = None) -> JsonText:
    """Read ``path`` and locate the JSON document in it.

    Raises :class:`InputError` (naming the file) when it is empty, unreadable, not a regular
    file, too large or holds no JSON. Messages never quote the file's content (it may hold a
    secret): they name the byte offset and the kind of problem.
    """
    label = name or str(path)
    try:
        raw, identity = inputs.read_file(path, inputs.MAX_STATE_BYTES)
    except inputs.FileProblem as problem:
        raise InputError(label, problem.problem) from None
    if not raw or raw.isspace():  # (isspace: strip() would copy the whole file)
        raise InputError(label, Msg("input.empty"))
    notes: list[str] = []
    size, digest = len(raw), Digest(raw)
    encoding, bom = _encoding(raw, notes)
    if encoding != "utf-8":
        text = _strict_decode(raw, encoding, label, bom)
        del raw
        doc = JsonText(text, 0, notes, size=size, sha256=digest, encoding=encoding, bom=bom)
        doc.start = _skip_wrapper_lines(doc, label)
        return doc
    _check_utf8(raw, label, bom)
    first = _JSON_SPACE.match(raw, bom).end()  # type: ignore[union-attr]
    doc = JsonText(None, 0, notes, size=size, sha256=digest, bom=bom, data=raw)
    doc.path, doc.identity = path, identity
    if raw.startswith(b"{", first):  # the common case: the document is all there is
        doc.start, doc.byte_start = first - bom, first  # only ASCII spaces before it
        return doc
    doc.start = _skip_wrapper_lines(doc, label)
    doc.byte_start = doc.byte_offset(doc.start)
    doc.data, doc._text = raw, None  # keep the bytes, not the text
    return doc


def _skip_wrapper_lines(doc: JsonText, name: str) -> int:
    """Return the offset of the JSON document, past lines a CI wrapper printed before it."""
    text = doc.text
    pos = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    skipped = 0
    while pos < len(text):
        end = text.find("\n", pos)
        line = text[pos : end if end >= 0 else len(text)]
        if not _WRAPPER_LINE.match(line):
            if text[pos] in "{[":
                break
            raise InputError(
                name, Msg("input.not_json", byte=doc.byte_offset(pos), line=skipped + 1)
            )
        skipped += 1
        if end < 0:
            raise InputError(name, Msg("input.only_wrapper"))
        pos = _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]
    if skipped:
        doc.notes.append(Msg("note.wrapper_before", n=skipped))
    return pos


def check_trailer(doc: JsonText, end: int, name: str) -> None:
    """After the document ends at ``end``, accept only whitespace or CI wrapper lines."""
    rest = doc.text[end:]
    wrapper_lines = trailing_wrapper_lines(rest)
    if wrapper_lines == 0:
        return
    if wrapper_lines is not None:
        doc.notes.append(Msg("note.wrapper_after", n=wrapper_lines))
        return
    first = end + len(rest) - len(rest.lstrip())
    raise InputError(name, Msg("input.trailing_data", byte=doc.byte_offset(first)))


def trailing_wrapper_lines(rest: str) -> int | None:
    """How many CI wrapper lines the text after a document holds (0: only whitespace);
    ``None`` when it holds anything else."""
    if not rest.strip():
        return 0
    lines = [line for line in rest.splitlines() if line.strip()]
    return len(lines) if all(_WRAPPER_LINE.match(line) for line in lines) else None


def is_wrapper_line(line: str) -> bool:
    """A line a CI wrapper prints around the JSON (``[command]...``, ``::debug::...``)."""
    return _WRAPPER_LINE.match(line) is not None


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


def describe_json_error(error: json.JSONDecodeError, doc: JsonText) -> str:
    """One line for a decoding error; says 'truncated' when the text simply stops.

    The decoder's own message names only what it expected, never the text it found.
    """
    text = doc.text
    if not text[error.pos :].strip() or _ends_inside_document(text, doc.start):
        last_line = text.count("\n", 0, len(text.rstrip())) + 1
        return Msg("input.truncated", line=last_line)
    return Msg(
        "input.bad_json",
        error=error.msg,
        line=error.lineno,
        column=error.colno,
        byte=doc.byte_offset(error.pos),
    )


class JsonCursor:
    """Walk a JSON text without decoding it whole. Positions are offsets into ``text``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def _skip_ws(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def _expect(self, pos: int, char: str) -> int:
        if pos >= len(self.text) or self.text[pos] != char:
            raise json.JSONDecodeError(f"Expecting {char!r}", self.text, pos)
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
