"""What every collector returns: normalised resources, collection errors, the sources read."""

from __future__ import annotations

from dataclasses import dataclass, field

from hds_audit.model import CollectionError, Resource


@dataclass(slots=True)
class CollectedSource:
    """One input as the report lists it."""

    path: str
    kind: str
    resources: int
    terraform_version: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Collection:
    """What a collector returns: resources, errors, and the sources it read."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    sources: list[CollectedSource] = field(default_factory=list)

    def extend(self, other: Collection) -> None:
        self.resources.extend(other.resources)
        self.errors.extend(other.errors)
        self.sources.extend(other.sources)
