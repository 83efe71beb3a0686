"""Evaluate policies on resources: pure, one finding per (policy, resource in its scope)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hds_audit.engine.paths import AreaJudge
from hds_audit.engine.policies import Policy
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import CollectionError, Finding, Kind, Resource, Source, SourceKind, Status


def _reason(reasons: list[str]) -> str | None:
    return "; ".join(dict.fromkeys(reasons)) or None


def evaluate(
    policies: Sequence[Policy], resources: Iterable[Resource], area: AllowedArea
) -> list[Finding]:
    """Judge every resource with every policy whose scope covers it."""
    judge = AreaJudge(area)
    findings: list[Finding] = []
    append = findings.append
    for resource in resources:
        for policy in policies:
            scope = policy.scope
            if not scope.covers(resource.kind, resource.provider):
                continue
            if scope.when is not None:
                status, evidence, reasons = scope.when(resource, judge)
                if status is Status.FAIL:
                    append(
                        Finding(
                            policy.meta,
                            resource,
                            Status.NOT_APPLICABLE,
                            tuple(evidence),
                            scope.when_text or "outside the policy's scope",
                        )
                    )
                    continue
            status, evidence, reasons = policy.condition(resource, judge)
            append(Finding(policy.meta, resource, status, tuple(evidence), _reason(reasons)))
    return findings


def scope_placeholder(error: CollectionError, geo: GeoTables) -> Resource:
    """A stand-in resource for what a collection error hid, so its findings are visible.

    A collector may name the provider and source kind in ``error.details`` (``provider``,
    ``source_kind``: the Azure collector does); otherwise they are unknown / Terraform.
    """
    provider = str(error.details.get("provider") or "unknown")
    source_kind = SourceKind(error.details.get("source_kind") or SourceKind.TERRAFORM_STATE.value)
    return Resource(
        id=error.scope,
        provider=provider,
        type="unreadable_scope",
        kind=Kind.OTHER,
        location=geo.locate(provider, None),
        source=Source(kind=source_kind, file=error.source),
    )


def unknown_for_errors(
    policies: Sequence[Policy], errors: Iterable[CollectionError], geo: GeoTables
) -> list[Finding]:
    """One ``unknown`` finding per policy for each scope a collection error hid."""
    findings: list[Finding] = []
    for error in errors:
        placeholder = scope_placeholder(error, geo)
        for policy in policies:
            findings.append(
                Finding(
                    policy.meta,
                    placeholder,
                    Status.UNKNOWN,
                    (),
                    f"not audited: {error.message}",
                )
            )
    return findings
