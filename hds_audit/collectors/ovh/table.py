"""The OVHcloud API calls the live collector makes, as data (``data/services.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from hds_audit.datafile import package_yaml
from hds_audit.model import Kind


@dataclass(frozen=True, slots=True)
class Service:
    """One listing read per project (or per project and region)."""

    name: str
    path: str
    type: str
    kind: Kind
    id: str
    region: str | None = None
    per_region: bool = False
    encryption_field: str | None = None
    encrypted_values: frozenset[str] = frozenset()
    at_rest_unknown: str | None = None  # a message catalogue key
    backups: str | None = None
    detail: str | None = None  # the listing returns ids: each object is read here ({id})


@dataclass(frozen=True, slots=True)
class OvhTable:
    projects: str
    regions: str
    services: tuple[Service, ...]
    account_services: tuple[Service, ...] = ()

    def access_rules(self) -> list[dict[str, str]]:
        """The narrowest OVH API access rules the collector needs: GET on each path it reads
        (``*`` for a project, region or id), as ``POST /auth/credential`` takes them."""
        paths = [self.projects, self.regions]
        for service in (*self.services, *self.account_services):
            paths.extend(p for p in (service.path, service.detail) if p)
        return [
            {"method": "GET", "path": re.sub(r"\{(project|region|id)\}", "*", p)} for p in paths
        ]


def access_rules_json() -> str:
    """The body of ``POST /auth/credential`` that creates a consumer key for ``scan --ovh``."""
    import json

    return json.dumps({"accessRules": ovh_table().access_rules()}, indent=2)


def _service(entry: dict[str, Any]) -> Service:
    encryption = entry.get("encryption") or {}
    return Service(
        name=str(entry["name"]),
        path=str(entry["path"]),
        type=str(entry["type"]),
        kind=Kind(entry["kind"]),
        id=str(entry["id"]),
        region=entry.get("region"),
        per_region=bool(entry.get("per_region", False)),
        encryption_field=encryption.get("field"),
        encrypted_values=frozenset(str(v).lower() for v in encryption.get("when") or ()),
        at_rest_unknown=entry.get("at_rest_unknown"),
        backups=entry.get("backups"),
        detail=entry.get("detail"),
    )


@cache
def ovh_table() -> OvhTable:
    """Load ``data/services.yaml`` once."""
    data = package_yaml("hds_audit.collectors.ovh", "data/services.yaml")
    return OvhTable(
        projects=str(data["projects"]),
        regions=str(data["regions"]),
        services=tuple(_service(e) for e in data["services"]),
        account_services=tuple(_service(e) for e in data.get("account_services") or ()),
    )
