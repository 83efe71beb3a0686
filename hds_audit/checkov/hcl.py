"""Checkov's HCL resource configuration -> the :class:`TfInstance` our normaliser reads.

Checkov wraps every HCL value in a one-element list (``{"encrypted": [True]}``) and leaves
references as text (``"aws_kms_key.health.arn"``, ``"${var.key}"``). This module undoes the
wrapping once, at the border: a reference becomes an unknown value whose ``references`` name
what it points at, exactly as a plan's ``after_unknown`` + ``configuration`` would say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hds_audit.collectors.terraform.documents import TfInstance

# A bare HCL reference as Checkov leaves it unresolved (aws_kms_key.k.arn, var.x, module.m.o):
# the first name is a resource type (provider_type) or one of HCL's reference roots, so
# literals with dots (db.t3.micro, my.bucket.name) stay literals.
_REFERENCE = re.compile(
    r"^(?:data\.)?(?:module\.[A-Za-z_][\w-]*|var|local|each|count|self|path|[a-z][a-z0-9]*_[a-z0-9_]+)"
    r"\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[\w*\[\]\"-]+)*$"
)
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_META = ("__start_line__", "__end_line__", "__address__", "__provider_address__")


def _references_in(value: str) -> tuple[str, ...] | None:
    """The references a string holds, or ``None`` when it is a literal."""
    inner = _INTERPOLATION.findall(value)
    if inner:
        return tuple(part.strip() for part in inner)
    if _REFERENCE.match(value):
        return (value,)
    return None


def _unwrap(value: Any) -> Any:
    """One attribute's value without Checkov's list wrapping (blocks stay lists of dicts)."""
    if isinstance(value, list):
        if len(value) == 1 and not isinstance(value[0], dict):
            return _unwrap(value[0])
        return [_unwrap(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _unwrap(v) for k, v in value.items()}
    return value


def _collect_unknowns(
    value: Any, path: str, unknown: set[str], references: dict[str, list[str]]
) -> Any:
    """Replace unresolved references by ``None``, recording their paths as unknown."""
    if isinstance(value, str):
        refs = _references_in(value)
        if refs is None:
            return value
        unknown.add(path)
        references.setdefault(path.split(".", 1)[0], []).extend(refs)
        return None
    if isinstance(value, list):
        return [
            _collect_unknowns(item, f"{path}.{i}", unknown, references)
            for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            k: _collect_unknowns(v, f"{path}.{k}", unknown, references) for k, v in value.items()
        }
    return value


def provider_key(conf: Mapping[str, Any], resource_type: str) -> str:
    """``aws`` or ``aws.alias``: the provider configuration a resource uses."""
    address = conf.get("__provider_address__")
    short = resource_type.split("_", 1)[0]
    if isinstance(address, str) and address:
        local = address.rsplit("module.", 1)[-1].split(".", 2)
        if len(local) >= 2 and local[1] != "default":
            return f"{short}.{local[1]}"
    return short


def instance_from_conf(
    resource_type: str,
    conf: Mapping[str, Any],
    provider_regions: Mapping[str, str] | None = None,
) -> TfInstance:
    """The :class:`TfInstance` for one Checkov resource configuration.

    ``provider_regions`` maps a provider address (``aws``, ``aws.us``) to the region its
    ``provider`` block sets; the resource's own region attributes win, as in Terraform.
    """
    address = str(conf.get("__address__") or resource_type)
    unknown: set[str] = set()
    references: dict[str, list[str]] = {}
    attributes: dict[str, Any] = {}
    for key, raw in conf.items():
        if key in _META or key in ("provider", "count", "for_each", "depends_on", "lifecycle"):
            continue
        attributes[key] = _collect_unknowns(_unwrap(raw), key, unknown, references)
    short = resource_type.split("_", 1)[0]
    key = provider_key(conf, resource_type)
    module = address.rsplit(".", 2)[0] if address.startswith("module.") else ""
    region = (provider_regions or {}).get(key)
    return TfInstance(
        address=address,
        mode="managed",
        type=resource_type,
        name=address.rsplit(".", 1)[-1],
        module=module,
        provider=short,
        provider_key=key,
        attributes=attributes,
        unknown=frozenset(unknown),
        references={k: tuple(v) for k, v in references.items()},
        configured=frozenset(attributes),
        provider_region=region,
    )
