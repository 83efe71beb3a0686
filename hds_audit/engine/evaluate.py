"""Evaluate policies on resources: pure, one finding per (policy, resource in its scope)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from hds_audit.engine.keys import Tokens
from hds_audit.engine.paths import EvaluationContext
from hds_audit.engine.policies import Policy
from hds_audit.engine.profiles import ResourceClass, Step
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import (
    CollectionError,
    Covered,
    Finding,
    Kind,
    Resource,
    Source,
    SourceKind,
    Status,
    project_of,
)
from hds_audit.providers.facts import HostFacts, HostScope
from hds_audit.providers.registry import Registry

_new = tuple.__new__  # a Finding without its Python-level __new__ (357,000 of them at 100k)


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

    Conditions are pure: resources whose judged values are equal share one outcome, with
    the same evidence objects (see :mod:`hds_audit.engine.profiles`).
    """
    ctx = EvaluationContext(area, HostFacts(registry, audit_date))
    steps = [Step(policy) for policy in policies]
    tokens = Tokens()
    classes: dict[tuple[Kind, str, str, bool | None], ResourceClass] = {}
    findings: list[Finding] = []
    append = findings.append
    # Host scopes in the order first met, across policies.
    scopes_met: list[tuple[Step, HostScope]] = []
    # Each resource a host scope covers: the covered lists it is in (a plan and a state of
    # one resource count once in each).
    covering: dict[Covered, list[list[Covered]]] = {}
    source: Source | None = None
    project = ""
    for resource in resources:
        group = classes.get((resource.kind, resource.type, resource.provider, resource.holds_data))
        if group is None:
            group = ResourceClass([s for s in steps if s.scope.covers(resource)], tokens)
            classes[(resource.kind, resource.type, resource.provider, resource.holds_data)] = group
        if not group.steps:
            continue
        profile = group.profile(resource, ctx, scopes_met)
        if profile.shared is not None:
            for meta, status, evidence, reason in profile.shared:
                append(_new(Finding, (meta, resource, status, evidence, reason, None)))
        else:
            for item in profile.judged:
                if isinstance(item, tuple):
                    meta, status, evidence, reason = item
                else:
                    meta = item.meta
                    status, evidence, reason = item.judge(resource, ctx)
                append(_new(Finding, (meta, resource, status, evidence, reason, None)))
        hosts = profile.hosts
        if hosts:
            if resource.source is not source:
                source = resource.source
                project = project_of(source)
            ref = _new(Covered, (resource.id, project))  # one for all its host scopes
            met = covering.get(ref)
            if met is None:
                covering[ref] = hosts
                for covered in hosts:
                    covered.append(ref)
            elif met is not hosts:  # met before, in other host scopes: joins the new ones
                joined = list(met)
                for covered in hosts:
                    if not any(c is covered for c in met):
                        covered.append(ref)
                        joined.append(covered)
                covering[ref] = joined
    # Equal covered lists (policies judged on one scope) share one tuple: encoded once.
    # Compared, not hashed: equal lists hold the same objects, which compare by identity.
    distinct: list[tuple[Covered, ...]] = []
    for step, scope in scopes_met:
        assert step.hosts is not None
        verdict, covered, subject = step.hosts[scope]
        covers = tuple(covered)
        equal = next((c for c in distinct if len(c) == len(covers) and c == covers), None)
        if equal is None:
            distinct.append(covers)
        else:
            covers = equal
        append(Finding(step.meta, subject, *verdict, covers))
    return findings


#: The type of the stand-in resource of a scope a collection error hid.
UNREADABLE_SCOPE = "unreadable_scope"


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
        type=UNREADABLE_SCOPE,
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
