"""Compare a run with an earlier one: each finding is ``new`` or ``unchanged``; fixed ones listed.

Finding identity, stable across runs: ``(policy id, resource id, source kind)``. The resource id
is the Terraform address, the ARN or the Azure resource id; the source kind
(``terraform-plan``, ``terraform-state``, ``aws-api``, ``azure-api``) tells a plan from a state
of the same address. A host-level finding (an HDS certificate, judged once per host scope) has
the host scope as its resource id (``hds-host:aws``) and ``registry`` as its source kind.
When several sources of one run hold the same identity (two workspaces' states with the same
addresses), the worst status stands for it. A finding is ``unchanged``
when the earlier run had the same identity with the same status, ``new`` otherwise (a pass
that turned into a fail is new). A finding is ``fixed`` when it was a problem (fail, error,
unknown) earlier and now passes, no longer applies, or is gone. With a baseline, only ``new``
findings gate (see ``Report.blocking``).

The earlier run is a ``report.json`` (``--baseline FILE``) or a run of the history database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from hds_audit import inputs
from hds_audit.errors import UsageError
from hds_audit.evidence.inputs import InputFile, read_input
from hds_audit.model import Finding, SourceKind, Status
from hds_audit.secrets import safe_quote

#: ``(policy_id, resource_id, source_kind)``.
Identity = tuple[str, str, str]

NEW = "new"
UNCHANGED = "unchanged"
#: Statuses that need someone's attention; a finding leaving them is fixed.
PROBLEMS = frozenset({Status.FAIL.value, Status.ERROR.value, Status.UNKNOWN.value})
#: Statuses after which a former problem counts as fixed (``None``: the finding is gone).
_RESOLVED = frozenset({Status.PASS.value, Status.NOT_APPLICABLE.value, None})
_STATUSES = frozenset(s.value for s in Status)
#: When several sources hold the same identity (two workspaces' states with the same
#: addresses), the worst status stands for it.
_WORST = {"fail": 6, "error": 5, "unknown": 4, "waived": 3, "manual": 2, "pass": 1}


def worse(status: str, other: str | None) -> bool:
    """Whether ``status`` is worse than ``other`` (``None``: no status yet)."""
    return other is None or _WORST.get(status, 0) > _WORST.get(other, 0)


def identity(finding: Finding) -> Identity:
    """The identity of a finding across runs."""
    resource = finding.resource
    # ``_value_``: what ``.value`` returns, without its property (a large run has 350,000)
    return (finding.policy.id, resource.id, resource.source.kind._value_)


def fingerprint(key: Identity) -> str:
    """The identity as one string (SARIF ``partialFingerprints``, CSV, JSON)."""
    policy_id, resource_id, source_kind = key
    return f"{policy_id}|{source_kind}|{resource_id}"


class Earlier(NamedTuple):
    """What a comparison keeps of an earlier finding."""

    status: str
    severity: str
    category: str


class Fixed(NamedTuple):
    """A problem of the earlier run that is gone or resolved now."""

    policy_id: str
    resource_id: str
    source_kind: str
    severity: str
    category: str
    status_before: str
    status_now: str | None  # None: the finding (its resource or policy) is gone


@dataclass(frozen=True)
class Comparison:
    """An earlier run, indexed by identity; ``label`` says which run it was.

    Host-level findings (one per host scope, schema 1.4) are compared by their own identity;
    against an earlier run that judged the same policy per resource (schema 1.3 and before),
    a host-level finding is ``unchanged`` when a resource it covers had the same status, and
    the earlier per-resource findings are fixed only when the host verdict covering their
    resource is, so upgrading never reports regrouped certificate findings as fixed.
    """

    label: str
    earlier: Mapping[Identity, Earlier]
    input: InputFile | None = None  # the baseline report.json read

    @cached_property
    def _per_resource(self) -> dict[tuple[str, str], str]:
        """(policy id, resource id) -> the worst earlier status, over source kinds."""
        out: dict[tuple[str, str], str] = {}
        for (policy_id, resource_id, _), before in self.earlier.items():
            key = (policy_id, resource_id)
            if worse(before.status, out.get(key)):
                out[key] = before.status
        return out

    def state(self, finding: Finding) -> str:
        """``new`` or ``unchanged`` (one dict lookup)."""
        before = self.earlier.get(identity(finding))
        if before is None and finding.covers:
            return self._host_state(finding)
        return UNCHANGED if before is not None and before.status == finding.status else NEW

    def _host_state(self, finding: Finding) -> str:
        earlier, policy_id, status = self._per_resource, finding.policy.id, finding.status
        for covered in finding.covers or ():
            if earlier.get((policy_id, covered.id)) == status:
                return UNCHANGED
        return NEW

    def fixed(self, findings: Iterable[Finding]) -> list[Fixed]:
        """Earlier problems that now pass, no longer apply, or are gone; sorted."""
        now: dict[Identity, str] = {}
        covered_now: dict[tuple[str, str], str] = {}  # by host-level findings
        get, covered_get, rank = now.get, covered_now.get, _WORST.get
        # worse() inlined: a large run has 350,000 findings, and a host-level one covers
        # every resource
        for finding in findings:
            key, status = identity(finding), finding.status._value_
            status_rank = rank(status, 0)
            was = get(key)
            if was is None or status_rank > rank(was, 0):
                now[key] = status
            covers = finding.covers
            if covers:
                policy_id = finding.policy.id
                for covered in covers:
                    covered_key = (policy_id, covered.id)
                    was = covered_get(covered_key)
                    if was is None or status_rank > rank(was, 0):
                        covered_now[covered_key] = status
        out = []
        for key, before in self.earlier.items():
            if before.status not in PROBLEMS:
                continue
            status_now = now.get(key)
            if status_now is None:  # judged per resource then, per host scope now?
                status_now = covered_now.get((key[0], key[1]))
            if status_now in _RESOLVED:
                out.append(Fixed(*key, before.severity, before.category, before.status, status_now))
        out.sort(key=lambda f: (f.policy_id, f.resource_id, f.source_kind))
        return out

    def counts(self, findings: Iterable[Finding]) -> dict[str, int]:
        """How many findings are new and unchanged."""
        new = unchanged = 0
        for finding in findings:
            if self.state(finding) == NEW:
                new += 1
            else:
                unchanged += 1
        return {NEW: new, UNCHANGED: unchanged}


def load_baseline(path: str | Path) -> Comparison:
    """Read a previous ``report.json``; a problem is one line naming the file (exit 2)."""
    label = str(path)
    try:
        raw, record = read_input(path, "baseline", inputs.MAX_STATE_BYTES)
        data = json.loads(inputs.utf8(raw))
    except inputs.FileProblem as problem:
        if problem.missing:
            raise UsageError(f"{label}: baseline report not found") from None
        raise UsageError(f"{label}: baseline report {problem.problem}") from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{label}:{error.lineno}: baseline report is not valid JSON: {error.msg}"
        ) from None
    except RecursionError:
        raise UsageError(f"{label}: baseline report nests values too deeply") from None
    return replace(comparison_from_report(data, label), input=record)


def comparison_from_report(data: Any, label: str) -> Comparison:
    """A comparison from a parsed ``report.json`` (schema 1.x)."""
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageError(f"{label}: not an hds-audit report.json (no 'findings' list)")
    version = data.get("schema_version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise UsageError(
            f"{label}: baseline report has schema_version {version!r}; this hds-audit reads 1.x"
        )
    # Reports of schema 1.0 carry no source_kind on findings: take it from the resources.
    kinds: dict[str, str] = {}
    for resource in data.get("resources") or ():
        if isinstance(resource, dict) and isinstance(resource.get("source"), dict):
            kinds.setdefault(str(resource.get("id")), str(resource["source"].get("kind")))
    earlier: dict[Identity, Earlier] = {}
    for index, item in enumerate(data["findings"]):
        try:
            policy_id, resource_id, status = item["policy_id"], item["resource_id"], item["status"]
            source_kind = item.get("source_kind") or kinds.get(resource_id, "")
            if item.get("subject") == "host":
                source_kind = SourceKind.REGISTRY.value
            severity, category = item["severity"], item["category"]
        except (TypeError, KeyError, AttributeError) as error:
            raise UsageError(
                f"{label}: finding {index} is missing {error} (not an hds-audit report.json)"
            ) from None
        if not isinstance(status, str) or status not in _STATUSES:
            raise UsageError(f"{label}: finding {index} has an unknown status {safe_quote(status)}")
        texts = (policy_id, resource_id, source_kind, severity, category)
        if not all(isinstance(text, str) for text in texts):
            raise UsageError(
                f"{label}: finding {index} has an id, kind, severity or category that is not "
                "a text (not an hds-audit report.json)"
            )
        key = (policy_id, resource_id, source_kind)
        before = earlier.get(key)
        if before is None or worse(status, before.status):
            earlier[key] = Earlier(status, severity, category)
    return Comparison(label=label, earlier=earlier)


def comparison_from_rows(label: str, rows: Iterable[Sequence[str]]) -> Comparison:
    """A comparison from ``(policy_id, resource_id, source_kind, status, severity, category)``."""
    earlier: dict[Identity, Earlier] = {}
    for row in rows:
        key = (row[0], row[1], row[2])
        before = earlier.get(key)
        if before is None or worse(row[3], before.status):
            earlier[key] = Earlier(row[3], row[4], row[5])
    return Comparison(label=label, earlier=earlier)
