"""The fast reader of raw state v4 files, the shape of every large input.

msgspec splits the ``resources`` array into raw slices (views of the file's bytes) and
decodes each resource into typed structures. It is used only where it gives exactly what the
general reader (:mod:`~hds_audit.collectors.terraform.reading`, Python's decoder) gives:

- the file as a whole: anything msgspec refuses (``NaN``, a lone surrogate escape, a syntax
  error, a cut file) and any top level it cannot vouch for (a second ``resources`` or
  ``version`` member, wrapper lines it cannot place) raises :class:`Fallback`, and the
  general reader reads the file, with its exact messages and byte offsets;
- one resource: a resource msgspec will not type (a ``null`` name, attributes that are a
  list, a number it holds differently), or one that could nest deep enough for Python's
  decoder to give up, or that holds a number with more digits than Python converts, is
  decoded by Python's decoder and read by the general code, errors and all.

Numbers that are not integers go through the same ``_finite`` as the general reader, so
``1e400`` stays its own text on both paths.
"""

from __future__ import annotations

import io
import json
import re
from array import array as array_of
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from itertools import islice, starmap
from pathlib import Path
from sys import intern
from typing import Any, cast

import msgspec

from hds_audit import beside, inputs
from hds_audit.collectors.terraform import documents, reading
from hds_audit.collectors.terraform.documents import TfInstance
from hds_audit.collectors.terraform.reading import JsonCursor, JsonText
from hds_audit.errors import InputError, ShapeError
from hds_audit.i18n import Msg
from hds_audit.secrets import (
    redact_state_attributes,
    redacted_by_names,
    texts_may_need_redaction,
)

_NO_RAW = msgspec.Raw()


class Fallback(Exception):
    """The fast reader cannot vouch for this file: the general reader must read it."""


class _Top(msgspec.Struct):
    resources: msgspec.Raw = _NO_RAW


class _Instance(msgspec.Struct):
    attributes: msgspec.Raw = _NO_RAW
    attributes_flat: dict[str, Any] | None = None
    index_key: Any = None
    sensitive_attributes: Any = None


class _Resource(msgspec.Struct):
    mode: str = "managed"
    type: str = ""
    name: str = ""
    module: str | None = None
    provider: str | None = None
    instances: list[_Instance] | None = None


_TOP = msgspec.json.Decoder(_Top)
_SPLIT = msgspec.json.Decoder(list[msgspec.Raw])
_RESOURCE = msgspec.json.Decoder(_Resource, float_hook=reading._finite)
_ATTRIBUTES = msgspec.json.Decoder(dict[str, Any] | None, float_hook=reading._finite)
_RESOURCES_KEY = re.compile(rb'"resources"[ \t\n\r]*:[ \t\n\r]*')
_JSON_SPACE = b" \t\n\r"
# Python's decoder gives up (RecursionError) near 1,000 levels; msgspec's limit differs and
# it does not count levels it skips. Fewer than this many brackets cannot nest that deep.
_MAX_BRACKETS = 400
# Python refuses to convert integers of more than 4,300 digits; msgspec skips them unread.
_LONG_DIGITS = re.compile(rb"[0-9]{4300}")
_MAX_WRAPPER_LINES = 64
_SEPARATOR = re.compile(rb"[ \t\n\r]*,?[ \t\n\r]*")  # between two resources of the array
_CLOSING = re.compile(rb"[ \t\n\r]*\]")  # after the last one

Emit = Callable[[Any], None]
KeptWhole = Callable[[str, str], bool] | None


