"""The Scaleway services table (``data/services.yaml``) and the IAM policy generated from it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from hds_audit.datafile import package_yaml
from hds_audit.model import Kind


@dataclass(frozen=True, slots=True)
class ListCall:
    """One SDK list method: where it runs, what it returns and the permission set it needs."""

    name: str
    api: str
    call: str
    http: str
    locality: str  # zone, region or organization
    items: str
    permission_set: str
    project_param: str | None = None
    page_size_param: str = "page_size"
    type: str | None = None
    kind: Kind = Kind.OTHER
    normaliser: str | None = None
    feeds: str | None = None
    skip: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    params: Mapping[str, object] = field(default_factory=dict)

    def path(self, locality: str, item_id: str) -> str:
        """The resource's API path: the list path of its zone or region, then its id."""
        return self.http.split(" ", 1)[1].format(zone=locality, region=locality) + f"/{item_id}"


@dataclass(frozen=True, slots=True)
class Buckets:
    """Object Storage through the S3-compatible endpoint of each region."""

    endpoint: str
    type: str
    kind: Kind
    operations: frozenset[str]
    absent_encryption: frozenset[str]
    permission_set: str


@dataclass(frozen=True, slots=True)
class ScalewayTable:
    """What the collector reads: SDK classes, the discovery call, list calls, buckets."""

    apis: Mapping[str, tuple[str, str]]
    page_size: int
    discovery: ListCall
    services: Mapping[str, ListCall]
    buckets: Buckets
    rdb_key: str
    retry: Mapping[str, float] = field(default_factory=dict)

    def methods(self, api: str) -> frozenset[str]:
        """The SDK methods of ``api`` the guard lets through."""
        calls = [*self.services.values(), self.discovery]
        return frozenset(c.call for c in calls if c.api == api)

    def by_locality(self, locality: str) -> list[ListCall]:
        return [s for s in self.services.values() if s.locality == locality]

    @property
    def project_sets(self) -> tuple[str, ...]:
        """Permission sets scoped by project, sorted."""
        sets = {s.permission_set for s in self.services.values()} | {self.buckets.permission_set}
        return tuple(sorted(sets))


def _call(name: str, entry: Mapping[str, object]) -> ListCall:
    kind = entry.get("kind")
    skip = entry.get("skip") or {}
    params = entry.get("params") or {}
    assert isinstance(skip, Mapping) and isinstance(params, Mapping)
    return ListCall(
        name=name,
        api=str(entry["api"]),
        call=str(entry["call"]),
        http=str(entry["http"]),
        locality=str(entry.get("locality") or entry.get("scope") or "organization"),
        items=str(entry["items"]),
        permission_set=str(entry["permission_set"]),
        project_param=str(entry["project_param"]) if entry.get("project_param") else None,
        page_size_param=str(entry.get("page_size_param") or "page_size"),
        type=str(entry["type"]) if entry.get("type") else None,
        kind=Kind(str(kind)) if kind else Kind.OTHER,
        normaliser=str(entry["normaliser"]) if entry.get("normaliser") else None,
        feeds=str(entry["feeds"]) if entry.get("feeds") else None,
        skip={str(k): tuple(map(str, v)) for k, v in skip.items()},
        params=dict(params),
    )


@cache
def scaleway_table() -> ScalewayTable:
    """Load ``data/services.yaml`` once."""
    data = package_yaml("hds_audit.collectors.scaleway", "data/services.yaml")
    buckets = data["buckets"]
    encryption = data.get("encryption") or {}
    return ScalewayTable(
        apis={name: (str(e["module"]), str(e["class"])) for name, e in data["apis"].items()},
        page_size=int(data.get("page_size") or 100),
        discovery=_call("discovery", data["discovery"]),
        services={name: _call(name, entry) for name, entry in data["services"].items()},
        buckets=Buckets(
            endpoint=str(buckets["endpoint"]),
            type=str(buckets["type"]),
            kind=Kind(str(buckets["kind"])),
            operations=frozenset(buckets["operations"]),
            absent_encryption=frozenset(buckets.get("absent_encryption") or ()),
            permission_set=str(buckets["permission_set"]),
        ),
        rdb_key=f"{encryption.get('rdb_key')}; {encryption.get('rdb_source')}",
        retry={str(k): float(v) for k, v in (data.get("retry") or {}).items()},
    )


def iam_policy_json(organization_id: str | None = None) -> str:
    """A Scaleway IAM policy (the body of ``POST /iam/v1alpha1/policies``) granting exactly
    the read-only permission sets of the table: project-scoped sets on every project of the
    organisation, ``ProjectReadOnly`` on the organisation to list its projects."""
    table = scaleway_table()
    organization = organization_id or "YOUR-ORGANIZATION-ID"
    policy = {
        "name": "hds-audit-reader",
        "description": (
            "Read-only: what `hds-audit scan --scaleway` calls (generated from the services "
            "table). Attach it to the IAM application whose API key hds-audit uses."
        ),
        "organization_id": organization,
        "application_id": "YOUR-IAM-APPLICATION-ID",
        "rules": [
            {
                "permission_set_names": [table.discovery.permission_set],
                "organization_id": organization,
            },
            {"permission_set_names": list(table.project_sets), "organization_id": organization},
        ],
    }
    return json.dumps(policy, indent=2)
