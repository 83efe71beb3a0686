"""``hds-audit merge``: the reports of a sharded run (``scan --shard I/N``) as one report.

Shards are checked to be slices of one run: same policy set (digest), allowed area, audit
date and shard count, every slice present once. Resources, findings, errors and sources are
unioned; what two shards both saw (a tenant-level resource, an identical error) is kept once.
Summary, gate and exit code are recomputed by :class:`Report`, compliance by
``build_compliance``.

Order: the report of a scan lists resources by collector (AWS, Terraform, Azure), then as
each collector reads them; findings follow their resource, then the scopes errors hid. A
merge rebuilds that order from the sources: AWS resources by account, region and id (as the
AWS collector sorts them), Terraform files by path, Azure subscriptions by id, each source's
own order kept. It equals an unsharded scan's whenever that scan's inputs were in that order
(a directory, accounts, subscriptions). Findings a collector judged itself (Checkov) follow
their resource here, where a scan lists them last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from hds_audit import __version__
from hds_audit.errors import InputError, UsageError
from hds_audit.evidence.inputs import InputFile
from hds_audit.evidence.manifest import MANIFEST_NAME, listed_sha256
from hds_audit.frameworks import builtin_frameworks, frameworks_digest
from hds_audit.frameworks.compliance import build_compliance
from hds_audit.geo import GeoTables
from hds_audit.model import (
    CollectedSource,
    CollectionError,
    Covered,
    Finding,
    PolicyMeta,
    Resource,
    Severity,
    SourceKind,
    project_of,
)
from hds_audit.providers.registry import builtin_registry
from hds_audit.reports.loader import ResourceKey, load_report_file, resource_key
from hds_audit.reports.model import Gate, MergedInput, Report, RunInfo
from hds_audit.sharding import Shard

if TYPE_CHECKING:
    from hds_audit.attestations import AttestationSet
    from hds_audit.frameworks import Framework
    from hds_audit.providers.registry import Registry

_T = TypeVar("_T")
#: Collectors in the order a scan runs them (cli.scan): AWS, Terraform (and Checkov), Azure,
#: Google Cloud, Scaleway.
_COLLECTOR_RANK = {
    SourceKind.AWS_API.value: 0,
    SourceKind.AZURE_API.value: 2,
    SourceKind.GCP_API.value: 3,
    SourceKind.SCALEWAY_API.value: 4,
}


def report_file(argument: str | Path) -> Path:
    """A merge input: ``DIR`` means ``DIR/report.json``."""
    path = Path(argument)
    return path / "report.json" if path.is_dir() else path


@dataclass(frozen=True, slots=True)
class _Input:
    label: str
    report: Report
    read: InputFile | None = None  # the report.json's bytes
    manifest_sha256: str | None = None  # of the manifest.json beside it, when there is one

    @property
    def audit_date(self) -> date:
        compliance = self.report.compliance
        return compliance.audit_date if compliance else self.report.run.started_at.date()


def merge_reports(
    paths: Sequence[str | Path],
    *,
    fail_on: str | None = None,
    fail_on_unknown: bool | None = None,
    lang: str | None = None,
    audit_date: date | None = None,
    registry: Registry | None = None,
    frameworks: Sequence[Framework] | None = None,
    attestations: AttestationSet | None = None,
    geo: GeoTables | None = None,
    config_input: InputFile | None = None,
) -> Report:
    """Merge the shard reports at ``paths`` (files or directories) into one report.

    ``fail_on`` (a severity or ``none``) and ``fail_on_unknown`` default to the gate the
    shards agree on, else to scan's defaults; ``lang`` to the first shard's; ``audit_date``
    (compliance only: findings keep the verdicts the shards gave) to the shards' own.
    Refusals are one-line :class:`UsageError` (exit 2).
    """
    if not paths:
        raise UsageError("merge: give the reports to merge (directories or report.json files)")
    geo = geo or GeoTables.default()
    inputs = _check([_read_shard(report_file(p), geo) for p in paths])
    first = inputs[0].report
    resources, findings = _union(inputs)
    errors = _unique(((e.scope, e.message), e) for i in inputs for e in i.report.errors)
    errors.sort(key=_error_order)
    sources = _unique(((s.path, s.kind), s) for i in inputs for s in i.report.run.sources)
    sources.sort(key=_source_order)
    policies = _unique((p.id, p) for i in inputs for p in i.report.policies)
    findings = _findings_in_order(findings, resources, errors, policies)
    judged_on = audit_date or inputs[0].audit_date
    config_files = {i.report.run.config_file for i in inputs}
    run = RunInfo(
        started_at=min(i.report.run.started_at for i in inputs),
        finished_at=max(i.report.run.finished_at for i in inputs),
        tool_version=__version__,
        sources=sources,
        area=first.run.area,
        lang=lang or first.run.lang,
        policy_set=first.run.policy_set,
        config_file=config_files.pop() if len(config_files) == 1 else None,
        shard=None,
        policy_digest=first.run.policy_digest,
        inputs=_merged_inputs(inputs, config_input, registry, attestations),
        registry_digest=(registry or builtin_registry()).digest,
        frameworks_digest=frameworks_digest(frameworks or builtin_frameworks()),
        merged_from=[
            MergedInput(
                path=i.label,
                shard=i.report.run.shard,
                started_at=i.report.run.started_at,
                finished_at=i.report.run.finished_at,
                tool_version=i.report.run.tool_version,
                manifest_sha256=i.manifest_sha256,
            )
            for i in inputs
        ],
    )
    return Report(
        run=run,
        resources=resources,
        findings=findings,
        errors=errors,
        policies=policies,
        gate=_gate(inputs, fail_on, fail_on_unknown),
        compliance=build_compliance(
            findings,
            judged_on,
            registry=registry,
            frameworks=frameworks,
            attestations=attestations,
        ),
    )


def _read_shard(file: Path, geo: GeoTables) -> _Input:
    """One shard's report, and the sha256 of the manifest written beside it (if any).

    A report that differs from what its manifest lists is refused: it was changed after
    the shard signed it (``hds-audit verify`` the shard's folder to see how).
    """
    report, record = load_report_file(file, geo=geo)
    manifest = file.parent / MANIFEST_NAME
    try:
        data = manifest.read_bytes()
    except FileNotFoundError:
        return _Input(str(file), report, record, None)
    except OSError as error:
        raise InputError(str(manifest), f"cannot be read: {error.strerror}") from None
    listed = listed_sha256(data, file.name)
    if listed is not None and listed != record.sha256:
        raise InputError(
            str(file),
            f"differs from what {manifest} lists (sha256 {listed}, read {record.sha256}): "
            "changed after it was signed",
        )
    return _Input(str(file), report, record, hashlib.sha256(data).hexdigest())


def _merged_inputs(
    inputs: Sequence[_Input],
    config_input: InputFile | None,
    registry: Registry | None,
    attestations: AttestationSet | None,
) -> list[InputFile]:
    """What the merge read (configuration, registry, attestations, the shards' reports),
    then the files the shards read, once each."""
    own = [config_input, *(None if d is None else d.input for d in (registry, attestations))]
    read = [r for r in own if r is not None] + [i.read for i in inputs if i.read is not None]
    shards = _unique(((r.path, r.sha256), r) for i in inputs for r in i.report.run.inputs)
    return [*read, *shards]


# -- checks ----------------------------------------------------------------------------------


def _check(inputs: list[_Input]) -> list[_Input]:
    """Refuse inputs that are not the slices of one run; return them in shard order."""
    shards = [i for i in inputs if i.report.run.shard is not None]
    if shards and len(shards) != len(inputs):
        whole = next(i for i in inputs if i.report.run.shard is None)
        raise UsageError(
            f"{whole.label} is not a shard (run.shard is null) but {shards[0].label} is shard "
            f"{_shard_label(shards[0])}: merge the shards of one run only"
        )
    for input_ in inputs:
        if input_.report.run.policy_digest is None:
            raise UsageError(
                f"{input_.label}: no policy set digest (written before report schema 1.3): "
                "scan again with this hds-audit"
            )
    _same(inputs, lambda i: i.report.run.policy_digest, "were judged by different policy sets")
    _same(inputs, lambda i: i.report.run.area.label, "audit different allowed areas")
    _same(
        inputs,
        lambda i: i.audit_date.isoformat(),
        "were audited on different dates; scan every shard with the same --audit-date",
    )
    if not shards:
        return inputs
    _same(inputs, lambda i: _shard_of(i).count, "come from different shard counts")
    seen: dict[int, _Input] = {}
    for input_ in inputs:
        index = _shard_of(input_).index
        if index in seen:
            raise UsageError(
                f"{seen[index].label} and {input_.label} are both shard {_shard_label(input_)}"
            )
        seen[index] = input_
    count = _shard_of(inputs[0]).count
    missing = [n for n in range(1, count + 1) if n not in seen]
    if missing:
        names = ", ".join(map(str, missing))
        verb = "is" if len(missing) == 1 else "are"
        raise UsageError(
            f"shard{'s' if len(missing) > 1 else ''} {names} of {count} {verb} missing"
        )
    return [seen[n] for n in sorted(seen)]


def _same(inputs: Sequence[_Input], value: Callable[[_Input], Any], problem: str) -> None:
    first = inputs[0]
    for other in inputs[1:]:
        if value(other) != value(first):
            raise UsageError(
                f"{first.label} and {other.label} {problem} ({value(first)} vs {value(other)})"
            )


def _shard_of(input_: _Input) -> Shard:
    shard = input_.report.run.shard
    if shard is None:  # _check lets shards and whole runs mix in no list
        raise UsageError(f"{input_.label} is not a shard")
    return shard


def _shard_label(input_: _Input) -> str:
    return _shard_of(input_).label


def _gate(inputs: Sequence[_Input], fail_on: str | None, fail_on_unknown: bool | None) -> Gate:
    """The gate asked for; what is not asked for, as the shards agree, else scan's default."""
    gates = {i.report.gate for i in inputs}
    common = gates.pop() if len(gates) == 1 else Gate()
    if fail_on is None:
        threshold = common.fail_on
    else:
        threshold = None if fail_on.lower() == "none" else Severity(fail_on.lower())
    return Gate(
        fail_on=threshold,
        fail_on_unknown=common.fail_on_unknown if fail_on_unknown is None else fail_on_unknown,
    )


# -- union and order -------------------------------------------------------------------------


def _unique(items: Iterable[tuple[Any, _T]]) -> list[_T]:
    """The first item of each key, in order."""
    kept: dict[Any, _T] = {}
    for key, item in items:
        kept.setdefault(key, item)
    return list(kept.values())


def _union(inputs: Sequence[_Input]) -> tuple[list[Resource], list[Finding]]:
    """Every input's resources and findings, without what an earlier input already had.

    Within one input nothing is dropped (a scan keeps two states' same address); across
    inputs a resource is the same when its id, source kind and file are (a tenant-level
    resource every Azure shard reads), a finding when its policy and resource are.
    """
    resources: list[Resource] = []
    findings: list[Finding] = []
    earlier_resources: set[ResourceKey] = set()
    earlier_findings: set[tuple[str, ResourceKey]] = set()
    host_findings: dict[tuple[str, ResourceKey], int] = {}
    for input_ in inputs:
        keys: set[ResourceKey] = set()
        for resource in input_.report.resources:
            key = resource_key(resource)
            if key not in earlier_resources:
                keys.add(key)
                resources.append(resource)
        judged: set[tuple[str, ResourceKey]] = set()
        for finding in input_.report.findings:
            identity = (finding.policy.id, resource_key(finding.resource))
            if finding.covers is not None:  # one per host scope: the shards' covers unite
                at = host_findings.get(identity)
                if at is None:
                    host_findings[identity] = len(findings)
                    findings.append(finding)
                else:
                    covered = findings[at].covers or ()
                    have = set(covered)
                    extra = tuple(i for i in finding.covers if i not in have)
                    findings[at] = findings[at]._replace(covers=covered + extra)
            elif identity not in earlier_findings:
                judged.add(identity)
                findings.append(finding)
        earlier_resources |= keys
        earlier_findings |= judged
    resources.sort(key=_resource_order)
    return resources, findings


def _path_order(path: str | None) -> tuple[str, ...]:
    """A file's place as ``sorted()`` lists the files of a directory (by path parts)."""
    return PurePath(path).parts if path else ()


def _resource_order(resource: Resource) -> tuple[Any, ...]:
    source = resource.source
    rank = _COLLECTOR_RANK.get(source.kind.value, 1)
    if rank == 0:  # the AWS collector sorts by account, region, id
        return (rank, source.account or "", resource.region or "", resource.id)
    if rank in (2, 3):  # Azure, Google Cloud: by subscription / project, then as listed
        return (rank, source.account or "")
    return (rank, _path_order(source.file))


def _source_order(source: CollectedSource) -> tuple[Any, ...]:
    rank = _COLLECTOR_RANK.get(source.kind, 1)
    return (rank, _path_order(source.path) if rank == 1 else (source.path,))


def _error_order(error: CollectionError) -> tuple[Any, ...]:
    kind = str(error.details.get("source_kind") or "")
    rank = _COLLECTOR_RANK.get(kind, 2 if error.source.startswith("azure:") else 1)
    if error.source.startswith("aws:"):
        rank = 0
    if rank == 0:  # the AWS collector sorts its errors by scope
        return (rank, error.scope)
    return (rank, _path_order(error.source) if rank == 1 else (error.source,))


def _findings_in_order(
    findings: list[Finding],
    resources: Sequence[Resource],
    errors: Sequence[CollectionError],
    policies: Sequence[PolicyMeta],
) -> list[Finding]:
    """Findings on resources in resource order, then host-level findings in the order a scan
    meets their scopes (first resource covered, then policy), then those on scopes errors hid.
    A host-level finding's covered ids follow the resource order, as in a scan."""
    position: dict[ResourceKey, int] = {}
    first_of: dict[Covered, int] = {}
    for index, resource in enumerate(resources):
        position.setdefault(resource_key(resource), index)
        first_of.setdefault(Covered(resource.id, project_of(resource.source)), index)
    policy_rank = {meta.id: index for index, meta in enumerate(policies)}
    hidden: dict[str, int] = {}
    for index, error in enumerate(errors):
        hidden.setdefault(error.scope, index)
    after = len(errors)
    end = len(resources)

    def covered_order(covered: Covered) -> int:
        return first_of.get(covered, end)

    ordered: list[Finding] = []
    for finding in findings:
        if finding.covers is not None:
            finding = finding._replace(covers=tuple(sorted(finding.covers, key=covered_order)))
        ordered.append(finding)

    def order(finding: Finding) -> tuple[int, int, int]:
        if finding.covers is not None:
            first = covered_order(finding.covers[0]) if finding.covers else end
            return (1, first, policy_rank.get(finding.policy.id, len(policy_rank)))
        at = position.get(resource_key(finding.resource))
        if at is not None:
            return (0, at, 0)
        return (2, hidden.get(finding.resource.id, after), 0)

    return sorted(ordered, key=order)
