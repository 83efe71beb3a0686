"""The certified-host registry: each cloud host's HDS certificate, as sourced data.

Loaded from ``providers/data/hosts.yaml`` (or a file given by the user) and validated before
anything is scanned. A fact is a value with the source it was taken from; ``unknown`` is a
value in its own right and is never turned into a guess.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources as package_files
from pathlib import Path
from typing import Any, Final

from hds_audit import inputs
from hds_audit.datafile import Checker, DataFileError, Node, load_yaml
from hds_audit.evidence.inputs import InputFile, combined_digest, read_input
from hds_audit.model import Kind

UNKNOWN: Final = "unknown"

#: Facts every host carries, in display order.
FACTS: Final[tuple[str, ...]] = (
    "legal_entity",
    "certificate_status",
    "referential",
    "certificate_number",
    "certifying_body",
    "activities",
    "issued",
    "expires",
    "scope_regions",
    "scope_kinds",
    "secnumcloud",
    "transfer_map_url",
    "extra_eu_law",
)
CERTIFICATE_STATUSES: Final = ("certified", "not_certified", UNKNOWN)
_DATE_FACTS: Final = ("issued", "expires")
_LIST_FACTS: Final = ("activities", "scope_regions", "scope_kinds", "secnumcloud")
_KINDS: Final = frozenset(k.value for k in Kind)


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    url: str
    title: str = ""
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact about a host; ``value`` is ``"unknown"`` when no checked source gives it."""

    value: Any
    source: str
    date: str | None = None
    note: str | None = None

    @property
    def known(self) -> bool:
        return not (isinstance(self.value, str) and self.value == UNKNOWN)


@dataclass(frozen=True, slots=True)
class Host:
    """A certified (or checked) host and the provider keys its resources use."""

    key: str
    name: str
    providers: tuple[str, ...]
    facts: Mapping[str, Fact]
    line: int | None = None

    def fact(self, name: str) -> Fact:
        return self.facts[name]

    def known(self, name: str) -> Any:
        """The value of a fact, or ``None`` when unknown."""
        fact = self.facts[name]
        return fact.value if fact.known else None

    def expires(self) -> date | None:
        value = self.known("expires")
        return date.fromisoformat(value) if value else None

    def issued(self) -> date | None:
        value = self.known("issued")
        return date.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class Registry:
    """Hosts by key, plus the provider -> host index the policies use."""

    file: str
    version: str
    recorded: str
    hosts: tuple[Host, ...]
    sources: Mapping[str, Source]
    by_provider: Mapping[str, Host] = field(default_factory=dict)
    digest: str = ""  # sha256 of the registry file's bytes
    input: InputFile | None = None  # the file given with --registry (None: the built-in one)

    def host(self, name: str) -> Host | None:
        """A host by key, provider key or name (case-insensitive)."""
        wanted = name.casefold()
        for host in self.hosts:
            if wanted in (host.key.casefold(), host.name.casefold()):
                return host
        return self.by_provider.get(name)

    def source(self, key: str) -> Source:
        return self.sources[key]


