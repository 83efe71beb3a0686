"""What a policy's outcome depends on, so resources with equal inputs share one outcome.

Each resolver (:mod:`hds_audit.engine.paths`) reads a few fields of the resource: equal
fields give equal evidence and, conditions being pure, the same outcome. :func:`inputs`
names the fields a path's resolver reads. The model's fields (location, encryption, copies)
take few values across an estate: :func:`key_function` reads them into one key. Inputs that
may differ for each resource — texts a collector writes (``unknowns``, ``notes``) and raw
attributes — are read apart by :class:`Varying`, each with its exact type (``1 == True``
in Python, but not here). The resource's type, provider, kind and ``holds_data`` are not
read here: the engine groups resources by them before keying.

A path naming the resource itself (``id``, ``name``), or one this module does not know,
has no key: a policy reading it is judged on each resource afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from operator import attrgetter, itemgetter
from typing import Final

from hds_audit.engine.paths import ABSENT, walk
from hds_audit.model import Resource
from hds_audit.providers.facts import HOST_PATHS

Reader = Callable[[Resource], Hashable]

_NO_ENCRYPTION: Final = ("no encryption described",)  # distinct from every field value
_UNKEYED: Final = frozenset({"id", "name"})
_CLASS_FIELDS: Final = frozenset({"type", "provider", "kind", "stores_data"})
_LOCATION_PATHS: Final = frozenset({"country", "in_area", "in_eea", "in_eu", "region"})
_REPLICA_PLACES: Final = frozenset({"country", "in_area", "in_eea", "in_eu", "region"})


def inputs(path: str) -> tuple[str, ...] | None:
    """The resource fields the resolver of ``path`` reads, or ``None`` when its outcome is
    not to be shared (``unknown:P`` / ``note:P``: entry ``P`` of ``unknowns`` / ``notes``;
    ``attribute:P``: the raw attribute at ``P``)."""
    if path in HOST_PATHS:  # registry facts per (provider, region, kind)
        return ("location",)
    if path in _UNKEYED:
        return None
    if path.startswith("attributes."):
        root = path.split(".", 2)[1]
        return (f"attribute:{path[len('attributes.') :]}", f"unknown:attributes.{root}")
    if path in _CLASS_FIELDS:
        return (f"unknown:{path}",)
    if path == "source.kind":
        return ("source.kind", f"unknown:{path}")
    if path == "non_regional":
        return ("location", f"unknown:{path}")
    if path in _LOCATION_PATHS:
        return ("location", "unknown:region")
    if path.startswith("encryption."):
        return (f"encryption:{path[len('encryption.') :]}", f"unknown:{path}", f"note:{path}")
    if path.startswith("replicas.*.") and path[len("replicas.*.") :] in _REPLICA_PLACES:
        return ("replica_places", "unknown:replicas")
    if path == "replicas" or path.startswith("replicas.*."):
        return ("replicas", "unknown:replicas")
    return None


@functools.lru_cache(maxsize=1024)
def key_inputs(paths: frozenset[str]) -> frozenset[str] | None:
    """The union of :func:`inputs` over ``paths``; ``None`` if any path has no key."""
    names: set[str] = set()
    for path in paths:
        found = inputs(path)
        if found is None:
            return None
        names.update(found)
    return frozenset(names)


class Tokens:
    """Stand-ins for shared objects (locations), by identity: hashing a dataclass runs
    Python code, an ``id`` does not. Equal objects get one token; each object is kept
    alive here, so its ``id`` cannot be reused by another while the tokens live."""

    __slots__ = ("_by_id", "_by_value")

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[object, int]] = {}
        self._by_value: dict[object, int] = {}

    def __call__(self, item: object) -> int:
        found = self._by_id.get(id(item))
        if found is None:
            token = self._by_value.setdefault(item, len(self._by_value))
            found = self._by_id[id(item)] = (item, token)
        return found[1]

    def reader(self, field: str) -> Reader:
        """A reader of the token of ``resource.<field>``."""
        by_id = self._by_id
        get = attrgetter(field)

        def read(resource: Resource) -> Hashable:
            item = get(resource)
            found = by_id.get(id(item))
            return found[1] if found is not None else self(item)

        return read


def _replicas(resource: Resource) -> Hashable:
    return resource.replicas


def _encryption(fields: tuple[str, ...]) -> Reader:
    """The encryption's ``fields``, or a marker when the resource describes none."""
    get = attrgetter(*fields)

    def read(resource: Resource) -> Hashable:
        encryption = resource.encryption
        return _NO_ENCRYPTION if encryption is None else get(encryption)

    return read


