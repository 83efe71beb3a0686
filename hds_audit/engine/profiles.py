"""Policies compiled for a run: grouped per class of resources, outcomes shared per profile.

The policies covering a resource depend only on its class (kind, type, provider,
``holds_data``). Within a class, a policy's outcome depends only on the values it reads
(:mod:`hds_audit.engine.keys`): resources whose values are equal — the same location, the
same encryption facts, copies in the same places — form a *profile* and share one outcome,
judged on the first of them, with the same evidence objects. What a policy reads of the
texts a collector writes per resource (``unknowns``, ``notes``) is keyed apart, so that a
reason naming one resource's own key does not stop the other policies being shared.
Policies reading the resource's id, name or raw attributes are judged on each resource.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NamedTuple

from hds_audit.engine.conditions import Outcome
from hds_audit.engine.keys import Texts, Tokens, is_text, key_function, key_inputs
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
# Entries per memo table at most (texts naming one resource's own key repeat little: past
# this, what a table does not hold is judged afresh, and memory stays bounded).
MEMO_LIMIT = 4096
# Profiles by their texts are given up after this many misses if they miss more than hit.
_TRIAL = 256

# A host-only policy's verdict in one host scope: (outcome, covered, subject).
HostEntry = tuple[Outcome, list[Covered], Resource]
# An outcome shared by the resources of a profile, with its policy.
Judged = tuple[PolicyMeta, Status, tuple[Evidence, ...], str | None]


class Step:
    """One policy as the engine runs it."""

    __slots__ = ("condition", "hosts", "inputs", "meta", "paths", "reads_text", "scope", "when")

    def __init__(self, policy: Policy) -> None:
        self.meta = policy.meta
        self.scope = policy.scope
        self.when = policy.scope.when
        self.condition = policy.condition
        # Host-only: one verdict per host scope, in ``hosts``, in the order first met.
        self.hosts: dict[HostScope, HostEntry] | None = {} if policy.host_only else None
        self.paths = policy.host_paths
        # What its outcome depends on (None: judged on each resource afresh); for a host-only
        # policy, its host scope, which depends on (provider, region, kind) only.
        self.inputs = (
            frozenset({"location"})
            if policy.host_only
            else key_inputs(policy.paths)
            if policy.paths
            else None
        )
        self.reads_text = self.inputs is not None and any(map(is_text, self.inputs))

    def judge(self, resource: Resource, ctx: EvaluationContext) -> Outcome:
        """The outcome on ``resource``: ``not_applicable`` when its scope's ``when`` fails."""
        when = self.when
        if when is not None:
            status, evidence, _ = when(resource, ctx)
            if status is Status.FAIL:
                return Status.NOT_APPLICABLE, evidence, self.scope.when_text or _OUTSIDE_SCOPE
        return self.condition(resource, ctx)


class _Texted:
    """A policy reading texts of ``unknowns`` / ``notes``: its outcomes per text."""

    __slots__ = ("memo", "pick", "step")

    def __init__(self, step: Step, pick: Callable[[tuple[Hashable, ...]], Hashable]) -> None:
        self.step = step
        self.pick = pick  # its texts, from all those the class reads
        self.memo: dict[Hashable, Outcome] = {}

    def judged(
        self, resource: Resource, ctx: EvaluationContext, texts: tuple[Hashable, ...]
    ) -> Judged:
        key = self.pick(texts)
        found = self.memo.get(key)
        if found is None:
            found = self.step.judge(resource, ctx)
            if len(self.memo) < MEMO_LIMIT:
                self.memo[key] = found
        return (self.step.meta, *found)


class Profile(NamedTuple):
    """What each resource of a profile gets: per policy in order, a shared outcome or the
    step judging each resource afresh (``shared``: the outcomes, when all are shared); the
    covered lists of the host scopes it falls in."""

    judged: list[Judged | Step]
    shared: list[Judged] | None
    hosts: list[list[Covered]]


def _resolved(
    items: list[Judged | Step | _Texted],
    hosts: list[list[Covered]],
    resource: Resource,
    ctx: EvaluationContext,
    texts: tuple[Hashable, ...] = (),
) -> Profile:
    """The profile of ``resource``: the texted policies judged by its ``texts``."""
    judged = [i.judged(resource, ctx, texts) if isinstance(i, _Texted) else i for i in items]
    shared = [item for item in judged if isinstance(item, tuple)]
    return Profile(judged, shared if len(shared) == len(judged) else None, hosts)


class ResourceClass:
    """The steps covering one class of resources, and their outcomes per profile."""

    __slots__ = (
        "_partial",
        "_plain",
        "_texted",
        "_texted_hits",
        "_texted_misses",
        "key",
        "steps",
        "texts",
    )

    def __init__(self, steps: list[Step], tokens: Tokens) -> None:
        self.steps = steps
        inputs = frozenset[str]().union(*(s.inputs for s in steps if s.inputs is not None))
        self.key = key_function(inputs, tokens)
        self.texts = Texts(inputs)
        # Profiles of resources without the texts the steps read; of the others, by their
        # texts too (while that pays: not when texts name each resource); and per profile,
        # the steps reading texts, each with its outcomes per text.
        self._plain: dict[Hashable, Profile] = {}
        self._texted: dict[Hashable, Profile] | None = {}
        self._texted_hits = self._texted_misses = 0
        self._partial: dict[Hashable, tuple[list[Judged | Step | _Texted], list[list[Covered]]]]
        self._partial = {}

    def profile(
        self,
        resource: Resource,
        ctx: EvaluationContext,
        scopes_met: list[tuple[Step, HostScope]],
    ) -> Profile:
        """What ``resource`` gets; a new host scope it falls in is added to ``scopes_met``."""
        texts = (
            self.texts.read(resource)
            if self.texts and (resource.unknowns or resource.notes)
            else None
        )
        try:
            base = self.key(resource)
            if texts is None:
                found = self._plain.get(base)
            elif self._texted is not None:
                found = self._texted.get((base, texts))
                self._texted_hits += found is not None
            else:
                found = None
        except TypeError:  # an unhashable value: judged afresh
            return _resolved(*self._judge(resource, ctx, scopes_met, texted=False), resource, ctx)
        if found is not None:
            return found
        if texts is None:
            found = _resolved(*self._judge(resource, ctx, scopes_met, texted=False), resource, ctx)
            if len(self._plain) < MEMO_LIMIT:
                self._plain[base] = found
            return found
        partial = self._partial.get(base)
        if partial is None:
            partial = self._judge(resource, ctx, scopes_met, texted=True)
            if len(self._partial) < MEMO_LIMIT:
                self._partial[base] = partial
        found = _resolved(*partial, resource, ctx, texts)
        if self._texted is not None:
            self._texted_misses += 1
            if self._texted_misses > _TRIAL and self._texted_misses > self._texted_hits:
                self._texted = None  # the texts name each resource: keyed per step only
            elif len(self._texted) < MEMO_LIMIT:
                self._texted[(base, texts)] = found
        return found

    def _judge(
        self,
        resource: Resource,
        ctx: EvaluationContext,
        scopes_met: list[tuple[Step, HostScope]],
        *,
        texted: bool,
    ) -> tuple[list[Judged | Step | _Texted], list[list[Covered]]]:
        """Each step on ``resource``: judged (outcomes to share), or left to judge per
        resource (``texted``: the steps reading texts, per text); its host scopes."""
        judged: list[Judged | Step | _Texted] = []
        hosts: list[list[Covered]] = []
        for step in self.steps:
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
            elif texted and step.reads_text:
                judged.append(_Texted(step, self.texts.picker(step.inputs)))
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