class FastState:
    """A raw state v4 read by msgspec: its top-level members and its ``resources`` array
    (a view of the file's bytes), split into one slice per resource for each pass.

    When the file can be read again (``JsonText.path``), the first pass notes where each
    resource lies and lets the bytes go (:meth:`let_bytes_go`): a later pass reads the
    resources back from the file a chunk at a time, so the file's bytes and the normalised
    resources are never held together.
    """

    __slots__ = (
        "array",
        "at",
        "count",
        "identity",
        "lengths",
        "notes",
        "path",
        "slices",
        "starts",
        "top",
    )

    def __init__(
        self,
        top: dict[str, Any],
        array: msgspec.Raw,
        slices: list[msgspec.Raw | None],
        notes: list[str],
    ) -> None:
        self.top = top
        self.array: msgspec.Raw | None = array
        self.slices: list[msgspec.Raw | None] | None = slices  # for the first pass
        self.count = len(slices)  # resources
        self.notes = notes
        self.path: Path | None = None  # the file, to read the resources again from it
        self.identity: inputs.FileIdentity | None = None
        self.at = 0  # offset of the array in the file
        self.starts = array_of("q")  # offset of each resource in the array, and its length
        self.lengths = array_of("q")

    @classmethod
    def read(cls, doc: JsonText) -> FastState:
        """Split the document, or raise :class:`Fallback`."""
        data = doc.data
        if data is None or doc.encoding != "utf-8":
            raise Fallback
        start = doc.byte_start
        end = _document_end(data, start)
        view = memoryview(data)
        try:
            resources = _TOP.decode(view[start:end]).resources
        except (msgspec.MsgspecError, RecursionError, ValueError):
            raise Fallback from None
        if not len(resources):
            raise Fallback  # no resources: a plan, a shown state or an empty state
        at = _resources_offset(data, start, end, resources)
        prefix = data[start:at].decode("utf-8")
        suffix = data[at + len(resources) : end].decode("utf-8")
        top, rest = _top_members(prefix, suffix)
        wrapper_lines = reading.trailing_wrapper_lines(rest + data[end:].decode("utf-8"))
        if wrapper_lines is None:
            raise Fallback
        notes = list(doc.notes)
        if wrapper_lines:
            notes.append(Msg("note.wrapper_after", n=wrapper_lines))
        try:
            slices = _SPLIT.decode(resources)
        except (msgspec.MsgspecError, RecursionError, ValueError):
            raise Fallback from None
        state = cls(top, resources, cast("list[msgspec.Raw | None]", slices), notes)
        if doc.path is not None and doc.identity is not None:
            state.path, state.identity, state.at = doc.path, doc.identity, at
        return state

    def each_instance(
        self,
        out: Emit,
        kept_whole: KeptWhole = None,
        keys: tuple[str, ...] | None = None,
        slimmed: Emit | None = None,
        part: range | None = None,
    ) -> None:
        """Pass every instance, redacted, to ``out`` (see ``documents._state_v4_instance``).

        With ``keys``, the first pass decodes of an instance not ``kept_whole`` only the
        attributes named there, present and not null (unredacted: the caller's slimmer
        redacts them), a thousand resources at a time, and passes it to ``slimmed`` (by
        default ``out``).
        Each slice is let go once read: a pass holds no more than the slices still to read.
        ``part``: the first pass passes only the resources of these batches (of
        ``documents.BATCH``): the caller notes the places first and ends the pass after
        (:meth:`note_places`, :meth:`end_first_pass`).
        """
        slices = self.slices
        if slices is not None:  # the first pass
            slim = _slim_decoder(keys) if keys is not None and kept_whole is not None else None
            if part is None:  # the whole of it
                self.slices = None
                self.note_places(slices)
                part = range(_batches(len(slices)))
            _first_pass_of(_slices_of(slices, part), out, kept_whole, slim, slimmed or out)
        else:
            self.later_pass(out, kept_whole)

    def later_pass(
        self,
        out: Emit,
        kept_whole: KeptWhole = None,
        first: int = 0,
        batch_read: Callable[[], None] | None = None,
    ) -> None:
        """A pass after the first: every instance from batch ``first`` on (of
        ``documents.BATCH`` resources), read again from the bytes kept (split again: a
        twentieth of the time) or from the file; ``batch_read`` is told when each batch has
        been passed."""
        batches: Iterator[tuple[list[Any], bytearray | None]]
        batches = (
            self._split_again(first)
            if self.array is not None
            else self._read_again(range(first, self.batches))
        )
        skip = 0  # batches left before the attributes of a batch are looked at together
        for batch, joined in batches:
            plain = _read_batch(batch, out, kept_whole, look=not skip, joined=joined)
            skip = _SKIP_AFTER_HINT if plain is False else max(skip - 1, 0)
            if batch_read is not None:
                batch_read()

    @property
    def batches(self) -> int:
        """How many batches (of ``documents.BATCH`` resources) a pass reads."""
        return _batches(self.count)

    def note_places(self, slices: list[msgspec.Raw | None]) -> None:
        """Where each resource lies in the array, to read it again from the file later
        (before the first pass lets any slice go); when they do not add up, the bytes are
        kept instead."""
        if self.path is None or not self.array:
            return
        view = memoryview(self.array)
        pos = 1  # past the array's "["
        starts, lengths = self.starts, self.lengths
        for raw in cast("list[msgspec.Raw]", slices):
            pos = _after_separator(view, pos)
            starts.append(pos)
            lengths.append(len(raw))
            pos += len(raw)
        if _CLOSING.fullmatch(view, pos) is None:
            self.path = None

    def places(self) -> tuple[bytes, bytes] | None:
        """What :meth:`note_places` noted, to send to another process (:meth:`take_places`);
        ``None`` when the file cannot be read again."""
        if self.path is None:
            return None
        return self.starts.tobytes(), self.lengths.tobytes()

    def take_places(self, places: tuple[bytes, bytes] | None) -> None:
        """Where each resource lies, as another process noted it from the same bytes
        (:meth:`places`), instead of noting it here."""
        if places is None:
            self.path = None
            return
        self.starts.frombytes(places[0])
        self.lengths.frombytes(places[1])

    def end_first_pass(self) -> None:
        """The first pass was made a part at a time (``each_instance(part=...)``): over."""
        self.slices = None

    def first_pass_again(
        self,
        out: Emit,
        kept_whole: Callable[[str, str], bool],
        keys: tuple[str, ...],
        slimmed: Emit,
        part: range,
        batch_read: Callable[[], None] | None = None,
    ) -> None:
        """The first pass over the batches of ``part``, read again from the file, its
        bytes let go (see :meth:`each_instance`, with ``keys``); ``batch_read`` is told
        when each batch has been passed."""
        slim = _slim_decoder(keys)
        _first_pass_of(self._read_again(part), out, kept_whole, slim, slimmed, batch_read)

    def let_bytes_go(self) -> bool:
        """After the first pass, drop the view of the file's bytes when a later pass can read
        the resources from the file again; whether it did."""
        if self.path is None or self.array is None or self.slices is not None:
            return False
        self.array = None
        return True

    def _read_again(self, part: range) -> Iterator[tuple[list[memoryview], bytearray]]:
        """The resources of the batches of ``part`` again, from the file, a batch at a time:
        each resource's bytes, and the batch's stretch of the array between brackets (one
        read: the separators of the array are those of a JSON array). The file must be the
        one first read, unchanged: else :class:`inputs.FileProblem`."""
        assert self.path is not None and self.identity is not None
        starts, lengths = self.starts, self.lengths
        with inputs.reopen(self.path, self.identity) as stream:
            stop = min(part.stop * _BATCH, len(starts))
            for begin in range(part.start * _BATCH, stop, _BATCH):
                first, last = begin, min(begin + _BATCH, len(starts)) - 1
                origin = starts[first] - 1  # where the opening bracket stands
                size = starts[last] + lengths[last] - origin + 1
                joined = bytearray(size)
                view = memoryview(joined)
                stream.seek(self.at + starts[first])
                _read_into(stream, view[1:-1])
                joined[0], joined[-1] = 0x5B, 0x5D  # [ ]
                yield (
                    [
                        view[start - origin : start - origin + length]
                        for start, length in zip(
                            starts[first : last + 1], lengths[first : last + 1], strict=True
                        )
                    ],
                    joined,
                )
            inputs.check_unchanged(stream.fileno(), self.identity)

    def _split_again(self, first: int) -> Iterator[tuple[list[msgspec.Raw], None]]:
        """The resources again, from the bytes kept, a batch at a time from batch
        ``first``."""
        assert self.array is not None
        iterator = islice(_SPLIT.decode(self.array), first * _BATCH, None)
        while batch := list(islice(iterator, _BATCH)):
            yield batch, None


