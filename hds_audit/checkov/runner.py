"""Run Checkov as a library, offline, and fold its results into hds-audit findings.

Checkov reaches for its vendor platform (guidelines, mappings, telemetry, package updates)
unless told not to: :func:`offline_environment` tells it not to, before Checkov is imported
(its settings are read at import time), and no API key ever reaches it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import yaml

from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.terraform.normalise import type_table
from hds_audit.engine import Policy
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import (
    CollectionError,
    Evidence,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)

# Every switch that keeps Checkov off the network (checkov/common/util/env_vars_config.py,
# checkov/main.py): no platform mapping or guideline download, no SCA package scan, no update
# check, no secret validation, no external modules.
OFFLINE_ENV: Mapping[str, str] = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "True",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CKV_VALIDATE_SECRETS": "False",
    "CKV_GITHUB_CONFIG_FETCH_DATA": "False",
    "CKV_GITLAB_CONFIG_FETCH_DATA": "False",
    "BC_ENABLE_PERSIST_GRAPHS": "False",
    "LOG_LEVEL": "ERROR",
}
# Credentials that would make Checkov talk to its platform: never passed on.
_API_KEYS = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL")


@contextmanager
def offline_environment() -> Iterator[None]:
    """Set :data:`OFFLINE_ENV` and hide platform credentials for the duration."""
    saved = {k: os.environ.get(k) for k in (*OFFLINE_ENV, *_API_KEYS)}
    os.environ.update(OFFLINE_ENV)
    for key in _API_KEYS:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pack_directory() -> Path:
    """The directory to give ``checkov --external-checks-dir``."""
    return Path(str(package_files.files("hds_audit.checkov").joinpath("pack")))


@dataclass(frozen=True, slots=True)
class MappedCheck:
    """What ``mapping.yaml`` says of one Checkov check."""

    id: str
    category: str
    severity: Severity
    frameworks: Mapping[str, tuple[str, ...]]


@cache
def checkov_mapping() -> Mapping[str, MappedCheck]:
    """``mapping.yaml``: Checkov check id -> category, severity, requirements."""
    text = package_files.files("hds_audit.checkov").joinpath("mapping.yaml").read_text("utf-8")
    checks = yaml.safe_load(text)["checks"]
    return {
        check_id: MappedCheck(
            id=check_id,
            category=str(entry["category"]),
            severity=Severity(entry["severity"]),
            frameworks={k: tuple(str(r) for r in v) for k, v in entry["frameworks"].items()},
        )
        for check_id, entry in checks.items()
    }


def policy_meta(check: MappedCheck, name: str) -> PolicyMeta:
    """The :class:`PolicyMeta` a folded Checkov finding carries."""
    return PolicyMeta(
        id=check.id,
        name=name,
        category=check.category,
        severity=check.severity,
        rationale=f"Checkov built-in check {check.id}: {name}.",
        remediation=f"See the Checkov documentation of {check.id}.",
        frameworks=check.frameworks,
        file="checkov",
    )


@dataclass(slots=True)
class CheckovResult:
    """What one Checkov run gave: findings (pack + built-in), errors, the policies they cite."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    policies: list[PolicyMeta] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


_RESULT = {"PASSED": Status.PASS, "FAILED": Status.FAIL, "UNKNOWN": Status.UNKNOWN}


def _record_resource(
    record: Any, source_kind: SourceKind, geo: GeoTables, judged: Mapping[str, Resource]
) -> Resource:
    """The resource a Checkov record names: the pack's normalised one when there is one."""
    address = str(record.resource)
    start, end = [*record.file_line_range, 0, 0][:2]
    lines = {"file": str(record.file_path), "lines": [int(start), int(end)]}
    file = str(record.file_abs_path or record.file_path)
    known = judged.get(address)
    if known is not None:
        return dataclasses.replace(
            known, attributes={**known.attributes, **lines}, source=Source(source_kind, file)
        )
    rtype = address.rsplit(".", 2)[-2] if address.count(".") >= 1 else address
    table = type_table()
    provider = table.provider(rtype.split("_", 1)[0])
    return Resource(
        id=address,
        provider=provider,
        type=rtype,
        kind=table.spec(rtype).kind if rtype in table.specs else Kind.OTHER,
        location=geo.locate(provider, None),
        source=Source(kind=source_kind, file=file),
        attributes=lines,
    )


def _lines_evidence(resource: Resource) -> tuple[Evidence, ...]:
    """Checkov's line range of the resource, as evidence the JSON report shows."""
    lines = resource.attributes.get("lines")
    if not lines or not any(lines):
        return ()
    return (Evidence("checkov.file_line_range", tuple(lines)),)


def _absolute(finding: Finding, root: Path) -> Finding:
    """A pack finding whose source names the file on disk (Checkov gives it root-relative)."""
    evidence = finding.evidence + _lines_evidence(finding.resource)
    file = finding.resource.source.file
    if not file or Path(file).is_file():
        return finding._replace(evidence=evidence)
    on_disk = root / file.lstrip("/\\")
    source = Source(kind=finding.resource.source.kind, file=str(on_disk))
    resource = dataclasses.replace(finding.resource, source=source)
    return finding._replace(resource=resource, evidence=evidence)


