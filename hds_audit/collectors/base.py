"""What every collector returns: normalised resources, collection errors, the sources read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hds_audit.geo import GeoTables
from hds_audit.model import CollectedSource, CollectionError, Finding, PolicyMeta, Resource

# CollectedSource lives in hds_audit.model (the report model reads it without collectors);
# re-exported here for the collectors and for compatibility.
__all__ = ["CollectedSource", "Collection", "Collector"]


@dataclass(slots=True)
class Collection:
    """What a collector returns: resources, errors, and the sources it read."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    sources: list[CollectedSource] = field(default_factory=list)
    # Verdicts a collector brings already judged (Checkov's), with the policies they cite.
    findings: list[Finding] = field(default_factory=list)
    policies: list[PolicyMeta] = field(default_factory=list)

    def extend(self, other: Collection) -> None:
        self.resources.extend(other.resources)
        self.errors.extend(other.errors)
        self.sources.extend(other.sources)
        self.findings.extend(other.findings)
        self.policies.extend(other.policies)


class Collector(Protocol):
    """A source of resources: Terraform files, an AWS organisation, Azure subscriptions.

    ``collect`` never raises for what it could not read: it returns the failure as
    :class:`CollectionError` entries, and the pipeline turns them into ``unknown`` findings.
    """

    @property
    def name(self) -> str: ...

    def collect(self, geo: GeoTables) -> Collection: ...
