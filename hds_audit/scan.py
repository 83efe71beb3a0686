"""The audit pipeline: collect -> evaluate -> report. No I/O beyond what collectors do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hds_audit import __version__
from hds_audit._gc import paused_gc
from hds_audit.collectors.base import Collection, Collector
from hds_audit.engine import Policy, evaluate, load_policies, unknown_for_errors
from hds_audit.errors import UsageError
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.reports.model import Gate, Report, RunInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ScanOptions:
    """Everything a scan needs, already validated (see :mod:`hds_audit.config`)."""

    collectors: list[Collector] = field(default_factory=list)
    area: AllowedArea = field(default_factory=lambda: AllowedArea.parse("eu"))
    policy_dirs: list[str] = field(default_factory=list)
    gate: Gate = field(default_factory=Gate)
    lang: str = "fr"
    config_file: str | None = None


def run_scan(
    options: ScanOptions,
    *,
    geo: GeoTables | None = None,
    clock: Clock = utc_now,
    policies: Sequence[Policy] | None = None,
) -> Report:
    """Run one audit and return its report (writers are called by the caller)."""
    if not options.collectors:
        raise UsageError("nothing to audit: give --terraform PATH (state, plan JSON or directory)")
    geo = geo or GeoTables.default()
    policies = list(policies) if policies is not None else load_policies(options.policy_dirs)
    started = clock()
    collection = Collection()
    with paused_gc():
        for collector in options.collectors:
            collection.extend(collector.collect(geo))
        findings = evaluate(policies, collection.resources, options.area)
        findings.extend(unknown_for_errors(policies, collection.errors, geo))
    run = RunInfo(
        started_at=started,
        finished_at=clock(),
        tool_version=__version__,
        sources=collection.sources,
        area=options.area,
        lang=options.lang,
        policy_set="builtin" + ("+" + ",".join(options.policy_dirs) if options.policy_dirs else ""),
        config_file=options.config_file,
    )
    return Report(
        run=run,
        resources=collection.resources,
        findings=findings,
        errors=collection.errors,
        policies=[p.meta for p in policies],
        gate=options.gate,
    )
