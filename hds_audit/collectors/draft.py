"""A resource being assembled by an API collector, before it is frozen into a Resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hds_audit.geo import Location
from hds_audit.model import (
    EMPTY_MAPPING,
    REPLICA_KINDS,
    Encryption,
    Kind,
    Replica,
    Resource,
    Source,
)
from hds_audit.secrets import redact


@dataclass(slots=True)
class ResourceDraft:
    """Mutable while a normaliser fills it in; :meth:`resource` freezes it.

    ``replicas`` becomes ``None`` (unknown, with the reason in ``unknowns``) when the copies
    could not be established; an empty list means none were found.
    """

    id: str
    type: str
    kind: Kind
    location: Location
    name: str | None = None
    encryption: Encryption | None = None
    replicas: list[Replica] | None = field(default_factory=list)
    unknowns: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add_replica(self, kind: str, location: Location, target: str | None = None) -> None:
        assert kind in REPLICA_KINDS, f"replica kind {kind!r} is not in model.REPLICA_KINDS"
        if self.replicas is not None:
            self.replicas.append(Replica(kind=kind, location=location, target=target))

    def replicas_unknown(self, reason: str) -> None:
        self.replicas = None
        self.unknowns["replicas"] = reason

    def resource(self, provider: str, source: Source) -> Resource:
        """The frozen resource; its raw attributes go through the same secret redaction as
        Terraform's (an API can return a connection string or a script too)."""
        return Resource(
            id=self.id,
            provider=provider,
            type=self.type,
            kind=self.kind,
            location=self.location,
            source=source,
            encryption=self.encryption,
            replicas=tuple(self.replicas) if self.replicas is not None else None,
            name=self.name,
            attributes=redact(self.attributes, self.type),
            unknowns=self.unknowns or EMPTY_MAPPING,
            notes=self.notes or EMPTY_MAPPING,
        )
