"""Policies compiled for a run: grouped per class of resources, outcomes shared per profile.

The policies covering a resource depend only on its class (kind, type, provider,
``holds_data``). Within a class, a policy's outcome depends only on the values it reads
(:mod:`hds_audit.engine.keys`): resources whose values are equal — the same location, the
same encryption facts, copies in the same places — form a *profile* and share one outcome,
judged on the first of them, with the same evidence objects. What may differ for each
resource — texts a collector writes (``unknowns``, ``notes``), raw attributes — is keyed
apart, per policy reading it: a reason naming one resource's own key does not stop the
other policies being shared. Policies reading the resource's id or name are judged on each
resource afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NamedTuple

from hds_audit.engine.conditions import Outcome
from hds_audit.engine.keys import (
    Reader,
    Tokens,
    Varying,
    key_function,
    key_inputs,
    no_key,
    varies,
)
from hds_audit.engine.paths import EvaluationContext
from hds_audit.engine.policies import Policy
from hds_audit.geo import Location
from hds_audit.i18n import Msg
from hds_audit.model import (
    HOST_SCOPE_TYPE,
    Covered,
    Evidence,
    Kind,
    PolicyMeta,
    Resource,
    Source,
    SourceKind,
    Status,
)
from hds_audit.providers.facts import HostScope

_OUTSIDE_SCOPE = Msg("finding.outside_scope")
_REGISTRY_SOURCE = Source(kind=SourceKind.REGISTRY)
# Entries per memo table at most (values naming one resource repeat little: past this,
# what a table does not hold is judged afresh, and memory stays bounded).
MEMO_LIMIT = 4096
# Profiles by their varying values are given up after this many misses if they miss more
# than they hit.
_TRIAL = 256

_new = tuple.__new__
_NO_VARYING = Varying(())  # a class's inputs before it is compiled

# A host-only policy's verdict in one host scope: (outcome, covered, subject).
HostEntry = tuple[Outcome, list[Covered], Resource]
# An outcome shared by the resources of a profile, with its policy.
Judged = tuple[PolicyMeta, Status, tuple[Evidence, ...], str | None]


class Step:
    """One policy as the engine runs it."""

    __slots__ = ("condition", "host_paths", "hosts", "inputs", "meta", "scope", "varies", "when")

    def __init__(self, policy: Policy) -> None:
        self.meta = policy.meta
        self.scope = policy.scope
        self.when = policy.scope.when
        self.condition = policy.condition
        # Host-only: one verdict per host scope, in ``hosts``, in the order first met.
        self.hosts: dict[HostScope, HostEntry] | None = {} if policy.host_only else None
        self.host_paths = policy.host_paths
        # What its outcome depends on (None: judged on each resource afresh); for a host-only
        # policy, its host scope, which depends on (provider, region, kind) only.
        self.inputs = (
            frozenset({"location"})
            if policy.host_only
            else key_inputs(policy.paths)
            if policy.paths
            else None
        )
        self.varies = self.inputs is not None and any(map(varies, self.inputs))

    def judge(self, resource: Resource, ctx: EvaluationContext) -> Outcome:
        """The outcome on ``resource``: ``not_applicable`` when its scope's ``when`` fails."""
        when = self.when
        if when is not None:
            status, evidence, _ = when(resource, ctx)
            if status is Status.FAIL:
                return Status.NOT_APPLICABLE, evidence, self.scope.when_text or _OUTSIDE_SCOPE
        return self.condition(resource, ctx)


class _PerValue:
    """A policy reading inputs that may differ for each resource: its outcomes per value."""

    __slots__ = ("memo", "pick", "step")

    def __init__(self, step: Step, pick: Callable[[tuple[object, ...]], object]) -> None:
        self.step = step
        self.pick = pick  # its values, from all the class's varying inputs
        self.memo: dict[object, Judged] = {}

    def judged(
        self, resource: Resource, ctx: EvaluationContext, values: tuple[object, ...]
    ) -> Judged:
        key = self.pick(values)
        try:
            found = self.memo.get(key)
        except TypeError:  # a value not to share on (a list, a mapping)
            return (self.step.meta, *self.step.judge(resource, ctx))
        if found is None:
            found = (self.step.meta, *self.step.judge(resource, ctx))
            if len(self.memo) < MEMO_LIMIT:
                self.memo[key] = found
        return found


class Profile(NamedTuple):
    """What each resource of a profile gets: per policy in order, a shared outcome or the
    step judging each resource afresh (``shared``: the outcomes, when all are shared); the
    covered lists of the host scopes it falls in."""

    judged: list[Judged | Step]
    shared: list[Judged] | None
    hosts: list[list[Covered]]


def _resolved(
    items: list[Judged | Step | _PerValue],
    hosts: list[list[Covered]],
    resource: Resource,
    ctx: EvaluationContext,
    values: tuple[object, ...] = (),
) -> Profile:
    """The profile of ``resource``: the policies reading varying inputs judged by their
    ``values``."""
    judged = [i.judged(resource, ctx, values) if i.__class__ is _PerValue else i for i in items]
    shared = all(item.__class__ is tuple for item in judged)
    return _new(Profile, (judged, judged if shared else None, hosts))