def _slices_of(
    slices: list[msgspec.Raw | None], part: range
) -> Iterator[tuple[list[msgspec.Raw], None]]:
    """The slices of the batches of ``part``, a batch at a time, each let go once given."""
    for begin in range(part.start * _BATCH, min(part.stop * _BATCH, len(slices)), _BATCH):
        batch = cast("list[msgspec.Raw]", slices[begin : begin + _BATCH])
        slices[begin : begin + len(batch)] = [None] * len(batch)
        yield batch, None


def _first_pass_of(
    batches: Iterable[tuple[list[Any], bytearray | None]],
    out: Emit,
    kept_whole: KeptWhole,
    slim: msgspec.json.Decoder[list[Any]] | None,
    slimmed: Emit,
    batch_read: Callable[[], None] | None = None,
) -> None:
    """The first pass over ``batches`` of resources (see :meth:`FastState.each_instance`);
    ``batch_read`` is told when each batch has been passed."""
    for batch, joined in batches:
        typed = None if slim is None else _decode_batch(slim, batch, joined)
        if typed is None:
            for raw in batch:
                read_resource(raw, out, kept_whole)
        else:
            assert kept_whole is not None
            for raw, resource in zip(batch, typed, strict=True):
                _slim_resource(raw, resource, out, kept_whole, slimmed)
        if batch_read is not None:
            batch_read()