def _parse_message(path: str) -> str:
    """Checkov's parser's own message for a file it could not parse (it keeps only the path)."""
    try:
        import hcl2

        hcl2.loads(  # type: ignore[attr-defined,unused-ignore]
            Path(path).read_text(encoding="utf-8", errors="replace")
        )
    except Exception as error:  # the parser's message is the point: any exception type
        text = " ".join(str(error).split())
        return text[:300] or type(error).__name__
    return "Checkov could not parse this file"


def _parse_errors(report: Any) -> list[CollectionError]:
    return [
        CollectionError(
            source=str(path),
            scope=str(path),
            message=f"Checkov could not parse it: {_parse_message(str(path))}",
        )
        for path in sorted(set(report.parsing_errors))
    ]


def run_checkov(
    target: str,
    *,
    plan: bool = False,
    policies: Sequence[Policy] | None = None,
    area: AllowedArea | None = None,
    geo: GeoTables | None = None,
    builtin_checks: Sequence[str] | None = None,
    with_pack: bool | None = None,
) -> CheckovResult:
    """Run Checkov on a directory of HCL (or a plan JSON file with ``plan=True``).

    The HDS pack runs with every verdict captured (unknowns too); Checkov's built-in checks
    named in ``mapping.yaml`` (or ``builtin_checks``) are folded as findings carrying
    Checkov's file and line range. On a plan the pack is off by default (``with_pack``):
    hds-audit's own Terraform collector judges a plan with every cross-resource fact, and
    Checkov's findings are placed on the resources it normalises.
    """
    with_pack = not plan if with_pack is None else with_pack
    geo = geo or GeoTables.default()
    area = area or AllowedArea.parse("eu")
    mapping = checkov_mapping()
    wanted = list(builtin_checks if builtin_checks is not None else mapping)
    with offline_environment():
        from checkov.runner_filter import RunnerFilter

        from hds_audit.checkov.checks import build_checks, pack_policies, unregister

        sink: list[Finding] = []
        unregister(p.meta.id for p in pack_policies(policies))
        pack = pack_policies(policies) if with_pack else []
        build_checks(pack, area, geo, sink)
        ids = [*wanted, *(p.meta.id for p in pack)]
        logging.getLogger("checkov").setLevel(logging.ERROR)
        runner: Any
        if plan:
            from checkov.terraform.plan_runner import Runner as PlanRunner

            runner = PlanRunner()
            report = runner.run(
                root_folder=None,
                files=[target],
                runner_filter=RunnerFilter(framework=["terraform_plan"], checks=ids),
            )
        else:
            from checkov.terraform.runner import Runner

            runner = Runner()
            report = runner.run(
                root_folder=target,
                runner_filter=RunnerFilter(framework=["terraform"], checks=ids),
            )
    if isinstance(report, list):  # Checkov returns a list for some inputs
        report = report[0]
    source_kind = SourceKind.TERRAFORM_PLAN
    result = CheckovResult(errors=_parse_errors(report))
    root = Path(target).resolve()
    root = root.parent if plan else root
    result.findings.extend(_absolute(f, root) for f in sink)
    judged = {f.resource.id: f.resource for f in result.findings}
    if plan and not judged:
        from hds_audit.collectors.terraform import collect_file

        judged = {r.id: r for r in collect_file(Path(target), target, geo).resources}
    metas: dict[str, PolicyMeta] = {}
    for record in (*report.passed_checks, *report.failed_checks):
        mapped = mapping.get(record.check_id)
        if mapped is None:
            continue
        meta = metas.get(mapped.id) or metas.setdefault(
            mapped.id, policy_meta(mapped, str(record.check_name))
        )
        status = _RESULT.get(str(record.check_result["result"].name), Status.UNKNOWN)
        evaluated = record.check_result.get("evaluated_keys") or []
        resource = _record_resource(record, source_kind, geo, judged)
        result.findings.append(
            Finding(
                meta,
                resource,
                status,
                tuple(Evidence(str(key), None) for key in evaluated) + _lines_evidence(resource),
                f"Checkov {record.check_id}: {record.check_name}",
            )
        )
    result.policies = [*(p.meta for p in pack), *metas.values()]
    result.files = sorted({f.resource.source.file or "" for f in result.findings} - {""})
    return result


@dataclass(frozen=True, slots=True)
class CheckovCollector:
    """``--terraform-code DIR`` / ``--with-checkov PLAN``: Checkov's verdicts as a collector.

    Its resources are not judged again by the engine: it returns findings, not resources.
    """

    targets: tuple[str, ...]
    plan: bool = False
    area: AllowedArea = field(default_factory=lambda: AllowedArea.parse("eu"))
    name: str = "checkov"

    def collect(self, geo: GeoTables) -> Collection:
        collection = Collection()
        for target in self.targets:
            if not Path(target).exists():
                collection.errors.append(
                    CollectionError(source=target, scope=target, message="does not exist")
                )
                continue
            result = run_checkov(target, plan=self.plan, area=self.area, geo=geo)
            collection.errors.extend(result.errors)
            collection.findings.extend(result.findings)
            collection.policies.extend(result.policies)
            collection.sources.append(
                CollectedSource(
                    path=target,
                    kind="terraform-plan" if self.plan else "terraform-code",
                    resources=len({f.resource.id for f in result.findings}),
                    notes=["scanned with Checkov (offline)"],
                )
            )
        return collection
