"""report.json's long arrays, encoded line by line from cached parts.

A 100,000-resource report holds 100,000 resource lines and some 360,000 finding lines: they
are written as text built from pieces that repeat (a policy's part, a location, a source, a
finding's verdict and evidence), each encoded once, and joined a batch at a time, never as
a whole. ``resource_dict`` and ``finding_dict`` (:mod:`hds_audit.reports.json_report`) stay
the reference: a resource line is the text of ``json.dumps(resource_dict(r),
ensure_ascii=False)``; a finding line holds ``finding_dict(f)``'s keys in the report's order
(policy, resource, verdict, then a host-level finding's cover and the baseline state).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from itertools import chain, islice
from operator import itemgetter
from typing import IO, Any

from hds_audit.geo import Location
from hds_audit.i18n import Msg, to_data
from hds_audit.model import Covered, Encryption, Finding, Replica, Resource, Source
from hds_audit.reports.messages import finding_message
from hds_audit.reports.strict_json import strict_encoder

_ENCODE = strict_encoder()  # never NaN / Infinity: reports are strict JSON
_QUOTE: Callable[[str], str] = json.encoder.encode_basestring

BATCH_LINES = 200  # lines joined and written at once
CACHE_SIZE = 4096  # encoded parts kept for reuse, per table


def scalar(value: object) -> str:
    """``value`` as JSON, as the report's encoder writes it (texts and flags without a detour)."""
    if isinstance(value, str):
        return _QUOTE(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _ENCODE(value)


def _text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _texts(mapping: Mapping[str, object]) -> str:
    """A mapping of texts to texts as a JSON object (anything else through the encoder)."""
    if not mapping:
        return "{}"
    parts = [
        f"{_QUOTE(k)}: {_QUOTE(v)}"
        for k, v in mapping.items()
        if type(k) is str and isinstance(v, str)
    ]
    if len(parts) == len(mapping):
        return "{" + ", ".join(parts) + "}"
    return _ENCODE(dict(mapping))


class MessageTable:
    """``messages`` (schema 1.7): each distinct message the report writes (reason, evidence
    note, error, source remark) by its English text, with its catalogue key and parameters,
    so a report read back (``hds-audit merge``) still renders in the reader's language."""

    __slots__ = ("table",)

    def __init__(self) -> None:
        # Each message by itself (a ``Msg`` is its English text): the findings hold them
        # anyway, so the table costs a reference each; encoded only when written.
        self.table: dict[str, Msg] = {}

    def add(self, value: object) -> None:
        if isinstance(value, Msg) and value not in self.table:
            self.table[value] = value

    def write(self, stream: IO[str]) -> None:
        """Write the table as a JSON object (``json.dumps({text: to_data(message)})``), a
        thousand entries encoded at once."""
        separator = ""
        stream.write("{")
        entries = iter(self.table.items())
        while chunk := list(islice(entries, 1000)):
            encoded = _ENCODE({str(text): to_data(message) for text, message in chunk})
            stream.write(separator + encoded[1:-1])
            separator = ", "
        stream.write("}")


Shared = dict[int, tuple[Any, Any]]


def _part(cache: Shared, value: Any, encode: Callable[[Any], Any]) -> Any:
    """The part of ``value``, an object resources share, encoded once and kept by identity:
    the entry holds the object, so while it is kept no other object can take that ``id``."""
    try:
        return cache[id(value)][1]
    except KeyError:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        encoded = encode(value)
        cache[id(value)] = (value, encoded)
        return encoded


def _place(location: Location) -> str:
    return (
        f'"region": {scalar(location.region)}, "country": {scalar(location.country)}, '
        f'"in_eu": {scalar(location.in_eu)}, "in_eea": {scalar(location.in_eea)}, '
        f'"non_regional": {scalar(location.non_regional)}, '
    )


def _encryption(encryption: Encryption | None) -> str:
    if encryption is None:
        return "null"
    return (
        f'{{"at_rest": {scalar(encryption.at_rest)}, '
        f'"key_owner": {scalar(encryption.key_owner)}, "key_id": {scalar(encryption.key_id)}}}'
    )


def _replica_place(location: Location) -> str:
    return (
        f'"region": {scalar(location.region)}, "country": {scalar(location.country)}, '
        f'"in_eu": {scalar(location.in_eu)}, "in_eea": {scalar(location.in_eea)}}}'
    )


def _replicas(places: Shared, replicas: tuple[Replica, ...]) -> str:
    """A list of replicas; the part of each location is encoded once (``places``)."""
    parts = []
    for replica in replicas:
        place = _part(places, replica.location, _replica_place)
        parts.append(
            f'{{"kind": {scalar(replica.kind)}, "target": {scalar(replica.target)}, {place}'
        )
    return "[" + ", ".join(parts) + "]"


def _source(source: Source) -> tuple[str, str, bool]:
    """The ``source`` object around its ``address``: before, after, and whether it has one."""
    before = f'{{"kind": {scalar(source.kind)}'
    if source.file:
        before += f', "file": {scalar(source.file)}'
    after = ""
    if source.account:
        after += f', "account": {scalar(source.account)}'
    if source.region:
        after += f', "region": {scalar(source.region)}'
    return before, after + "}", source.kind.startswith("terraform")


def resource_lines(resources: Iterable[Resource]) -> Iterator[list[str]]:
    """Batches of resource lines, each ``json.dumps(resource_dict(resource))``.

    Locations, encryptions, replica lists and sources are shared by many resources: their
    parts are encoded once per object; so are the provider, type and kind of each type.
    """
    shared: Shared = {}
    replicas_of = partial(_replicas, {})
    kinds: dict[tuple[object, ...], str] = {}
    quote = _QUOTE
    part = _part
    get = shared.get
    iterator = iter(resources)
    while chunk := list(islice(iterator, BATCH_LINES)):
        lines: list[str] = []
        append = lines.append
        for resource in chunk:
            rid = resource.id
            rid = quote(rid) if type(rid) is str else scalar(rid)
            stores = resource.stores_data
            key = (resource.provider, resource.type, resource.kind, stores)
            flag = stores is True or stores is False  # 1 equals True but is written 1
            kind = kinds.get(key) if flag else None
            if kind is None:
                kind = _kind(key)
                if flag and len(kinds) < CACHE_SIZE and all(isinstance(k, str) for k in key[:3]):
                    kinds[key] = kind
            # The parts of shared objects: looked up here, encoded by ``_part`` when new.
            value: Any = resource.location
            got = get(id(value))
            place = got[1] if got is not None else part(shared, value, _place)
            value = resource.encryption
            got = get(id(value))
            encryption = got[1] if got is not None else part(shared, value, _encryption)
            value = resource.replicas
            if not value:
                replicas = "null" if value is None else "[]"
            else:
                replicas = part(shared, value, replicas_of)
            value = resource.source
            got = get(id(value))
            before, after, terraform = got[1] if got is not None else part(shared, value, _source)
            if terraform and resource.id:
                before = f'{before}, "address": {rid}'
            value = resource.unknowns
            unknowns = _texts(value) if value else "{}"
            value = resource.name
            name = quote(value) if type(value) is str else scalar(value)
            value = resource.notes  # a few mappings, shared by many resources
            append(
                f'{{"id": {rid}, {kind}"name": {name}, '
                f'{place}"encryption": {encryption}, "replicas": {replicas}, '
                f'"unknowns": {unknowns}, "source": {before}{after}'
                + (f', "notes": {part(shared, value, _texts)}}}' if value else "}")
            )
        yield lines


def _kind(key: tuple[object, ...]) -> str:
    provider, kind_type, kind, stores = key
    return (
        f'"provider": {scalar(provider)}, "type": {scalar(kind_type)}, '
        f'"kind": {scalar(kind)}, "stores_data": {scalar(stores)}, '
    )


def host_parts(finding: Finding) -> dict[str, Any]:
    """What a host-level finding adds (schema 1.4): ``subject`` and the resources it covers.

    Ordinary findings carry no ``subject`` key (it means ``resource``), so their lines are
    unchanged; a host-level finding's ``resource_id`` names its host scope (``hds-host:…``),
    never an entry of ``resources``.
    """
    covers = finding.covers or ()
    subject = finding.resource
    return {
        "subject": "host",
        "host": {"scope": subject.id, "name": subject.name, "provider": subject.provider},
        "covers": {
            "count": len(covers),
            "resource_ids": [c.id for c in covers],
            "projects": [c.project for c in covers],
        },
    }


class _Quoted(dict[str, str]):
    """Texts quoted once each (the projects of a host-level finding's resources repeat)."""

    def __missing__(self, text: str) -> str:
        quoted = self[text] = _QUOTE(text)
        return quoted


HOST_PIECE = 2048  # covered resources per piece of a host-level line


def _quoted(texts: Iterable[str], quote: Callable[[str], str]) -> Iterator[str]:
    """``texts`` quoted, ``", "`` between them, in pieces of :data:`HOST_PIECE` texts."""
    iterator = iter(texts)
    first = True
    while batch := list(islice(iterator, HOST_PIECE)):
        yield ("" if first else ", ") + ", ".join(map(quote, batch))
        first = False


_TEXT_ONLY = frozenset((str,))


def _covered_parts(covers: tuple[Covered, ...]) -> list[str] | None:
    """What follows ``"resource_ids": [`` in a host-level line: the ids and projects of
    the covered resources, encoded in pieces (projects are few: each quoted once);
    ``None`` when one is not a text."""
    if not _TEXT_ONLY.issuperset(map(type, chain.from_iterable(covers))):
        return None
    return [
        *_quoted(map(itemgetter(0), covers), _QUOTE),
        '], "projects": [',
        *_quoted(map(itemgetter(1), covers), _Quoted().__getitem__),
        "]}",
    ]


def _host_parts(finding: Finding, covered: list[str] | None) -> Iterable[str]:
    """``host_parts(finding)`` encoded, without its braces, in pieces: ``covered`` is
    :func:`_covered_parts` of its covers (``None``: through the encoder, whole)."""
    covers = finding.covers or ()
    subject = finding.resource
    if covered is None:
        return [_ENCODE(host_parts(finding))[1:-1]]  # an id or a project not a text
    return chain(
        (
            f'"subject": "host", "host": {{"scope": {scalar(subject.id)}, '
            f'"name": {scalar(subject.name)}, "provider": {scalar(subject.provider)}}}, '
            f'"covers": {{"count": {len(covers)}, "resource_ids": [',
        ),
        covered,
    )


def _policy_head(finding: Finding) -> str:
    meta = finding.policy
    return (
        f'{{"policy_id": {scalar(meta.id)}, "category": {scalar(meta.category)}, '
        f'"severity": {scalar(meta.severity)}, '
    )


def _subject(key: tuple[object, ...]) -> str:
    """What follows ``resource_id`` in a finding line: the resource's type, region, file and
    source kind."""
    kind_type, region, file, kind = key
    return (
        f'"resource_type": {scalar(kind_type)}, "region": {scalar(region)}, '
        f'"source_file": {scalar(file)}, "source_kind": {scalar(kind)}, '
    )


class _Lines:
    """Parts of lines, each line's first part starting with ``",\\n"``, written to a
    stream: joined batch by batch (or one by one, ``alone``), the first comma dropped."""

    __slots__ = ("started", "stream")

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started = False

    def write(self, parts: list[str]) -> None:
        if not parts:
            return
        if not self.started:
            parts[0] = parts[0][1:]
            self.started = True
        self.stream.write("".join(parts))

    def write_alone(self, parts: Iterable[str]) -> None:
        """One line's parts (the first never empty), each written as it comes."""
        for part in parts:
            if not self.started:
                part = part[1:]
                self.started = True
            self.stream.write(part)


class FindingLines:
    """Encode findings to JSON lines, reusing what repeats.

    A finding's line is its policy's part, its resource's part and a tail (status, message,
    reason, evidence). Policies are few, consecutive findings share their resource, and
    evidence is interned by the engine, so most tails are cache hits: each line holds what
    ``finding_dict(finding)`` holds, several times faster than encoding it.
    """

    __slots__ = ("_covered", "_heads", "_lines", "_messages", "_state")

    def __init__(
        self, state: Callable[[Finding], str] | None = None, messages: MessageTable | None = None
    ) -> None:
        self._state = state  # the baseline state of a finding, with --baseline
        self._messages = messages if messages is not None else MessageTable()
        self._heads: dict[str, str] = {}  # by policy id
        # (policy id, status, evidence, reason) -> the parts of a line around its subject
        self._lines: dict[tuple[Any, ...], tuple[str, str]] = {}
        # The last covers written and their encoded pieces: the policies of one host scope
        # cover the same resources (one tuple, see ``engine.evaluate``), encoded once.
        self._covered: tuple[object, list[str] | None] = (None, None)

    def write(self, stream: IO[str], findings: Iterable[Finding]) -> bool:
        """Write the lines of ``findings`` to ``stream``, each after a line break and all
        but the first after a comma; return whether there were any.

        A batch of lines is joined from its parts at once (no line is built on its own); a
        host-level line, which may list 100,000 resources, is written alone.
        """
        subjects: dict[tuple[object, ...], str] = {}
        quote = _QUOTE
        lines = self._lines
        state = self._state
        last: Resource | None = None
        subject = ""
        out = _Lines(stream)
        iterator = iter(findings)
        while chunk := list(islice(iterator, BATCH_LINES)):
            parts: list[str] = []
            add = parts.append
            for finding in chunk:
                meta, resource, status, evidence, reason, covers = finding
                if resource is not last:
                    last = resource
                    source = resource.source
                    place = (resource.type, resource.location.region, source.file, source.kind)
                    rest = subjects.get(place)
                    if rest is None:
                        rest = _subject(place)
                        if len(subjects) < CACHE_SIZE and all(_text(t) for t in place):
                            subjects[place] = rest  # texts only: 1 equals True
                    rid = resource.id
                    subject = (
                        f'"resource_id": {quote(rid) if type(rid) is str else scalar(rid)}, {rest}'
                    )
                try:
                    head, tail = lines[meta.id, status, evidence, reason]
                except KeyError:
                    head, tail = self._remember(finding)
                except TypeError:  # unhashable evidence value: encoded without the cache
                    head, tail = self._head(finding), self._tail(finding)
                if covers is None and state is None:
                    add(head)
                    add(subject)
                    add(tail)
                    continue
                baseline = "}" if state is None else f', "baseline": "{state(finding)}"}}'
                if covers is None:
                    add(head)
                    add(subject)
                    add(tail[:-1] + baseline)
                    continue
                # A host-level finding (one per host scope and policy): its parts alone.
                out.write(parts)
                if self._covered[0] is not covers:
                    self._covered = (None, None)  # the old pieces let go first
                    self._covered = (covers, _covered_parts(covers))
                parts_of_host = _host_parts(finding, self._covered[1])
                host = chain((head, subject, tail[:-1], ", "), parts_of_host, (baseline,))
                out.write_alone(host)
                parts = []
                add = parts.append
            out.write(parts)
        return out.started

    def _remember(self, finding: Finding) -> tuple[str, str]:
        """The parts of ``finding`` around its subject, kept for findings that repeat it."""
        lines = self._lines
        if len(lines) >= CACHE_SIZE:  # evidence naming one resource's own key repeats
            lines.clear()  # little: keep the memory bounded
        meta = finding.policy
        parts = lines[meta.id, finding.status, finding.evidence, finding.reason] = (
            self._head(finding),
            self._tail(finding),
        )
        return parts

    def _head(self, finding: Finding) -> str:
        """``",\\n"`` and the policy's part of a line (the first seen for its policy id)."""
        meta = finding.policy
        head = self._heads.get(meta.id)
        if head is None:
            head = self._heads[meta.id] = ",\n" + _policy_head(finding)
        return head

    def _tail(self, finding: Finding) -> str:
        self._messages.add(finding.reason)
        for evidence in finding.evidence:
            self._messages.add(evidence.note)
        shown = ", ".join(
            f'{{"path": {scalar(e.path)}, "value": {scalar(e.value)}, "note": {scalar(e.note)}}}'
            for e in finding.evidence
        )
        return (
            f'"status": {scalar(finding.status)}, "message": {scalar(finding_message(finding))}, '
            f'"reason": {scalar(finding.reason)}, "evidence": [{shown}]}}'
        )
