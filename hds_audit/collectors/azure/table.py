"""The Azure read table (``data/services.yaml``) as typed, validated records.

Loading it imports no Azure SDK: the permissions command and the configuration check run
without the ``azure`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from typing import Any

import yaml

from hds_audit.model import Kind

_ARGS = frozenset({"resource_group", "name", "child"})


class TableError(ValueError):
    """``services.yaml`` is malformed (a bug in the package, caught by the tests)."""


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """An SDK client class: ``module.class``; ``subscription`` when it takes one."""

    name: str
    module: str
    cls: str
    subscription: bool = True


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One SDK call: ``client`` + dotted operation path; the RBAC read actions it needs."""

    name: str
    client: str
    operation: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DetailSpec:
    """A call made for each listed item (or for each item of another detail, ``over``)."""

    name: str
    operation: str
    args: tuple[str, ...]
    actions: tuple[str, ...]
    over: str | None = None
    skip_system: bool = False


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A data-store service: one list call per subscription, details per item, a normaliser."""

    name: str
    namespace: str
    client: str
    operation: str
    types: tuple[str, ...]
    normaliser: str
    actions: tuple[str, ...]
    details: tuple[DetailSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class AzureTable:
    clients: Mapping[str, ClientSpec]
    subscriptions_list: CallSpec
    subscriptions_get: CallSpec
    data_boundary: CallSpec
    inventory: tuple[CallSpec, ...]
    services: tuple[ServiceSpec, ...]
    kinds_by_type: Mapping[str, Kind]
    kinds_by_namespace: Mapping[str, Kind]

    def kind_of(self, arm_type: str) -> Kind:
        """Provider-neutral kind of an ARM type (case-insensitive), ``other`` if unlisted."""
        key = arm_type.lower()
        kind = self.kinds_by_type.get(key)
        if kind is not None:
            return kind
        return self.kinds_by_namespace.get(key.split("/", 1)[0], Kind.OTHER)

    def actions(self) -> list[str]:
        """Every RBAC read action any call of the table needs, sorted, without duplicates."""
        found: set[str] = set()
        for call in (
            self.subscriptions_list,
            self.subscriptions_get,
            self.data_boundary,
            *self.inventory,
        ):
            found.update(call.actions)
        for service in self.services:
            found.update(service.actions)
            for detail in service.details:
                found.update(detail.actions)
        return sorted(found)

    def service(self, name: str) -> ServiceSpec:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TableError(f"services.yaml: {where} must be a list of texts")
    return tuple(value)


def _call(
    name: str, entry: Mapping[str, Any], key: str, clients: Mapping[str, ClientSpec]
) -> CallSpec:
    client = entry.get("client")
    if client not in clients:
        raise TableError(f"services.yaml: {name}: unknown client {client!r}")
    operation = entry.get(key)
    if not isinstance(operation, str) or "." not in operation:
        raise TableError(f"services.yaml: {name}: '{key}' must be 'operations.method'")
    return CallSpec(name, str(client), operation, _strings(entry.get("actions"), f"{name}.actions"))


def _details(service: str, raw: Any) -> tuple[DetailSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise TableError(f"services.yaml: {service}.details must be a mapping")
    details: list[DetailSpec] = []
    for name, entry in raw.items():
        args = _strings(entry.get("args"), f"{service}.{name}.args")
        if not set(args) <= _ARGS:
            raise TableError(f"services.yaml: {service}.{name}: args must be among {sorted(_ARGS)}")
        over = entry.get("over")
        if over is not None and over not in raw:
            raise TableError(f"services.yaml: {service}.{name}: over names no detail {over!r}")
        if ("child" in args) != (over is not None):
            raise TableError(f"services.yaml: {service}.{name}: 'child' needs 'over' and back")
        details.append(
            DetailSpec(
                name=str(name),
                operation=str(entry["call"]),
                args=args,
                actions=_strings(entry.get("actions"), f"{service}.{name}.actions"),
                over=over,
                skip_system=bool(entry.get("skip_system", False)),
            )
        )
    return tuple(details)


def parse_table(data: Mapping[str, Any]) -> AzureTable:
    clients = {
        name: ClientSpec(
            name, entry["module"], entry["class"], bool(entry.get("subscription", True))
        )
        for name, entry in data["clients"].items()
    }
    tenant = data["tenant"]
    services = tuple(
        ServiceSpec(
            name=str(name),
            namespace=str(entry["namespace"]),
            client=_call(name, entry, "list", clients).client,
            operation=str(entry["list"]),
            types=_strings(entry.get("types"), f"{name}.types"),
            normaliser=str(entry["normaliser"]),
            actions=_strings(entry.get("actions"), f"{name}.actions"),
            details=_details(str(name), entry.get("details")),
        )
        for name, entry in data["services"].items()
    )
    kinds = data.get("kinds") or {}
    try:
        by_type = {k.lower(): Kind(v) for k, v in (kinds.get("types") or {}).items()}
        by_namespace = {k.lower(): Kind(v) for k, v in (kinds.get("namespaces") or {}).items()}
    except ValueError as error:
        raise TableError(f"services.yaml: kinds: {error}") from None
    return AzureTable(
        clients=clients,
        subscriptions_list=_call("subscriptions", tenant["subscriptions"], "list", clients),
        subscriptions_get=_call("subscriptions", tenant["subscriptions"], "get", clients),
        data_boundary=_call("data_boundary", tenant["data_boundary"], "get", clients),
        inventory=tuple(
            _call(name, entry, "list", clients) for name, entry in data["inventory"].items()
        ),
        services=services,
        kinds_by_type=by_type,
        kinds_by_namespace=by_namespace,
    )


@cache
def azure_table() -> AzureTable:
    """The table shipped in the package, loaded once."""
    text = (
        package_files.files("hds_audit.collectors.azure")
        .joinpath("data/services.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_table(yaml.safe_load(text))
