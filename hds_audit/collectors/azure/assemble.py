"""From task results to a subscription's resources and errors, in the calling process.

What spans services is done here, once every task of a subscription is back: inventory
entries no service detailed become generic resources (with why their details are missing),
errors are shaped per subscription, and copy targets are located among all resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from hds_audit.collectors.azure.failures import ERROR_DETAILS, Failure, azure_error
from hds_audit.collectors.azure.normalise import Context, generic
from hds_audit.collectors.azure.table import AzureTable
from hds_audit.collectors.azure.tasks import Listed, ServiceResult, Subscription
from hds_audit.geo import GeoTables, Location
from hds_audit.model import CollectionError, Resource, Source, SourceKind

_NOT_READ = Failure("internal", "not read")


@dataclass(slots=True)
class Results:
    """What came back, keyed by (subscription, inventory call or service name)."""

    listed: dict[tuple[str, str], Listed] = field(default_factory=dict)
    services: dict[tuple[str, str], ServiceResult] = field(default_factory=dict)
    boundary: Listed | None = None


def assemble(
    sub: Subscription, table: AzureTable, geo: GeoTables, results: Results
) -> tuple[list[Resource], list[CollectionError]]:
    """The resources of a subscription, sorted by id, and its errors (detail errors apart)."""
    source = Source(kind=SourceKind.AZURE_API, account=sub.id)
    detailed: dict[str, Resource] = {}
    covered: dict[str, str] = {}
    errors: list[CollectionError] = []
    label = f"azure:{sub.id}"
    for service in table.services:
        for arm_type in service.types:
            covered[arm_type.lower()] = service.name
        done = results.services.get((sub.id, service.name))
        if done is None or done.failure is not None:
            errors.append(
                azure_error(
                    label,
                    f"azure:{sub.id}/{service.namespace}",
                    done.failure if done is not None and done.failure else _NOT_READ,
                    subscription=sub.id,
                    service=service.name,
                )
            )
            continue
        for resource in done.resources:
            detailed.setdefault(resource.id.lower(), resource)
    ctx = Context(geo, source, table)
    out = list(detailed.values())
    for call in table.inventory:
        listed = results.listed.get((sub.id, call.name))
        if listed is None or listed.items is None:
            errors.append(
                azure_error(
                    label,
                    f"azure:{sub.id}/Microsoft.Resources/{call.name}",
                    listed.failure if listed is not None and listed.failure else _NOT_READ,
                    subscription=sub.id,
                    service=call.name,
                )
            )
            continue
        for item in listed.items:
            item_id = str(item.get("id") or "").lower()
            if item_id in detailed:
                continue
            covering = covered.get(str(item.get("type") or "").lower())
            why = None
            if covering is not None:
                why = _missing_reason(results.services.get((sub.id, covering)), covering, item_id)
            out.append(generic(ctx, item, why))
    return sorted(out, key=lambda r: r.id.lower()), collapse(sub, errors)


def _missing_reason(done: ServiceResult | None, service: str, item_id: str) -> str:
    """Why an inventory entry of a covered type has no detailed record."""
    if done is not None and done.failure is not None:
        return f"details not readable: {done.failure.message}"
    for parent, failure in done.unreadable if done is not None else ():
        if item_id.startswith(parent + "/"):
            return f"details not readable: {failure}"
    return f"not returned by the {service} listing (created or deleted during the scan?)"


def collapse(sub: Subscription, errors: list[CollectionError]) -> list[CollectionError]:
    """A subscription that refused every call is one error on the subscription's scope."""
    if errors and all(e.kind == "access_denied" for e in errors):
        inventory_denied = any(e.details.get("service") == "resources" for e in errors)
        if inventory_denied:
            first = errors[0]
            return [
                replace(
                    first,
                    scope=f"azure:{sub.id}",
                    message=f"subscription {sub.label}: {first.message}",
                    details={**ERROR_DETAILS, "subscription": sub.id},
                )
            ]
    return errors


def merge(errors: Iterable[CollectionError]) -> list[CollectionError]:
    """One error per scope (disks, snapshots and disk encryption sets share Microsoft.Compute)."""
    merged: dict[str, CollectionError] = {}
    services: dict[str, list[str]] = {}
    for error in errors:
        service = error.details.get("service")
        if error.scope not in merged:
            merged[error.scope] = error
            services[error.scope] = []
        if service:
            services[error.scope].append(str(service))
    out = []
    for scope, error in merged.items():
        names = services[scope]
        if len(names) > 1:
            error = replace(error, message=f"{error.message} (calls: {', '.join(names)})")
        out.append(error)
    return out


def resolve_targets(resources: list[Resource], geo: GeoTables) -> list[Resource]:
    """Give a located target (object replication destination, read replica) its location."""
    where: dict[str, Location] = {}
    for resource in resources:
        where[resource.id.lower()] = resource.location
        if resource.type.lower() == "microsoft.storage/storageaccounts" and resource.name:
            where.setdefault(resource.name.lower(), resource.location)
    out: list[Resource] = []
    for resource in resources:
        replicas = resource.replicas
        if not replicas or all(r.location.region is not None or not r.target for r in replicas):
            out.append(resource)
            continue
        fixed = []
        missing: list[str] = []
        for replica in replicas:
            if replica.location.region is None and replica.target:
                location = where.get(replica.target.lower())
                if location is not None:
                    replica = replace(replica, location=location)
                else:
                    missing.append(str(replica.target))
            fixed.append(replica)
        unknowns = dict(resource.unknowns)
        if missing:
            unknowns["replicas"] = (
                f"copy target {', '.join(missing)} is not among the audited resources: "
                "its location is unknown"
            )
        out.append(replace(resource, replicas=tuple(fixed), unknowns=unknowns))
    return out