def _read_into(stream: io.BufferedReader, view: memoryview) -> None:
    """Fill ``view`` from ``stream``, else the file was cut since it was first read."""
    done = 0
    while done < len(view):
        count = stream.readinto(view[done:])
        if not count:
            raise inputs.FileProblem(inputs.CHANGED)
        done += count


def _after_separator(view: memoryview, pos: int) -> int:
    """The offset past the spaces and comma at ``pos`` (the separator always matches)."""
    match = _SEPARATOR.match(view, pos)
    assert match is not None
    return match.end()


def _document_end(data: bytes, start: int) -> int:
    """Where the document ends: before trailing whitespace and CI wrapper lines."""
    end = len(data)
    for _ in range(_MAX_WRAPPER_LINES):
        while end > start and data[end - 1] in _JSON_SPACE:
            end -= 1
        line_start = data.rfind(b"\n", start, end) + 1
        if line_start <= start:
            break
        try:
            line = data[line_start:end].decode("utf-8")
        except UnicodeDecodeError:
            break
        if not reading.is_wrapper_line(line):
            break
        end = line_start
    return end


def _resources_offset(data: bytes, start: int, end: int, resources: msgspec.Raw) -> int:
    """The offset of the top-level ``resources`` array: the first place a ``"resources":``
    key is followed by exactly the array msgspec kept (the last such member)."""
    for match in _RESOURCES_KEY.finditer(data, start, end):
        if data.startswith(resources, match.end()):
            return match.end()
    raise Fallback


def _top_members(prefix: str, suffix: str) -> tuple[dict[str, Any], str]:
    """The top-level members other than ``resources``, decoded by the general reader as it
    would (in order, the last of a repeated key winning), and the text after the document.

    Raises :class:`Fallback` unless ``resources`` is the one member at the place found and
    the general reader would stream it as a state v4 (``version`` 4, before or after it).
    """
    skeleton = prefix + "[]" + suffix
    top: dict[str, Any] = {}
    seen: list[tuple[int, Any]] = []

    def resources_member(pos: int) -> int:
        seen.append((pos, top.get("version")))
        return pos + 2

    try:
        end = JsonCursor(skeleton).object(0, {"resources": resources_member}, top)
    except (json.JSONDecodeError, RecursionError, ValueError):
        raise Fallback from None
    if len(seen) != 1 or seen[0][0] != len(prefix) or seen[0][1] not in (4, None):
        raise Fallback
    version = top.get("version")
    if "format_version" in top or type(version) is not int or version != 4:
        raise Fallback
    return top, skeleton[end:]


def read_resource(
    raw: msgspec.Raw | memoryview, out: Emit, kept_whole: KeptWhole = None, held: bool = True
) -> None:
    """Turn one resource's slice into instances passed to ``out``, as
    ``documents._state_v4_instance`` does with the general reader's value.

    ``held``: ``out`` keeps the instances (the first pass), so their attributes' keys are
    shared; a later pass's are let go once normalised (the normaliser shares what it keeps).
    """
    resource = _typed(raw)
    if resource is None:
        documents._state_v4_instance(_python_value(raw), out, kept_whole)
        return
    _read_typed(raw, resource, out, kept_whole, held)


