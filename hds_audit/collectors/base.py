"""What every collector returns: normalised resources, collection errors, the sources read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hds_audit.geo import GeoTables
from hds_audit.model import CollectionError, Finding, PolicyMeta, Resource


@dataclass(slots=True)
class CollectedSource:
    """One input as the report lists it."""

    path: str
    kind: str
    resources: int
    terraform_version: str | None = None
    notes: list[str] = field(default_factory=list)
    # A file: the size and sha256 of the bytes read (the state pulled, for a backend).
    size: int | None = None
    sha256: str | None = None
    # A live source: the identity that read it (ARN, object id; never a secret), the regions.
    identity: str | None = None
    regions: list[str] | None = None


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
