"""Encryption facts of a Terraform type, as ``data/types.yaml`` declares them, and their reading.

A :class:`Reading` says where a resource (or one of its volumes) tells whether it is
encrypted at rest and with which key, and what the provider does when the configuration says
nothing: encrypts anyway (with the documentation that says so), does not, or follows an
account setting (EBS encryption by default). :func:`read` turns one into a verdict; it knows
nothing of documents or indexes: the normaliser hands it a :class:`View` of the resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol

from hds_audit.i18n import Msg
from hds_audit.model import EMPTY_MAPPING, Encryption, KeyOwner, Kind, empty_mapping

Absent = Literal["encrypted", "unencrypted", "ebs_default"]
_ABSENT: frozenset[str] = frozenset({"encrypted", "unencrypted", "ebs_default"})
KeyVerdict = tuple[KeyOwner | None, str | None, str | None]

EBS_DEFAULT_UNKNOWN = Msg("collect.ebs.default_unknown")
EBS_DEFAULT_KEY_UNKNOWN = Msg("collect.ebs.key_unknown")
EBS_SNAPSHOT = Msg("collect.ebs.snapshot")
NOT_ENCRYPTED = Msg("collect.not_encrypted")


@dataclass(frozen=True, slots=True)
class Reading:
    """Where encryption at rest and its key are read (paths relative to the resource or block).

    ``flag`` lists alternative paths (the first one set wins: provider versions renamed some);
    ``on`` (``when:`` in the data) the values that mean encrypted (``None``: a boolean).
    ``absent`` is the provider's behaviour when no flag is set (``None``: unknown), ``source``
    the documentation saying so.
    ``customer`` is a (path, values) pair whose match means a customer-managed key;
    ``absent_reason`` says why no flag leaves the verdict unknown (``false_reason`` the same
    for a flag that is off: a temp disk exists only on some sizes), ``key_unknown`` why the
    key cannot be told from the resource (it is another resource's).
    """

    flag: tuple[str, ...] = ()
    on: frozenset[str] | None = None
    always: bool = False
    absent: Absent | None = None
    key: tuple[str, ...] = ()
    customer: tuple[str, frozenset[str]] | None = None
    source: str | None = None
    absent_reason: str | None = None
    false_reason: str | None = None
    key_unknown: str | None = None

    @property
    def declared(self) -> bool:
        """Whether the type says anything about encryption."""
        return self.always or bool(self.flag)


@dataclass(frozen=True, slots=True)
class Volume:
    """A volume a resource creates (an instance's root disk): judged as storage of its own.

    ``block`` is the attribute holding one block per volume (``None``: the resource itself),
    ``label`` the block attribute naming it; ``implicit`` that a volume exists even when the
    configuration has no block (an instance always has a root volume).
    """

    name: str
    reading: Reading
    block: str | None = None
    label: str | None = None
    implicit: bool = False
    kind: Kind = Kind.BLOCK_STORAGE


@dataclass(frozen=True, slots=True)
class KeyResource:
    """A separate resource that sets the key (``azurerm_kusto_cluster_customer_managed_key``)."""

    type: str
    join: str
    key: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EbsDefault:
    """The account's EBS encryption by default in one region, as the run holds it."""

    enabled: bool
    key: str | None
    origin: str


class View(Protocol):
    """What :func:`read` needs to know of the resource being judged."""

    def get(self, path: str) -> Any: ...

    def unknown(self, path: str) -> bool: ...

    def key_owner(self, path: str | None, value: Any = None) -> KeyVerdict: ...

    def ebs_default(self) -> EbsDefault | None: ...


@dataclass(slots=True)
class Verdict:
    """The encryption of one resource or volume, with why a value is unknown or what set it."""

    encryption: Encryption
    unknowns: Mapping[str, str] = field(default_factory=empty_mapping)
    notes: Mapping[str, str] = field(default_factory=empty_mapping)


# One shared instance per (at rest, owner) for the encryptions that name no key: thousands of
# resources hold them. Owners are told apart by identity: hashing an enum member runs Python.
_KEYLESS: dict[KeyOwner | None, dict[bool | None, Encryption]] = {
    owner: {at_rest: Encryption(at_rest, owner) for at_rest in (True, False, None)}
    for owner in (None, *KeyOwner)
}
#: The ids of those shared instances (kept alive by this module, so their ids stay theirs).
SHARED_IDS = frozenset(id(e) for table in _KEYLESS.values() for e in table.values())
_NO_OWNER = _KEYLESS[None]
_PROVIDER_OWNED = _KEYLESS[KeyOwner.PROVIDER]
_CUSTOMER_OWNED = _KEYLESS[KeyOwner.CUSTOMER]


def _keyless(at_rest: object, owner: KeyOwner | None) -> dict[bool | None, Encryption] | None:
    if at_rest is not None and type(at_rest) is not bool:
        return None
    if owner is None:
        return _NO_OWNER
    if owner is KeyOwner.PROVIDER:
        return _PROVIDER_OWNED
    return _CUSTOMER_OWNED if owner is KeyOwner.CUSTOMER else None


def encryption(
    at_rest: bool | None, key_owner: KeyOwner | None = None, key_id: str | None = None
) -> Encryption:
    """``Encryption(at_rest, key_owner, key_id)``, one shared instance when it names no key."""
    if key_id is None:
        table = _keyless(at_rest, key_owner)
        if table is not None:
            return table[at_rest]
    return Encryption(at_rest, key_owner, key_id)


def shared(value: Encryption) -> Encryption:
    """The shared instance equal to ``value`` when it names no key, else ``value`` itself."""
    if value.key_id is None:
        table = _keyless(value.at_rest, value.key_owner)
        if table is not None:
            return table[value.at_rest]
    return value


def _cite(text: str, source: str | None) -> str:
    return Msg("collect.cited", text=text, source=source) if source else text


# The messages below depend only on the type's data and an attribute path: made once each,
# shared by every resource that gets them (the path and source strings come from the data).
@lru_cache(maxsize=1024)
def _always_note(source: str | None) -> str:
    return _cite(Msg("collect.always_encrypted"), source)


@lru_cache(maxsize=1024)
def _absent_note(encrypted: bool, flag: str, source: str | None) -> str:
    if encrypted:
        return _cite(Msg("collect.absent_encrypted", attribute=flag), source)
    return _cite(Msg("collect.absent_unencrypted", attribute=flag), source)


@lru_cache(maxsize=1024)
def after_apply(attribute: str) -> str:
    """``<attribute> known only after apply``."""
    return Msg("collect.after_apply", attribute=attribute)


@lru_cache(maxsize=1024)
def _not_set(flag: str, why: str | None) -> str:
    if why is None:
        return Msg("collect.not_set", attribute=flag)
    return Msg("collect.not_set_because", attribute=flag, why=why)


@lru_cache(maxsize=1024)
def _ebs_default_unknown(flag: str) -> str:
    return Msg("collect.not_set_because", attribute=flag, why=EBS_DEFAULT_UNKNOWN)


def _at_rest(r: Reading, view: View, where: str) -> tuple[bool | None, str | None, str | None]:
    """(encrypted, why unknown, note on a known value) and, via the EBS default, its key."""
    if r.always:
        return True, None, _always_note(r.source)
    for path in r.flag:
        full = where + path
        if view.unknown(full):
            return None, after_apply(full), None
        value = view.get(full)
        if value is None:
            continue
        if r.on is not None:
            encrypted = str(value).lower() in r.on or ("*" in r.on and value != "")
        else:
            encrypted = value if isinstance(value, bool) else str(value).lower() == "true"
        if not encrypted and r.absent == "ebs_default":
            setting = view.ebs_default()
            if setting is not None and setting.enabled:
                note = Msg("collect.ebs.false_but_on", attribute=full, origin=setting.origin)
                return True, None, note
        if not encrypted and r.false_reason:
            reason = Msg("collect.off_because", attribute=full, value=value, why=r.false_reason)
            return None, reason, None
        return encrypted, None, None
    flag = where + r.flag[0] if r.flag else (where.rstrip(".") or "encryption")
    if r.absent == "encrypted":
        return True, None, _absent_note(True, flag, r.source)
    if r.absent == "unencrypted":
        return False, None, _absent_note(False, flag, r.source)
    if r.absent == "ebs_default":
        setting = view.ebs_default()
        if setting is None:
            return None, _ebs_default_unknown(flag), None
        if not setting.enabled:
            why = Msg(
                "collect.ebs.not_set_off", attribute=flag, origin=setting.origin, why=EBS_SNAPSHOT
            )
            return None, why, None
        return True, None, Msg("collect.ebs.not_set_on", attribute=flag, origin=setting.origin)
    return None, _not_set(flag, r.absent_reason or None), None


def read(r: Reading, view: View, where: str = "") -> Verdict:
    """Judge encryption at rest and key ownership; ``where`` prefixes every path (a block)."""
    at_rest, why, note = _at_rest(r, view, where)
    unknowns = {"encryption.at_rest": why} if why else {}
    notes = {"encryption.at_rest": note} if note else EMPTY_MAPPING
    if at_rest is False:
        unknowns["encryption.key_owner"] = NOT_ENCRYPTED
        return Verdict(encryption(False), unknowns, notes)
    owner, key_id, reason = _key(r, view, where)
    if reason:
        unknowns["encryption.key_owner"] = reason
    return Verdict(encryption(at_rest, owner, key_id), unknowns or EMPTY_MAPPING, notes)


def _key(r: Reading, view: View, where: str) -> KeyVerdict:
    if r.key_unknown:
        return None, None, r.key_unknown
    if r.customer is not None:
        path, values = r.customer
        chosen = view.get(where + path)
        if view.unknown(where + path):
            return None, None, after_apply(where + path)
        if chosen is not None and str(chosen).lower() in values:
            key = next((view.get(where + k) for k in r.key if view.get(where + k)), None)
            return KeyOwner.CUSTOMER, str(key or chosen), None
    for path in r.key:
        if view.get(where + path) not in (None, "") or view.unknown(where + path):
            return view.key_owner(where + path)
    if r.absent == "ebs_default":
        # No key named: EC2 uses the account's default EBS key (aws/ebs unless changed).
        setting = view.ebs_default()
        if setting is not None and setting.enabled:
            return view.key_owner(None, setting.key)
        if setting is None and not any(view.unknown(where + k) for k in r.key):
            return None, None, EBS_DEFAULT_KEY_UNKNOWN
    if r.key:
        return view.key_owner(where + r.key[0])
    return KeyOwner.PROVIDER, None, None


# -- parsing ``data/types.yaml`` ----------------------------------------------------------------


def _paths(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


_READING_KEYS = frozenset(
    {
        "flag",
        "when",
        "always",
        "absent",
        "key",
        "customer",
        "source",
        "absent_reason",
        "false_reason",
        "key_unknown",
    }
)
_VOLUME_KEYS = _READING_KEYS | {"name", "block", "label", "implicit", "kind"}


def _check_keys(entry: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    unexpected = sorted(str(k) for k in entry if k not in allowed)
    if unexpected:
        raise ValueError(f"unexpected keys {unexpected} in {dict(entry)!r}")


def parse_reading(entry: Mapping[str, Any], allowed: frozenset[str] = _READING_KEYS) -> Reading:
    """A :class:`Reading` from one ``encryption:`` mapping of ``data/types.yaml``."""
    _check_keys(entry, allowed)
    absent = entry.get("absent")
    if absent is not None and absent not in _ABSENT:
        raise ValueError(f"absent: {absent!r} is not one of {sorted(_ABSENT)}")
    on = entry.get("when")
    customer = entry.get("customer")
    return Reading(
        flag=_paths(entry.get("flag")),
        on=frozenset(str(v).lower() for v in on) if on is not None else None,
        always=bool(entry.get("always", False)),
        absent=absent,
        key=_paths(entry.get("key")),
        customer=(
            (str(customer["path"]), frozenset(str(v).lower() for v in customer["values"]))
            if customer
            else None
        ),
        source=entry.get("source"),
        absent_reason=entry.get("absent_reason"),
        false_reason=entry.get("false_reason"),
        key_unknown=entry.get("key_unknown"),
    )


def parse_volumes(entries: Any) -> tuple[Volume, ...]:
    """The ``volumes:`` list of one type."""
    return tuple(
        Volume(
            name=str(item["name"]),
            reading=parse_reading(item, _VOLUME_KEYS),
            block=item.get("block"),
            label=item.get("label"),
            implicit=bool(item.get("implicit", False)),
            kind=Kind(item.get("kind", "block_storage")),
        )
        for item in entries or ()
    )


def parse_key_resource(entry: Any) -> KeyResource | None:
    """The ``key_resource:`` mapping of one type."""
    if not entry:
        return None
    return KeyResource(str(entry["type"]), str(entry["join"]), _paths(entry["key"]))


#: The reading of a type that says nothing about encryption.
NO_READING = Reading()