def _read_typed(
    raw: msgspec.Raw | memoryview,
    resource: _Resource,
    out: Emit,
    kept_whole: KeptWhole,
    held: bool,
    plain_texts: bool = False,
    decoded: list[tuple[_Instance, dict[str, Any] | None]] | None = None,
    redacted: Mapping[int, dict[str, Any]] | None = None,
) -> None:
    """:func:`read_resource` of a resource already typed. ``plain_texts``: its attributes'
    bytes were shown to hold no text a redaction would change (see
    :func:`redact_state_attributes`); ``decoded``: its instances' attributes, already
    decoded (:func:`_decoded`); ``redacted``: what their redaction is known to give, by id
    (:func:`secrets.redacted_by_names`)."""
    if decoded is None:
        decoded = _decoded(resource)
    if decoded is None:
        documents._state_v4_instance(_python_value(raw), out, kept_whole)
        return
    mode = _MANAGED if resource.mode == _MANAGED else intern(resource.mode)
    rtype = intern(resource.type)
    name = resource.name
    module = intern(resource.module) if resource.module else ""
    short, provider_key = _provider(resource.provider or documents._type_provider(rtype))
    whole = kept_whole is None or kept_whole(rtype, mode)
    for instance, attributes in decoded:
        address = documents._address(module, mode, rtype, name, instance.index_key)
        if attributes is None:
            attributes = documents._flat_to_nested(instance.attributes_flat or {})
            if whole:
                attributes = redact_state_attributes(
                    attributes, None, rtype, instance.sensitive_attributes
                )
        elif whole:
            known = redacted.get(id(attributes)) if redacted else None
            attributes = (
                known
                if known is not None
                else redact_state_attributes(
                    documents.share_keys(attributes) if held else attributes,
                    instance.attributes,
                    rtype,
                    instance.sensitive_attributes,
                    plain_texts=plain_texts,
                )
            )
        out(TfInstance(address, mode, rtype, name, module, short, provider_key, attributes))


def _decoded(resource: _Resource) -> list[tuple[_Instance, dict[str, Any] | None]] | None:
    """Each instance of ``resource`` with its attributes decoded (``None``: ``null``), or
    ``None`` when one cannot be decoded here (the general reader then reads the resource)."""
    decoded = []
    try:
        for instance in resource.instances or ():
            raw_attributes = instance.attributes
            attributes = _ATTRIBUTES.decode(raw_attributes) if len(raw_attributes) else None
            decoded.append((instance, attributes))
    except (msgspec.MsgspecError, RecursionError, ValueError):
        return None
    return decoded


_MANAGED = "managed"


@cache
def _provider(provider: str) -> tuple[str, str]:
    short, key = documents._provider_from_state(provider)
    return intern(short), intern(key)


def _typed(raw: msgspec.Raw | memoryview) -> _Resource | None:
    """The resource as typed structures, or ``None`` when the general reader must read it."""
    if len(raw) >= 2 * _MAX_BRACKETS and _needs_general_reader(bytes(raw)):
        return None
    try:
        return _RESOURCE.decode(raw)
    except (msgspec.MsgspecError, RecursionError, ValueError):
        return None


# Resources decoded at once (a batch is joined into one array).
_BATCH = documents.BATCH
# The attributes a slim instance kept, those absent or null left out (omit_defaults).
_present = msgspec.to_builtins


@cache
def _slim_decoder(keys: tuple[str, ...]) -> msgspec.json.Decoder[list[Any]]:
    """A decoder of an array of resources that keeps, of each instance's attributes, only
    those named in ``keys`` (msgspec skips the others unbuilt). The structures it builds
    hold no cycle: the collector need not track them (``gc=False``)."""
    attributes = msgspec.defstruct(
        "_SlimAttributes", [(key, Any, None) for key in keys], gc=False, omit_defaults=True
    )
    instance = msgspec.defstruct(
        "_SlimInstance",
        [
            ("attributes", attributes | None, None),
            ("attributes_flat", dict[str, Any] | None, None),
            ("index_key", Any, None),
        ],
        gc=False,
    )
    resource = msgspec.defstruct(
        "_SlimResource",
        [
            ("mode", str, _MANAGED),
            ("type", str, ""),
            ("name", str, ""),
            ("module", str | None, None),
            ("provider", str | None, None),
            ("instances", list[instance] | None, None),  # type: ignore[valid-type]
        ],
        gc=False,
    )
    return msgspec.json.Decoder(list[resource], float_hook=reading._finite)  # type: ignore[valid-type]


def _decode_batch(
    decoder: msgspec.json.Decoder[list[Any]],
    batch: list[Any],
    joined: bytearray | None = None,
) -> list[Any] | None:
    """The resources of ``batch`` decoded at once (``joined``: already an array of them),
    or ``None`` when one of them is for :func:`read_resource` to read (one it could not
    type, or that it sends to the general reader): then each is read on its own, as
    without a batch."""
    for raw in batch:
        if len(raw) >= 2 * _MAX_BRACKETS and _needs_general_reader(bytes(raw)):
            return None
    try:
        if joined is not None:
            return decoder.decode(joined)
        return decoder.decode(b"[" + b",".join(batch) + b"]")
    except (msgspec.MsgspecError, RecursionError, ValueError):
        return None


