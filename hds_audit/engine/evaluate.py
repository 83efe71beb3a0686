"""Evaluate policies on resources: pure, one finding per (policy, resource in its scope)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from hds_audit.engine.conditions import Condition, Outcome
from hds_audit.engine.paths import EvaluationContext
from hds_audit.engine.policies import Policy
from hds_audit.geo import AllowedArea, GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import (
    HOST_SCOPE_TYPE,
    CollectionError,
    Covered,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Source,
    SourceKind,
    Status,
    project_of,
)
from hds_audit.providers.facts import HostFacts, HostScope
from hds_audit.providers.registry import Registry

_OUTSIDE_SCOPE = Msg("finding.outside_scope")
_REGISTRY_SOURCE = Source(kind=SourceKind.REGISTRY)

# A host-only policy's verdicts: one entry per host scope, with the resources it covers.
_HostVerdicts = dict["HostScope", tuple[Outcome, list[Covered], set[Covered], Resource]]
_Step = tuple[
    PolicyMeta,
    frozenset[Kind] | None,
    frozenset[str] | None,
    bool,
    frozenset[str] | None,
    Condition | None,
    str | None,
    Condition,
    _HostVerdicts | None,
    frozenset[str],
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

    Policies that read only ``host.*`` paths (the HDS certificate) are judged once per host
    and certificate scope (:meth:`HostFacts.scope`): one finding per scope, listing the
    resources it covers, after the resource-level findings, in the order the scopes were
    first met. ``registry`` (default: the built-in certified-host registry) and
    ``audit_date`` (default: today, UTC) are what the ``host.*`` paths judge against.
    """
    facts = HostFacts(registry, audit_date)
    ctx = EvaluationContext(area, facts)
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
            {} if p.host_only else None,
            p.host_paths,
        )
        for p in policies
    ]
    # Host scopes in the order first met, across policies: (policy index, scope).
    scopes_met: list[tuple[int, HostScope]] = []
    for resource in resources:
        kind, provider = resource.kind, resource.provider
        for index, step in enumerate(plan):
            meta, kinds, providers, needs_data, types, when, when_text, condition, hosts, paths = (
                step
            )
            if (
                (kinds is not None and kind not in kinds)
                or (types is not None and resource.type not in types)
                or (providers is not None and provider not in providers)
                or (needs_data and not resource.stores_data)
            ):
                continue
            if hosts is not None:
                scope = facts.scope(resource, paths)
                entry = hosts.get(scope)
                if entry is None:
                    verdict = _judge(resource, ctx, when, when_text, condition)
                    entry = hosts[scope] = (verdict, [], set(), _subject(scope, resource))
                    scopes_met.append((index, scope))
                covered, seen = entry[1], entry[2]
                ref = Covered(resource.id, project_of(resource.source))
                if ref not in seen:  # a plan and a state of one resource count once
                    seen.add(ref)
                    covered.append(ref)
                continue
            if when is not None:
                status, evidence, _ = when(resource, ctx)
                if status is Status.FAIL:
                    reason = when_text or _OUTSIDE_SCOPE
                    append(Finding(meta, resource, Status.NOT_APPLICABLE, evidence, reason))
                    continue
            append(Finding(meta, resource, *condition(resource, ctx)))
    for index, scope in scopes_met:
        meta, hosts = plan[index][0], plan[index][8]
        assert hosts is not None
        verdict, covered, _, subject = hosts[scope]
        append(Finding(meta, subject, *verdict, tuple(covered)))
    return findings


def _subject(scope: HostScope, first: Resource) -> Resource:
    """The synthetic resource a host-level finding is about (never in the resource list)."""
    location = first.location
    if scope.region is None:  # the scope spans regions: no place of its own
        location = Location(
            provider=scope.provider, region=None, country=None, in_eu=None, in_eea=None
        )
    return Resource(
        id=scope.subject_id,
        provider=scope.provider,
        type=HOST_SCOPE_TYPE,
        kind=Kind.OTHER,
        location=location,
        source=_REGISTRY_SOURCE,
        name=scope.label,
        holds_data=False,
    )


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