def _combined(readers: list[Reader]) -> Reader:
    if not readers:
        return no_key
    if len(readers) == 1:
        return readers[0]
    if len(readers) == 2:
        first, second = readers
        return lambda resource: (first(resource), second(resource))
    if len(readers) == 3:
        first, second, third = readers
        return lambda resource: (first(resource), second(resource), third(resource))
    return lambda resource: tuple([read(resource) for read in readers])


def no_key(resource: Resource) -> Hashable:
    """The key of a class whose policies read nothing that varies between its resources."""
    return None


def varies(name: str) -> bool:
    """Whether input ``name`` may differ for each resource: an entry of ``unknowns`` or
    ``notes`` (a reason naming the resource's own key), a raw attribute."""
    return name.startswith(("unknown:", "note:", "attribute:"))


def key_function(names: Iterable[str], tokens: Tokens) -> Reader:
    """A reader of the inputs ``names`` (see :func:`inputs`) but the varying ones, as one
    hashable key; ``tokens`` stand for locations."""
    names = sorted(set(names))
    readers: list[Reader] = []
    fields = tuple(n[len("encryption:") :] for n in names if n.startswith("encryption:"))
    if fields:
        readers.append(_encryption(fields))
    for name in names:
        if name == "location":
            readers.append(tokens.reader("location"))
        elif name == "replica_places":
            readers.append(_places(tokens))
        elif name == "replicas":
            readers.append(_replicas)
        elif name == "source.kind":
            readers.append(attrgetter("source.kind"))
        elif not varies(name) and not name.startswith("encryption:"):
            raise KeyError(name)
    return _combined(readers)


def _places(tokens: Tokens) -> Reader:
    def read(resource: Resource) -> Hashable:
        replicas = resource.replicas
        if not replicas:  # None (not established) or () (none)
            return replicas
        return tuple([tokens(replica.location) for replica in replicas])

    return read


class _Unshared:
    """Stands for a value no outcome is shared on (a list, a mapping): unhashable."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


_ABSENT_KEY: Final = ("absent",)  # distinct from every key of :func:`_exact`


def _exact(value: object) -> object:
    """A key for a raw value that values of another type never share."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool or kind is int or value is None:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))  # 0.0 and -0.0 are equal, not the same
    if value is ABSENT:
        return _ABSENT_KEY
    return _Unshared()


class Varying:
    """The inputs that may differ for each resource (see :func:`varies`), read as one flat
    tuple; :meth:`picker` selects those of fewer inputs from it."""

    __slots__ = (
        "_attributes",
        "_no_attributes",
        "_no_notes",
        "_no_unknowns",
        "_notes",
        "_unknowns",
        "names",
    )

    def __init__(self, names: Iterable[str]) -> None:
        wanted = sorted({n for n in names if varies(n)})

        def named(prefix: str) -> tuple[str, ...]:
            return tuple(n[len(prefix) :] for n in wanted if n.startswith(prefix))

        self._unknowns = named("unknown:")
        self._notes = named("note:")
        self._attributes = [path.split(".") for path in named("attribute:")]
        # What a resource without unknowns, notes or raw attributes gives.
        self._no_unknowns: tuple[object, ...] = (None,) * len(self._unknowns)
        self._no_notes: tuple[object, ...] = (None,) * len(self._notes)
        self._no_attributes: tuple[object, ...] = (_ABSENT_KEY,) * len(self._attributes)
        # The inputs in the order :meth:`read` gives their values.
        self.names = [
            *(f"unknown:{k}" for k in self._unknowns),
            *(f"note:{k}" for k in self._notes),
            *(f"attribute:{'.'.join(parts)}" for parts in self._attributes),
        ]

    def __bool__(self) -> bool:
        return bool(self.names)

    @property
    def always(self) -> bool:
        """Whether they are to be read on every resource (raw attributes), not only on those
        with ``unknowns`` or ``notes``."""
        return bool(self._attributes)

    def read(self, resource: Resource) -> tuple[object, ...]:
        """The values (``None`` for an absent text); unhashable if one is not to be shared."""
        unknowns, notes = resource.unknowns, resource.notes
        values = (
            tuple([unknowns.get(k) for k in self._unknowns]) if unknowns else self._no_unknowns
        ) + (tuple([notes.get(k) for k in self._notes]) if notes else self._no_notes)
        if self._attributes:
            attributes = resource.attributes
            values += (
                tuple([_exact(walk(attributes, parts)) for parts in self._attributes])
                if attributes
                else self._no_attributes
            )
        return values

    def picker(self, names: Iterable[str]) -> Callable[[tuple[object, ...]], object]:
        """Selects the values of the varying inputs among ``names`` from what :meth:`read`
        gives."""
        wanted = {n for n in names if varies(n)}
        pick: Callable[[tuple[object, ...]], object]
        pick = itemgetter(*(i for i, name in enumerate(self.names) if name in wanted))
        return pick