_RESOURCES = msgspec.json.Decoder(list[_Resource], float_hook=reading._finite)


# After a batch whose attributes show a redaction hint, the next ones are likely to show one
# too (a state whose resources hold JSON policies or URLs): their instances are looked at one
# by one, the batch as a whole again only after this many.
_SKIP_AFTER_HINT = 7


def _read_batch(
    batch: list[Any],
    out: Emit,
    kept_whole: KeptWhole,
    look: bool,
    joined: bytearray | None = None,
) -> bool | None:
    """:func:`read_resource` (a later pass) of each resource of ``batch``, decoded at once.

    With ``look``, their attributes' bytes are looked at together, a line break between two,
    for a text a redaction would change: each being a whole JSON object, none of the patterns
    looked for can span two, so when the batch shows none, no instance's own bytes hold one
    (else each instance is looked at on its own). Returns what the look found: whether the
    batch is plain (``None`` without a look).
    """
    typed = _decode_batch(_RESOURCES, batch, joined)
    if typed is None:
        for raw in batch:
            read_resource(raw, out, kept_whole, held=False)
        return None
    resources = cast("list[_Resource]", typed)
    plain = None
    if look:
        attributes = [
            i.attributes for r in resources for i in r.instances or () if len(i.attributes)
        ]
        plain = not texts_may_need_redaction(b"\n".join(attributes))
        del attributes
    decoded = [_decoded(resource) for resource in resources]
    redacted: dict[int, dict[str, Any]] = {}
    if plain:  # the keys of the batch judged at once too (else each instance's on its own)
        redacted = redacted_by_names(
            [
                (attributes, resource.type, instance.sensitive_attributes)
                for resource, instances in zip(resources, decoded, strict=True)
                for instance, attributes in instances or ()
                if attributes is not None
            ]
        )
    for raw, resource, instances in zip(batch, resources, decoded, strict=True):
        _read_typed(
            raw,
            resource,
            out,
            kept_whole,
            held=False,
            plain_texts=bool(plain),
            decoded=instances,
            redacted=redacted,
        )
    return plain


def _slim_resource(
    raw: msgspec.Raw,
    resource: Any,
    out: Emit,
    kept_whole: Callable[[str, str], bool],
    slimmed: Emit,
) -> None:
    """:func:`read_resource` of a resource the first pass decoded slim: the instances of
    one kept whole are decoded again, whole, and passed to ``out``; the others' attributes
    are those the slim decoder kept (those present and not null), or their flatmap,
    unredacted (the slimmer's job), passed to ``slimmed``."""
    mode = _MANAGED if resource.mode == _MANAGED else intern(resource.mode)
    rtype = intern(resource.type)
    if kept_whole(rtype, mode):
        read_resource(raw, out, kept_whole)
        return
    name = resource.name
    module = intern(resource.module) if resource.module else ""
    short, provider_key = _provider(resource.provider or documents._type_provider(rtype))
    for instance in resource.instances or ():
        address = documents._address(module, mode, rtype, name, instance.index_key)
        attributes = instance.attributes
        if attributes is None:
            attributes = documents._flat_to_nested(instance.attributes_flat or {})
        else:
            attributes = _present(attributes)
        slimmed(TfInstance(address, mode, rtype, name, module, short, provider_key, attributes))


def _needs_general_reader(data: bytes) -> bool:
    """Whether a resource of these bytes could nest deeper than Python's decoder goes, or
    holds a number with more digits than Python converts."""
    if data.count(b"[") + data.count(b"{") >= _MAX_BRACKETS:
        return True
    return len(data) > 4300 and _LONG_DIGITS.search(data) is not None


def _python_value(raw: msgspec.Raw | memoryview) -> Any:
    """One resource decoded by the general reader's decoder (its errors are the reader's:
    a syntax error, never expected here, sends the whole file to the general reader)."""
    text = bytes(raw).decode("utf-8")
    try:
        value, end = reading._DECODER.raw_decode(text)
    except json.JSONDecodeError:
        raise Fallback from None
    if end != len(text):
        raise Fallback
    return value


