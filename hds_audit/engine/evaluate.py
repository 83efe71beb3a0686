"""Evaluate policies on resources: pure, one finding per (policy, resource in its scope)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import date
from typing import NamedTuple

from hds_audit.engine.conditions import Outcome
from hds_audit.engine.keys import Reader, Tokens, key_function, key_inputs, text_function
from hds_audit.engine.paths import EvaluationContext
from hds_audit.engine.policies import Policy
from hds_audit.geo import AllowedArea, GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import (
    HOST_SCOPE_TYPE,
    CollectionError,
    Covered,
    Evidence,
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

# Outcomes shared per table at most (texts naming one resource's own key repeat little: past
# this, what the table does not hold is judged afresh, and memory stays bounded).
_MEMO_LIMIT = 4096
_new = tuple.__new__  # a Finding without its Python-level __new__ (357,000 of them at 100k)

# A host-only policy's verdict in one host scope: (outcome, covered, subject).
_HostEntry = tuple[Outcome, list[Covered], Resource]
# An outcome shared by the resources of a profile, with its policy.
_Judged = tuple[PolicyMeta, Status, tuple[Evidence, ...], str | None]


class _Step:
    """One policy as the engine runs it."""

    __slots__ = ("condition", "hosts", "inputs", "meta", "paths", "scope", "text", "when")

    def __init__(self, policy: Policy) -> None:
        self.meta = policy.meta
        self.scope = policy.scope
        self.when = policy.scope.when
        self.condition = policy.condition
        # Host-only: one verdict per host scope, in ``hosts``.
        self.hosts: dict[HostScope, _HostEntry] | None = {} if policy.host_only else None
        self.paths = policy.host_paths
        # What its outcome depends on (None: judged on each resource afresh); its host scope
        # for a host-only policy, which depends on (provider, region, kind) only.
        self.inputs = (
            frozenset({"location"})
            if policy.host_only
            else key_inputs(policy.paths)
            if policy.paths
            else None
        )
        self.text = text_function(self.inputs) if self.inputs is not None else None

    def judge(self, resource: Resource, ctx: EvaluationContext) -> Outcome:
        when = self.when
        if when is not None:
            status, evidence, _ = when(resource, ctx)
            if status is Status.FAIL:
                return Status.NOT_APPLICABLE, evidence, self.scope.when_text or _OUTSIDE_SCOPE
        return self.condition(resource, ctx)


class _Texted:
    """A policy reading texts of ``unknowns`` / ``notes``, in a profile: outcomes per text."""

    __slots__ = ("memo", "meta", "step", "text")

    def __init__(self, step: _Step, text: Reader) -> None:
        self.step = step
        self.meta = step.meta
        self.text = text
        self.memo: dict[Hashable, Outcome] = {}

    def judge(self, resource: Resource, ctx: EvaluationContext) -> Outcome:
        key = self.text(resource)
        found = self.memo.get(key)
        if found is None:
            found = self.step.judge(resource, ctx)
            if len(self.memo) < _MEMO_LIMIT:
                self.memo[key] = found
        return found


class _Profile(NamedTuple):
    """What each resource of a profile gets: per policy in order, a shared outcome or what
    judges it (``shared``: only shared outcomes); the covered lists of its host scopes."""

    judged: list[_Judged | _Step | _Texted]
    shared: bool
    hosts: list[list[Covered]]


class _Class:
    """The policies covering one (kind, type, provider, holds_data) class of resources, and
    what they give per profile (the model values they read, see :mod:`keys`): ``plain`` for
    resources without ``unknowns`` or ``notes``, ``texted`` for the others."""

    __slots__ = ("key", "plain", "steps", "texted")

    def __init__(self, steps: list[_Step], tokens: Tokens) -> None:
        self.steps = steps
        self.key = key_function(
            frozenset[str]().union(*(s.inputs for s in steps if s.inputs is not None)), tokens
        )
        self.plain: dict[Hashable, _Profile] = {}
        self.texted: dict[Hashable, _Profile] = {}


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

    Conditions are pure: resources of one class whose judged values are equal share one
    outcome (the same evidence objects), judged on the first of them.
    """
    ctx = EvaluationContext(area, HostFacts(registry, audit_date))
    steps = [_Step(policy) for policy in policies]
    tokens = Tokens()
    classes: dict[tuple[Kind, str, str, bool | None], _Class] = {}
    findings: list[Finding] = []
    append = findings.append
    # Host scopes in the order first met, across policies.
    scopes_met: list[tuple[_Step, HostScope]] = []
    # Each resource a host scope covers: the covered lists it is in (a plan and a state of
    # one resource count once in each).
    covering: dict[Covered, list[list[Covered]]] = {}
    source: Source | None = None
    project = ""
    for resource in resources:
        group = classes.get((resource.kind, resource.type, resource.provider, resource.holds_data))
        if group is None:
            group = _Class([s for s in steps if s.scope.covers(resource)], tokens)
            classes[(resource.kind, resource.type, resource.provider, resource.holds_data)] = group
        if not group.steps:
            continue
        texts = resource.unknowns or resource.notes
        memo = group.texted if texts else group.plain
        key = group.key(resource)
        try:
            profile = memo.get(key)
        except TypeError:  # an unhashable value: judged afresh
            profile = _profile(group.steps, resource, ctx, scopes_met, texts)
        else:
            if profile is None:
                profile = _profile(group.steps, resource, ctx, scopes_met, texts)
                if len(memo) < _MEMO_LIMIT:
                    memo[key] = profile
        if profile.shared:
            for meta, status, evidence, reason in profile.judged:  # type: ignore[misc]
                append(_new(Finding, (meta, resource, status, evidence, reason, None)))
        else:
            for item in profile.judged:
                if item.__class__ is tuple:
                    meta, status, evidence, reason = item  # type: ignore[misc]
                else:
                    meta = item.meta  # type: ignore[union-attr]
                    status, evidence, reason = item.judge(resource, ctx)  # type: ignore[union-attr]
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
    for step, scope in scopes_met:
        assert step.hosts is not None
        verdict, covered, subject = step.hosts[scope]
        append(Finding(step.meta, subject, *verdict, tuple(covered)))
    return findings


def _profile(
    steps: list[_Step],
    resource: Resource,
    ctx: EvaluationContext,
    scopes_met: list[tuple[_Step, HostScope]],
    texts: object,
) -> _Profile:
    """What the resources of ``resource``'s profile get from ``steps``."""
    judged: list[_Judged | _Step | _Texted] = []
    hosts: list[list[Covered]] = []
    for step in steps:
        if step.hosts is not None:
            scope = ctx.hosts.scope(resource, step.paths)
            entry = step.hosts.get(scope)
            if entry is None:
                verdict = step.judge(resource, ctx)
                entry = step.hosts[scope] = (verdict, [], _subject(scope, resource))
                scopes_met.append((step, scope))
            hosts.append(entry[1])
        elif step.inputs is None:
            judged.append(step)
        elif texts and step.text is not None:
            judged.append(_Texted(step, step.text))
        else:
            judged.append((step.meta, *step.judge(resource, ctx)))
    shared = all(item.__class__ is tuple for item in judged)
    return _Profile(judged, shared, hosts)


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
