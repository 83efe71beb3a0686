"""Evaluate policies on resources: pure, one finding per (policy, resource in its scope)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from hds_audit.engine.conditions import Condition, Outcome
from hds_audit.engine.paths import EvaluationContext
from hds_audit.engine.policies import Policy
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import (
    CollectionError,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Source,
    SourceKind,
    Status,
)
from hds_audit.providers.facts import HostFacts
from hds_audit.providers.registry import Registry

_OUTSIDE_SCOPE = Msg("finding.outside_scope")
# Verdicts of a host-only policy, per (provider, region, kind).
_Memo = dict[tuple[str, str | None, Kind], Outcome]
_Step = tuple[
    PolicyMeta,
    frozenset[Kind] | None,
    frozenset[str] | None,
    bool,
    frozenset[str] | None,
    Condition | None,
    str | None,
    Condition,
    _Memo | None,
]


def evaluate(
    policies: Sequence[Policy],
    resources: Iterable[Resource],
    area: AllowedArea,
    *,
    registry: Registry | None = None,
    audit_date: date | None = None,
) -> list[Finding]:
    """Judge every resource with every policy whose scope covers it.

    ``registry`` (default: the built-in certified-host registry) and ``audit_date`` (default:
    today, UTC) are what the ``host.*`` paths judge certificates against.
    """
    ctx = EvaluationContext(area, HostFacts(registry, audit_date))
    findings: list[Finding] = []
    append = findings.append
    plan: list[_Step] = [
        (
            p.meta,
            p.scope.kinds,
            p.scope.providers,
            p.scope.stores_data,
            p.scope.types,
            p.scope.when,
            p.scope.when_text,
            p.condition,
            {} if p.host_only else None,  # verdicts memoised per (provider, region, kind)
        )
        for p in policies
    ]
    for resource in resources:
        kind, provider = resource.kind, resource.provider
        for meta, kinds, providers, needs_data, types, when, when_text, condition, memo in plan:
            if (
                (kinds is not None and kind not in kinds)
                or (types is not None and resource.type not in types)
                or (providers is not None and provider not in providers)
                or (needs_data and not resource.stores_data)
            ):
                continue
            if memo is not None:
                key = (provider, resource.location.region, kind)
                verdict = memo.get(key)
                if verdict is None:
                    verdict = memo[key] = _judge(resource, ctx, when, when_text, condition)
                append(Finding(meta, resource, *verdict))
                continue
            if when is not None:
                status, evidence, _ = when(resource, ctx)
                if status is Status.FAIL:
                    reason = when_text or _OUTSIDE_SCOPE
                    append(Finding(meta, resource, Status.NOT_APPLICABLE, evidence, reason))
                    continue
            append(Finding(meta, resource, *condition(resource, ctx)))
    return findings


def _judge(
    resource: Resource,
    ctx: EvaluationContext,
    when: Condition | None,
    when_text: str | None,
    condition: Condition,
) -> Outcome:
    if when is not None:
        status, evidence, _ = when(resource, ctx)
        if status is Status.FAIL:
            return Status.NOT_APPLICABLE, evidence, when_text or _OUTSIDE_SCOPE
    return condition(resource, ctx)


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
                    Msg("finding.not_audited", error=error.message),
                )
            )
    return findings