def parse_fast(
    state: FastState,
    doc: JsonText,
    name: str,
    slim: documents.Slimmer | None,
    second_process_from: int | None = None,
) -> documents.ParsedDocument:
    """:func:`documents.parse_document` of a raw state v4 msgspec could split; raises
    :class:`Fallback` when a resource needs the general reader's error.

    With ``slim``, the first pass keeps slimmed instances and lets the file's bytes go when
    it can; the result's ``replay`` passes the full instances, read again, to a callback.
    A state of ``second_process_from`` resources or more is read on two cores when a child
    process can run (:func:`_first_pass_beside`): the child reads the last part of the
    first pass, then the whole of the later pass, whose instances the replay takes from it.
    """
    keep = documents._Kept(slim)
    streamed = keep.instances
    helper: _Helper | None = None
    try:
        if slim is None:
            state.each_instance(keep)
        else:
            helper = _first_pass_beside(state, doc, keep, slim, second_process_from)
            if helper is None:
                state.each_instance(keep, slim.kept_whole, slim.keys, keep.slimmed)
        doc.notes[:] = state.notes
        parsed = documents.interpret(state.top, keep.flush(), doc.notes, name)
    except BaseException as error:
        if helper is not None:
            helper.close()  # nothing is left for the child to do
        if isinstance(error, ShapeError | RecursionError | AttributeError | TypeError | ValueError):
            raise InputError(name, documents.shape_problem(error)) from None
        if isinstance(error, inputs.FileProblem):  # the child's part, read again, changed
            raise InputError(name, error.problem) from None
        raise
    if slim is None or parsed.instances is not streamed:
        if helper is not None:
            helper.close()
        return parsed
    if state.let_bytes_go():
        doc.data = None  # the replay reads the resources from the file again

    def replay(each: Callable[[TfInstance], None]) -> None:
        nonlocal helper
        taken = 0
        try:
            if helper is not None:
                with helper:
                    taken = helper.later_pass(each, state.batches)
                helper = None
            state.later_pass(each, first=taken)
        except inputs.FileProblem as problem:
            raise InputError(name, problem.problem) from None

    parsed.replay = replay
    if helper is not None:
        parsed.release = helper.close
    return parsed


#: The share of a large state's batches a child process reads in the first pass beside the
#: main one: less than half, as it also sends what it read, and the main one takes it back.
CHILD_SHARE = 0.45


