"""The Google Cloud services table (``data/services.yaml``) and the role generated from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from hds_audit.datafile import package_yaml
from hds_audit.model import Kind


@dataclass(frozen=True, slots=True)
class Call:
    """One client method the collector may call, and the IAM permissions it needs."""

    name: str
    http: str
    permissions: tuple[str, ...]
    page_size: int | None = None
    read_mask: tuple[str, ...] = ()
    retry: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssetType:
    """A Cloud Asset Inventory type: its kind and the Terraform type of the same resource."""

    kind: Kind
    terraform: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class GcpTable:
    """What the collector reads: its client, allowed calls, discovery types and asset kinds."""

    client_module: str
    client_class: str
    calls: Mapping[str, Call]
    discovery_types: tuple[str, ...]
    asset_types: Mapping[str, AssetType]
    default_key_id: str

    def kind(self, asset_type: str) -> Kind:
        entry = self.asset_types.get(asset_type)
        return entry.kind if entry is not None else Kind.OTHER

    def details(self, asset_type: str) -> str | None:
        """The rule that reads the versioned resource of ``asset_type``, if any."""
        entry = self.asset_types.get(asset_type)
        return entry.details if entry is not None else None

    @property
    def permissions(self) -> tuple[str, ...]:
        """Every IAM permission of every call, sorted (the custom role)."""
        return tuple(sorted({p for call in self.calls.values() for p in call.permissions}))


@cache
def gcp_table() -> GcpTable:
    """Load ``data/services.yaml`` once."""
    data = package_yaml("hds_audit.collectors.gcp", "data/services.yaml")
    calls = {
        name: Call(
            name=name,
            http=str(entry["http"]),
            permissions=tuple(entry.get("permissions") or ()),
            page_size=entry.get("page_size"),
            read_mask=tuple(entry.get("read_mask") or ()),
            retry=dict(entry.get("retry") or {}),
        )
        for name, entry in (data.get("calls") or {}).items()
    }
    asset_types = {
        name: AssetType(
            Kind(entry.get("kind", "other")), entry.get("terraform"), entry.get("details")
        )
        for name, entry in (data.get("asset_types") or {}).items()
    }
    default = data.get("default_encryption") or {}
    key_id = str(default.get("key_id") or "Google default encryption")
    if default.get("source"):
        key_id += f"; {default['source']}"
    return GcpTable(
        client_module=str(data["client"]["module"]),
        client_class=str(data["client"]["class"]),
        calls=calls,
        discovery_types=tuple((data.get("discovery") or {}).get("asset_types") or ()),
        asset_types=asset_types,
        default_key_id=key_id,
    )


def custom_role_yaml(role_id: str = "hdsAuditReader") -> str:
    """A custom role definition for ``gcloud iam roles create --file``: exactly the
    permissions of the calls in the table."""
    role = {
        "title": "hds-audit reader",
        "description": (
            "Read-only: what `hds-audit scan --gcp` calls (generated from the services table). "
            f"Grant role {role_id} on each organisation, folder or project to audit."
        ),
        "stage": "GA",
        "includedPermissions": list(gcp_table().permissions),
    }
    return yaml.safe_dump(role, sort_keys=False, allow_unicode=True)
