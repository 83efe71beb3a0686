"""The service table (``data/services.yaml``): what the AWS collector calls, as data.

Loaded and validated once. :func:`iam_policy` turns it into the least-privilege read-only IAM
policy, and :func:`declared_operations` is what the read-only guard and the tests check every
call against.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from typing import Any

import yaml

_READ_PREFIXES = ("List", "Describe", "Get")
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


class TableError(ValueError):
    """``services.yaml`` is malformed (a programming error, caught by the test suite)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: its operation, parameters (templates), and where its result is."""

    key: str
    operation: str
    params: Mapping[str, Any]
    path: str | None = None
    absent: tuple[str, ...] = ()
    optional: bool = False
    when: Mapping[str, Any] | None = None
    cached: str | None = None
    of: str | None = None
    feeds: tuple[str, ...] = ()


FEEDS = frozenset({"encryption", "replicas", "attributes"})


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service task, run once per (account, region)."""

    name: str
    client: str
    context: tuple[Call, ...]
    lists: tuple[Call, ...]
    details: tuple[Call, ...]
    normaliser: str
    extra: tuple[str, ...]
    actions: tuple[str, ...]

    def operations(self) -> set[str]:
        calls = (*self.context, *self.lists, *self.details)
        return {c.operation for c in calls} | set(self.extra)


@dataclass(frozen=True, slots=True)
class SessionCall:
    client: str
    operation: str
    action: str
    sid: str = "HdsAuditReadOnly"
    resource: str = "*"


@dataclass(frozen=True, slots=True)
class ServiceTable:
    services: Mapping[str, ServiceSpec]
    session_calls: tuple[SessionCall, ...]
    read_only_exceptions: frozenset[str]
    inventory_types: Mapping[str, str]

    def declared(self) -> set[tuple[str, str]]:
        """Every (client, operation) the collector may call."""
        pairs = {(c.client, c.operation) for c in self.session_calls}
        for spec in self.services.values():
            pairs.update((spec.client, op) for op in spec.operations())
        return pairs

    def statements(self) -> dict[tuple[str, str], list[str]]:
        """IAM actions grouped by (statement id, resource)."""
        grouped: dict[tuple[str, str], set[str]] = {("HdsAuditReadOnly", "*"): set()}
        for call in self.session_calls:
            grouped.setdefault((call.sid, call.resource), set()).add(call.action)
        for spec in self.services.values():
            grouped[("HdsAuditReadOnly", "*")].update(spec.actions)
        return {key: sorted(actions) for key, actions in grouped.items()}

    def actions(self) -> list[str]:
        return sorted({a for actions in self.statements().values() for a in actions})

    def is_read_only(self, operation: str) -> bool:
        return operation.startswith(_READ_PREFIXES) or operation in self.read_only_exceptions


def _call(raw: Any, where: str) -> Call:
    if not isinstance(raw, dict) or not isinstance(raw.get("operation"), str):
        raise TableError(f"{where}: a call needs an 'operation'")
    unknown = set(raw) - {
        "key",
        "operation",
        "params",
        "path",
        "absent",
        "optional",
        "when",
        "cached",
        "of",
        "feeds",
    }
    if unknown:
        raise TableError(f"{where}: unknown field(s) {sorted(unknown)}")
    return Call(
        key=str(raw.get("key") or raw["operation"]),
        operation=raw["operation"],
        params=dict(raw.get("params") or {}),
        path=raw.get("path"),
        absent=tuple(raw.get("absent") or ()),
        optional=bool(raw.get("optional", False)),
        when=raw.get("when"),
        cached=raw.get("cached"),
        of=raw.get("of"),
        feeds=tuple(raw.get("feeds") or ()),
    )


def parse_table(data: Any) -> ServiceTable:
    """Validate the YAML document and build the table."""
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise TableError("services.yaml: needs a 'services' mapping")
    services: dict[str, ServiceSpec] = {}
    for name, raw in data["services"].items():
        where = f"services.{name}"
        if not isinstance(raw, dict):
            raise TableError(f"{where}: must be a mapping")
        lists = tuple(_call(c, f"{where}.lists") for c in raw.get("lists") or ())
        if not lists:
            raise TableError(f"{where}: needs at least one list call")
        details = tuple(_call(c, f"{where}.details") for c in raw.get("details") or ())
        list_keys = {c.key for c in lists}
        for detail in details:
            if detail.of is not None and detail.of not in list_keys:
                raise TableError(f"{where}: detail {detail.key} is 'of' an unknown list")
            if not detail.feeds or not set(detail.feeds) <= FEEDS:
                known = ", ".join(sorted(FEEDS))
                raise TableError(f"{where}: detail {detail.key} must say what it feeds ({known})")
        actions = tuple(raw.get("actions") or ())
        if not actions or not all(re.fullmatch(r"[a-z0-9-]+:\w+", a) for a in actions):
            raise TableError(f"{where}: 'actions' must list IAM actions (service:Action)")
        services[name] = ServiceSpec(
            name=name,
            client=str(raw["client"]),
            context=tuple(_call(c, f"{where}.context") for c in raw.get("context") or ()),
            lists=lists,
            details=details,
            normaliser=str(raw["normaliser"]),
            extra=tuple(raw.get("extra") or ()),
            actions=actions,
        )
    session = data.get("session") or {}
    session_calls = tuple(
        SessionCall(
            str(c["client"]),
            str(c["operation"]),
            str(c["action"]),
            str(c.get("sid") or "HdsAuditReadOnly"),
            str(c.get("resource") or "*"),
        )
        for c in session.get("calls") or ()
    )
    table = ServiceTable(
        services=services,
        session_calls=session_calls,
        read_only_exceptions=frozenset(data.get("read_only_exceptions") or ()),
        inventory_types=dict(data.get("inventory_types") or {}),
    )
    for client, operation in table.declared():
        if not table.is_read_only(operation):
            raise TableError(f"{client}.{operation}: not a read-only operation")
    return table


@cache
def service_table() -> ServiceTable:
    """Load ``data/services.yaml`` once."""
    text = (
        package_files.files("hds_audit.collectors.aws")
        .joinpath("data/services.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_table(yaml.safe_load(text))


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Fill ``{region}``, ``{account}``, ``{item}`` and ``{item.Field}`` in a parameter."""
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value)
    if whole:
        return _lookup(whole.group(1), variables)
    return _TEMPLATE.sub(lambda m: str(_lookup(m.group(1), variables)), value)


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    head, _, rest = name.partition(".")
    value = variables[head]
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def iam_policy(table: ServiceTable | None = None) -> dict[str, Any]:
    """The least-privilege, read-only IAM policy a scan needs, generated from the table."""
    table = table or service_table()
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
            for (sid, resource), actions in table.statements().items()
        ],
    }


def iam_policy_json(table: ServiceTable | None = None) -> str:
    return json.dumps(iam_policy(table), indent=2)
