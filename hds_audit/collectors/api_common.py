"""Small pieces the API collectors (OVHcloud, Outscale, Google Cloud, Scaleway) share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.failure import Failure
from hds_audit.i18n import Msg
from hds_audit.model import CollectionError, Resource, SourceKind


def api_error(
    provider: str, scope: str, failure: Failure, kind: SourceKind, **extra: Any
) -> CollectionError:
    """A collection error on ``provider:scope`` (a project, a region): its findings become
    ``unknown``; ``extra`` adds to its details (the service that failed)."""
    return CollectionError(
        source=f"{provider}:{scope}",
        scope=f"{provider}:{scope}",
        message=failure.message,
        kind=failure.kind,
        details={"provider": provider, "source_kind": kind.value, **extra},
    )


def add_scope(
    result: Collection,
    label: str,
    kind: SourceKind,
    resources: Sequence[Resource],
    notes: list[str],
    identity: str | None = None,
) -> None:
    """The resources of one scope read (a project, a region) and the source the report lists
    for it; a scope that could not be read is listed with no resources."""
    result.resources.extend(resources)
    result.sources.append(
        CollectedSource(label, kind.value, len(resources), notes=notes, identity=identity)
    )


def field_at(value: Any, path: str | None) -> Any:
    """The value at a dotted path of an API object (``nodes.0.region``), or None."""
    for part in path.split(".") if path else ():
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def encryption_unread(draft: ResourceDraft, reason: str) -> None:
    """Encryption at rest cannot be read from this API object: say why."""
    draft.unknowns["encryption.at_rest"] = reason
    draft.unknowns["encryption.key_owner"] = Msg("collect.sovereign.at_rest_unknown")