class _RegistryChecker(Checker):
    def fact(self, node: Any, name: str, parent: Node, sources: Mapping[str, Source]) -> Fact:
        if node is None:
            raise self.fail(parent, f"missing fact {name!r} (write `value: unknown` if unknown)")
        fact = self.mapping(node, f"fact {name!r}", parent)
        self.unknown_keys(fact, ("value", "source", "date", "note"), f"fact {name!r}")
        if "value" not in fact:
            raise self.fail(fact, f"fact {name!r} needs a 'value' (or `value: unknown`)")
        source = self.text(fact, "source")
        if source not in sources:
            raise self.fail(fact, f"fact {name!r}: unknown source {source!r}", "source")
        when = fact.get("date")
        if when is not None:
            self.iso_date(fact, "date", str(when))
        value = fact["value"]
        if not (isinstance(value, str) and value == UNKNOWN):
            value = self.value(fact, name, value)
        note = fact.get("note")
        return Fact(value, source, str(when) if when else None, str(note) if note else None)

    def value(self, fact: Node, name: str, value: Any) -> Any:
        if name == "certificate_status" and value not in CERTIFICATE_STATUSES:
            raise self.fail(
                fact,
                f"certificate_status must be one of {', '.join(CERTIFICATE_STATUSES)}",
                "value",
            )
        if name in _DATE_FACTS:
            self.iso_date(fact, "value", str(value))
            return str(value)
        if name == "extra_eu_law" and not isinstance(value, bool):
            raise self.fail(fact, "extra_eu_law must be true, false or unknown", "value")
        if name in _LIST_FACTS:
            if not isinstance(value, list):
                raise self.fail(fact, f"{name} must be a list or unknown", "value")
            if name == "activities" and not all(isinstance(a, int) and 1 <= a <= 6 for a in value):
                raise self.fail(fact, "activities are numbers 1 to 6 (R.1111-9 CSP)", "value")
            if name == "scope_kinds" and not set(map(str, value)) <= _KINDS:
                bad = sorted(set(map(str, value)) - _KINDS)
                raise self.fail(fact, f"unknown kind(s) {', '.join(bad)}", "value")
            return tuple(value)
        if not isinstance(value, str | int | float | bool):
            raise self.fail(fact, f"{name} must be a scalar or unknown", "value")
        return value

    def iso_date(self, node: Node, key: str, text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(node, f"{key} {text!r} is not a date (YYYY-MM-DD)", key) from None


def parse_registry(text: str, file: str, *, bundled: bool = False) -> Registry:
    """Parse and validate a registry file's text.

    A file with ``extends: builtin`` records a customer's own facts on top of the built-in
    registry: a host with a built-in key overrides the facts it gives (name and providers
    may be left out), a new key adds a host, and its sources must not reuse a built-in
    source key. Without ``extends`` the file is the whole registry. ``bundled``: the one
    shipped in the package.
    """
    check = _RegistryChecker(file)
    root = check.mapping(load_yaml(text, file, bundled=bundled), "the registry")
    check.unknown_keys(
        root,
        ("version", "recorded", "compiled_from", "extends", "sources", "hosts"),
        "the registry",
    )
    base: Registry | None = None
    if "extends" in root:
        if root["extends"] != "builtin":
            raise check.fail(root, "'extends' takes only `builtin`", "extends")
        base = builtin_registry()
    raw_sources = check.mapping(root.get("sources"), "'sources'", root)
    sources: dict[str, Source] = dict(base.sources) if base else {}
    for key, entry in raw_sources.items():
        node = check.mapping(entry, f"source {key!r}", raw_sources)
        if str(key) in sources:
            raise check.fail(
                node, f"source {key!r} is a source of the built-in registry: choose another key"
            )
        when = node.get("date")
        if when is not None:
            check.iso_date(node, "date", str(when))
        sources[str(key)] = Source(
            str(key), check.text(node, "url"), str(node.get("title") or ""), when and str(when)
        )
    hosts_node = root.get("hosts")
    if not isinstance(hosts_node, list) or not hosts_node:
        raise check.fail(root, "'hosts' must be a non-empty list", "hosts")
    inherited = {h.key: h for h in base.hosts} if base else {}
    given: dict[str, Host] = {}
    nodes: dict[str, Node] = {}
    for entry in hosts_node:
        node = check.mapping(entry, "a host", root)
        check.unknown_keys(node, ("key", "name", "providers", "facts"), "a host")
        key = check.text(node, "key")
        if key in given:
            raise check.fail(node, f"duplicate host key {key!r}", "key")
        given[key] = _host(check, node, key, sources, inherited.get(key))
        nodes[key] = node
    hosts = [given.pop(h.key, h) for h in base.hosts] if base else []
    hosts.extend(given.values())
    by_provider: dict[str, Host] = {}
    for host in hosts:
        for provider in host.providers:
            if provider in by_provider:
                raise check.fail(
                    nodes.get(host.key, root),
                    f"provider {provider!r} already belongs to host {by_provider[provider].key!r}",
                    "providers" if host.key in nodes else "hosts",
                )
            by_provider[provider] = host
    version = str(root.get("version") or "")
    if base is not None:
        version = f"{version} + built-in {base.version}" if version else f"built-in {base.version}"
    return Registry(
        file=file,
        version=version,
        recorded=str(root.get("recorded") or ""),
        hosts=tuple(hosts),
        sources=sources,
        by_provider=by_provider,
        digest=base.digest if base else "",  # load_registry adds the file's own
    )


def _host(
    check: _RegistryChecker,
    node: Node,
    key: str,
    sources: Mapping[str, Source],
    inherited: Host | None,
) -> Host:
    """One host entry; over an ``inherited`` built-in host, the facts given override its own."""
    providers = node.get("providers")
    if providers is None:
        providers = list(inherited.providers) if inherited else []
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise check.fail(node, "'providers' must be a list of provider keys", "providers")
    facts_node = check.mapping(node.get("facts"), f"host {key!r}: 'facts'", node)
    check.unknown_keys(facts_node, FACTS, f"host {key!r} facts")
    facts = {
        name: inherited.facts[name]
        if inherited is not None and name not in facts_node
        else check.fact(facts_node.get(name), name, facts_node, sources)
        for name in FACTS
    }
    name = inherited.name if inherited is not None and "name" not in node else None
    return Host(key, name or check.text(node, "name"), tuple(providers), facts, node.line)


BUILTIN_FILE: Final = "hds_audit/providers/data/hosts.yaml"


def builtin_registry_text() -> str:
    return _builtin_registry_bytes().decode("utf-8")


def _builtin_registry_bytes() -> bytes:
    return package_files.files("hds_audit.providers").joinpath("data/hosts.yaml").read_bytes()


@functools.cache
def builtin_registry() -> Registry:
    """The registry shipped in the package."""
    data = _builtin_registry_bytes()
    registry = parse_registry(data.decode("utf-8"), BUILTIN_FILE, bundled=True)
    return replace(registry, digest=hashlib.sha256(data).hexdigest())


def load_registry(path: str | Path | None = None) -> Registry:
    """The built-in registry, or the one in ``path``; invalid -> :class:`DataFileError`."""
    if path is None:
        return builtin_registry()
    try:
        data, record = read_input(path, "registry")
        text = inputs.utf8(data)
    except inputs.FileProblem as problem:
        raise DataFileError(str(path), None, problem.problem) from None
    registry = parse_registry(text, str(path))
    digest = record.sha256
    if registry.digest:  # extends the built-in registry: both files count
        digest = combined_digest(((BUILTIN_FILE, registry.digest), (str(path), digest)))
    return replace(registry, digest=digest, input=record)


def hosts_for(registry: Registry, providers: Sequence[str]) -> list[Host]:
    """The hosts of ``providers`` (in registry order), once each."""
    wanted = {registry.by_provider[p].key for p in providers if p in registry.by_provider}
    return [h for h in registry.hosts if h.key in wanted]
