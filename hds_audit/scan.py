"""The audit pipeline: collect -> evaluate -> report. No I/O beyond what collectors do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from hds_audit import __version__
from hds_audit._gc import paused_gc
from hds_audit.collectors.account_settings import settle_ebs_defaults
from hds_audit.collectors.base import Collection, Collector
from hds_audit.collectors.terraform import EMPTY_INPUT
from hds_audit.engine import (
    Policy,
    evaluate,
    load_policies,
    policy_set_digest,
    unknown_for_errors,
)
from hds_audit.errors import Unreachable, UsageError
from hds_audit.evidence.inputs import InputFile
from hds_audit.frameworks import builtin_frameworks, frameworks_digest
from hds_audit.frameworks.compliance import build_compliance
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import EMPTY_MAPPING, CollectionError, PolicyMeta, Resource
from hds_audit.progress import SILENT, ScanProgress
from hds_audit.providers.registry import builtin_registry
from hds_audit.reports.model import Gate, Report, RunInfo
from hds_audit.secrets import scrub_message

if TYPE_CHECKING:
    from hds_audit.attestations import AttestationSet
    from hds_audit.baseline import Comparison
    from hds_audit.frameworks import Framework
    from hds_audit.providers.registry import Registry
    from hds_audit.sharding import Shard
    from hds_audit.waivers import WaiverSet

Clock = Callable[[], datetime]

NOTHING_TO_AUDIT = (
    "nothing to audit: give Terraform states or plans (PATH or --terraform PATH), --aws, "
    "--azure, --gcp, --scaleway, --ovh, --outscale, or their settings in hds-audit.yaml "
    "(--config FILE)"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_something_read(collection: Collection) -> None:
    """Raise ``UsageError`` when the inputs were only folders holding no state or plan.

    A run that read zero sources must never give a green verdict (exit 2, one line).
    """
    empty = [e for e in collection.errors if e.kind == EMPTY_INPUT]
    if empty and len(empty) == len(collection.errors) and not collection.sources:
        raise UsageError("; ".join(f"nothing to audit in {e.source}: {e.message}" for e in empty))


def check_reached(part: Collection) -> None:
    """Raise ``Unreachable`` (exit 3) when a collector read nothing because its endpoint
    could not be reached: that part of the audit could not complete at all."""
    errors = part.errors
    read = part.sources or part.resources or part.findings
    if errors and not read and all(e.kind == "unreachable" for e in errors):
        raise Unreachable(
            f"{errors[0].message}; the audit could not complete: check the network, "
            "the proxy (HTTPS_PROXY) and the endpoint"
        )


def judged_attribute_roots(policies: Sequence[Policy]) -> frozenset[str]:
    """The top-level raw attributes some policy reads."""
    return frozenset[str]().union(*(p.attribute_roots for p in policies))


def keep_judged_attributes(resources: list[Resource], roots: frozenset[str]) -> list[Resource]:
    """Drop the raw attributes no policy reads.

    Normalisation has already taken what it needs; the raw attributes of a large state weigh
    more than the whole model, and no report shows them.
    """
    kept: list[Resource] = []
    for resource in resources:
        attributes = resource.attributes
        if attributes and not attributes.keys() <= roots:
            trimmed = {k: v for k, v in attributes.items() if k in roots}
            resource = dataclasses.replace(resource, attributes=trimmed or EMPTY_MAPPING)
        kept.append(resource)
    return kept


@dataclass(slots=True)
class ScanOptions:
    """Everything a scan needs, already validated (see :mod:`hds_audit.config`)."""

    collectors: list[Collector] = field(default_factory=list)
    area: AllowedArea = field(default_factory=lambda: AllowedArea.parse("eu"))
    policy_dirs: list[str] = field(default_factory=list)
    gate: Gate = field(default_factory=Gate)
    lang: str = "fr"
    config_file: str | None = None
    waivers: WaiverSet | None = None  # accepted risks, applied after evaluation
    baseline: Comparison | None = None  # an earlier report: only new findings gate
    # Certified hosts are judged on this date (--audit-date); None: the run's clock, today.
    audit_date: date | None = None
    registry: Registry | None = None  # certified-host registry; None: the built-in one
    frameworks: Sequence[Framework] | None = None  # None: the built-in mappings
    attestations: AttestationSet | None = None  # answers to manual requirements
    shard: Shard | None = None  # --shard I/N: recorded in the report for `hds-audit merge`
    progress: ScanProgress = SILENT  # what the scan is doing, on stderr (--progress)
    config_input: InputFile | None = None  # the configuration file, as read


def _folded_resources(collection: Collection) -> list[Resource]:
    """The resources of the findings a collector judged itself (one per id)."""
    seen: dict[str, Resource] = {}
    for finding in collection.findings:
        seen.setdefault(finding.resource.id, finding.resource)
    return list(seen.values())


def _with_collected(metas: list[PolicyMeta], collected: list[PolicyMeta]) -> list[PolicyMeta]:
    """The engine's policies, then those collectors' own findings cite (one per id)."""
    seen = {m.id for m in metas}
    for meta in collected:
        if meta.id not in seen:
            seen.add(meta.id)
            metas.append(meta)
    return metas


def run_inputs(options: ScanOptions, collection: Collection) -> list[InputFile]:
    """Every file the run read, in reading order: configuration, waivers, baseline,
    registry, attestations, then the Terraform files (as their reader hashed them)."""
    loaded = (options.waivers, options.baseline, options.registry, options.attestations)
    read = [options.config_input, *(None if data is None else data.input for data in loaded)]
    inputs = [record for record in read if record is not None]
    inputs.extend(
        InputFile(s.path, s.kind, s.size, s.sha256)
        for s in collection.sources
        if s.sha256 is not None and s.size is not None
    )
    return inputs


def _scrubbed(error: CollectionError) -> CollectionError:
    """A collection error as every output may show it: no secret in its words (an API's own
    message, an endpoint URL given with credentials)."""
    message, scope, source = (scrub_message(t) for t in (error.message, error.scope, error.source))
    if (message, scope, source) == (error.message, error.scope, error.source):
        return error
    return dataclasses.replace(error, message=message, scope=scope, source=source)


def run_scan(
    options: ScanOptions,
    *,
    geo: GeoTables | None = None,
    clock: Clock = utc_now,
    policies: Sequence[Policy] | None = None,
) -> Report:
    """Run one audit and return its report (writers are called by the caller)."""
    if not options.collectors and options.shard is None:  # a shard may own nothing
        raise UsageError(NOTHING_TO_AUDIT)
    geo = geo or GeoTables.default()
    policies = list(policies) if policies is not None else load_policies(options.policy_dirs)
    started = clock()
    collection = Collection()
    with paused_gc():
        roots = judged_attribute_roots(policies)
        for collector in options.collectors:
            # Collectors that can drop unread raw attributes early do (large states).
            narrow = getattr(collector, "with_attribute_roots", None)
            part = (narrow(roots) if narrow else collector).collect(geo)
            check_reached(part)
            collection.extend(part)
        if options.shard is None:  # a shard's folders may all be empty: its report says so
            check_something_read(collection)
        # A Terraform volume waiting on the account's EBS default takes the live reading.
        collection.resources = settle_ebs_defaults(collection.resources)
        collection.resources = keep_judged_attributes(collection.resources, roots)
        options.progress.stage(
            f"evaluating {len(policies)} policies on {len(collection.resources):,} resources"
        )
        audit_date = options.audit_date or started.date()
        findings = evaluate(
            policies,
            collection.resources,
            options.area,
            registry=options.registry,
            audit_date=audit_date,
        )
        collection.errors = [_scrubbed(e) for e in collection.errors]
        findings.extend(unknown_for_errors(policies, collection.errors, geo))
        findings.extend(collection.findings)  # judged by the collector (Checkov)
        waived = None
        if options.waivers is not None:  # the expiry is judged on the run's own clock
            findings, waived = options.waivers.apply(findings, started.date())
    run = RunInfo(
        started_at=started,
        finished_at=clock(),
        tool_version=__version__,
        sources=collection.sources,
        area=options.area,
        lang=options.lang,
        policy_set="builtin" + ("+" + ",".join(options.policy_dirs) if options.policy_dirs else ""),
        config_file=options.config_file,
        shard=options.shard,
        policy_digest=policy_set_digest(policies),
        inputs=run_inputs(options, collection),
        registry_digest=(options.registry or builtin_registry()).digest,
        frameworks_digest=frameworks_digest(options.frameworks or builtin_frameworks()),
    )
    return Report(
        run=run,
        resources=[*collection.resources, *_folded_resources(collection)],
        findings=findings,
        errors=collection.errors,
        policies=_with_collected([p.meta for p in policies], collection.policies),
        gate=options.gate,
        baseline=options.baseline,
        waivers=waived,
        compliance=build_compliance(
            findings,
            audit_date,
            registry=options.registry,
            frameworks=options.frameworks,
            attestations=options.attestations,
        ),
    )