class ResourceClass:
    """The steps covering one class of resources, and their outcomes per profile."""

    __slots__ = (
        "_by_values",
        "_compiled",
        "_hits",
        "_met",
        "_misses",
        "_partial",
        "_plain",
        "_read_always",
        "_read_some",
        "_tokens",
        "key",
        "steps",
        "varying",
    )

    def __init__(self, steps: list[Step], tokens: Tokens) -> None:
        self.steps = steps
        self._tokens = tokens
        # Compiled when a second resource of the class comes (the first is judged afresh:
        # a run of one resource per call, as the Checkov checks make, compiles nothing).
        self._compiled = False
        self._met = False
        self.key: Reader = no_key
        self.varying = _NO_VARYING
        # Whether the varying inputs are read on every resource, or only on those with
        # unknowns or notes (without, their texts are all absent).
        self._read_always = self._read_some = False
        # Profiles of resources whose varying inputs are all absent (no unknowns, no notes,
        # no raw attribute read); of the others, by their values too (while that pays: not
        # where they name each resource); and, per profile, the steps reading varying
        # inputs, each with its outcomes per value.
        self._plain: dict[Hashable, Profile] = {}
        self._by_values: dict[Hashable, Profile] | None = {}
        self._hits = self._misses = 0
        self._partial: dict[Hashable, tuple[list[Judged | Step | _PerValue], list[list[Covered]]]]
        self._partial = {}

    def _compile(self) -> None:
        inputs = frozenset[str]().union(*(s.inputs for s in self.steps if s.inputs is not None))
        self.key = key_function(inputs, self._tokens)
        self.varying = Varying(inputs)
        self._read_always = bool(self.varying) and self.varying.always
        self._read_some = bool(self.varying)
        self._compiled = True

    def profile(
        self,
        resource: Resource,
        ctx: EvaluationContext,
        scopes_met: list[tuple[Step, HostScope]],
    ) -> Profile:
        """What ``resource`` gets; a new host scope it falls in is added to ``scopes_met``."""
        if not self._compiled:
            if not self._met:
                self._met = True
                return _resolved(
                    *self._judge(resource, ctx, scopes_met, per_value=False), resource, ctx
                )
            self._compile()
        values = (
            self.varying.read(resource)
            if self._read_always or (self._read_some and (resource.unknowns or resource.notes))
            else None
        )
        try:
            base = self.key(resource)
            if values is None:
                found = self._plain.get(base)
            elif self._by_values is not None:
                found = self._by_values.get((base, values))
                self._hits += found is not None
            else:
                found = None
        except TypeError:  # an unhashable value: judged afresh
            return _resolved(
                *self._judge(resource, ctx, scopes_met, per_value=False), resource, ctx
            )
        if found is not None:
            return found
        if values is None:
            found = _resolved(
                *self._judge(resource, ctx, scopes_met, per_value=False), resource, ctx
            )
            if len(self._plain) < MEMO_LIMIT:
                self._plain[base] = found
            return found
        partial = self._partial.get(base)
        if partial is None:
            partial = self._judge(resource, ctx, scopes_met, per_value=True)
            if len(self._partial) < MEMO_LIMIT:
                self._partial[base] = partial
        found = _resolved(*partial, resource, ctx, values)
        if self._by_values is not None:
            self._misses += 1
            if self._misses > _TRIAL and self._misses > self._hits:
                self._by_values = None  # the values name each resource: keyed per step only
            elif len(self._by_values) < MEMO_LIMIT:
                self._by_values[(base, values)] = found
        return found

    def _judge(
        self,
        resource: Resource,
        ctx: EvaluationContext,
        scopes_met: list[tuple[Step, HostScope]],
        *,
        per_value: bool,
    ) -> tuple[list[Judged | Step | _PerValue], list[list[Covered]]]:
        """Each step on ``resource``: judged (outcomes to share), or left to judge per
        resource (``per_value``: the steps reading varying inputs, per value); its host
        scopes."""
        judged: list[Judged | Step | _PerValue] = []
        hosts: list[list[Covered]] = []
        for step in self.steps:
            if step.hosts is not None:
                scope = ctx.hosts.scope(resource, step.host_paths)
                entry = step.hosts.get(scope)
                if entry is None:
                    verdict = step.judge(resource, ctx)
                    entry = step.hosts[scope] = (verdict, [], _subject(scope, resource))
                    scopes_met.append((step, scope))
                hosts.append(entry[1])
            elif step.inputs is None:
                judged.append(step)
            elif per_value and step.varies:
                judged.append(_PerValue(step, self.varying.picker(step.inputs)))
            else:
                judged.append((step.meta, *step.judge(resource, ctx)))
        return judged, hosts


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