def _batches(resources: int) -> int:
    """How many batches (of ``documents.BATCH``) hold this many resources."""
    return -(-resources // _BATCH)


def split_batches(batches: int) -> tuple[range, range]:
    """Batches ``0..batches`` in two: those read here, then those a child reads."""
    cut = batches - max(1, int(batches * CHILD_SHARE))
    return range(0, cut), range(cut, batches)


# What each piece a child sends names: where the resources lie, or a pass (and the batch's
# number).
PLACES, FIRST_PASS, LATER_PASS = "places", "first", "later"


class _Helper:
    """A child process reading a state beside this one (:func:`_first_pass_beside`), and
    the pieces it sends: its part of the first pass, then, when the later pass reads the
    file again, each batch of that pass. Each piece names its pass and batch: one not
    where it is expected ends what is taken from the child, as its failure would."""

    __slots__ = ("child", "later", "pieces", "running")

    def __init__(self, child: beside.Beside) -> None:
        self.child = child
        self.pieces = child.pieces()
        self.later = False  # whether the child goes on with the later pass
        self.running = True

    def _batches(self, name: str, numbers: range) -> Iterator[Any]:
        """The instances of batches ``numbers`` of the pass ``name``, while the child sends
        them in order."""
        # (not strict: the pieces go on past these numbers, to the later pass)
        for number, (sent_name, sent_number, instances) in zip(numbers, self.pieces, strict=False):
            if (sent_name, sent_number) != (name, number):
                self.close()
                return
            yield instances

    def places(self) -> tuple[bytes, bytes] | None:
        """Where each resource lies (:meth:`FastState.places`), the child's first piece;
        ``None`` also if it failed before sending it."""
        for places in self._batches(PLACES, range(1)):
            return cast("tuple[bytes, bytes] | None", places)
        return None

    def first_pass(self, into: list[TfInstance], numbers: range) -> bool:
        """Add the instances of the child's part of the first pass (batches ``numbers``)
        to ``into``; whether it sent all of it (else ``into`` is left as it was)."""
        mark = len(into)
        taken = 0
        for instances in self._batches(FIRST_PASS, numbers):
            into.extend(documents.received_instances(instances))
            taken += 1
        if taken == len(numbers):
            return True
        del into[mark:]
        return False

    def later_pass(self, each: Emit, batches: int) -> int:
        """Pass the instances of the later pass the child read to ``each``, in order; how
        many batches it sent (fewer than ``batches`` if it failed: the caller reads on
        from there)."""
        taken = 0
        if self.later:
            for instances in self._batches(LATER_PASS, range(batches)):
                # Let go once normalised: their texts need not be interned as the index's are.
                for instance in starmap(TfInstance, instances):
                    each(instance)
                taken += 1
        return taken

    def close(self) -> None:
        """Stop the child if it still runs (the later pass was not made, or failed)."""
        self.running = self.later = False
        self.child.close()

    def __enter__(self) -> _Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_pass_beside(
    state: FastState,
    doc: JsonText,
    keep: documents._Kept,
    slim: documents.Slimmer,
    second_process_from: int | None,
) -> _Helper | None:
    """The first pass over a large state, its last batches read by a child process while
    this one reads the others (:mod:`hds_audit.beside`); ``None`` when no child could do it
    (the caller then makes the pass alone). The instances come back slimmed, in the order
    of the file; if the child fails, its batches are read here after these, errors and all,
    as if alone.

    The child notes where each resource lies and sends it first. When the file can be read
    again, the child lets its view of the file's bytes go at once and reads its part from
    the file (this process lets the bytes go after its own part: pages only the child held
    would be its own memory), then reads every batch of the later pass, as the replay would
    (redacted, full instances), while this process builds the index and normalises what it
    sent: the helper returned keeps it running for the replay."""
    slices = state.slices
    if (
        second_process_from is None
        or slices is None  # (never: the first pass is not made yet)
        or len(slices) <= _BATCH  # one batch: nothing to share
        or len(slices) < second_process_from
        or not beside.usable()
    ):
        return None
    here, there = split_batches(_batches(len(slices)))
    kept_whole, keys = slim.kept_whole, slim.keys

    def let_bytes_go() -> None:
        """Once the file can be read again: its bytes, and the slices not read yet."""
        slices.clear()
        state.end_first_pass()
        state.let_bytes_go()

    def read_there(send: beside.Send) -> None:
        state.note_places(slices)  # (sent: this process need not note them too)
        send((PLACES, 0, state.places()))
        again = state.path is not None  # its part read from the file, not from the bytes
        if again:
            # The bytes are let go here at once: this process lets them go after its own
            # part, and pages only the child still held would be its own memory.
            let_bytes_go()
            doc.let_bytes_go_in_child()
        kept = documents._Kept(slim)
        numbers = iter(there)

        def slimmed_read() -> None:
            send((FIRST_PASS, next(numbers), documents.sent_instances(kept.flush())))
            kept.instances.clear()

        if again:
            state.first_pass_again(kept, kept_whole, keys, kept.slimmed, there, slimmed_read)
        else:  # the later pass splits the bytes kept: this process's job
            for number in there:
                part = range(number, number + 1)
                state.each_instance(kept, kept_whole, keys, kept.slimmed, part=part)
                slimmed_read()
            return
        read: list[TfInstance] = []
        numbers = iter(range(state.batches))

        def batch_read() -> None:
            send((LATER_PASS, next(numbers), documents.sent_instances(read)))
            read.clear()

        state.later_pass(read.append, batch_read=batch_read)

    child = beside.start(read_there)
    if child is None:
        return None
    helper = _Helper(child)
    try:
        state.each_instance(keep, kept_whole, keys, keep.slimmed, part=here)
        keep.flush()
        # Where each resource lies, as the child noted it; if it failed first, the file is
        # not read again (the slices of this part are gone): its bytes are kept instead.
        state.take_places(helper.places())
        again = state.path is not None  # the file can be read again: its bytes go now
        if again:
            let_bytes_go()  # (the slices left are those of the child's part)
            doc.data = None
        if not helper.first_pass(keep.instances, there):
            helper.close()
            if again:
                state.first_pass_again(keep, kept_whole, keys, keep.slimmed, there)
            else:
                state.each_instance(keep, kept_whole, keys, keep.slimmed, part=there)
    except BaseException:
        helper.close()
        raise
    state.end_first_pass()
    if helper.running and state.path is not None:
        helper.later = True  # it goes on with the later pass
    else:
        helper.close()  # (a later pass splitting the bytes kept is this process's job)
    return helper
