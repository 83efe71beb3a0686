"""Shard reports made by the real pipeline (Terraform fixtures) with a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.engine import builtin_policies
from hds_audit.frameworks.compliance import build_compliance
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import (
    CollectionError,
    Evidence,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports.json_report import write_json
from hds_audit.reports.model import Report
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.sharding import Shard

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "terraform_fixtures"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
AUDIT_DATE = date(2026, 11, 29)

COMPLIANT_PLAN = FIXTURES / "compliant" / "plan.json"
COMPLIANT_STATE = FIXTURES / "compliant" / "terraform.tfstate"
RECORDS_PLAN = FIXTURES / "patient-records" / "plan.json"
RECORDS_STATE = FIXTURES / "patient-records" / "terraform.tfstate"
TRUNCATED = FIXTURES / "broken" / "truncated.json"  # a collection error and its unknowns

# Three slices of the bundled estate, and the same files in the order a directory scan reads.
SLICES: tuple[tuple[Path, ...], ...] = (
    (COMPLIANT_PLAN,),
    (COMPLIANT_STATE, RECORDS_PLAN),
    (RECORDS_STATE, TRUNCATED),
)
ALL_FILES = tuple(sorted((f for s in SLICES for f in s), key=lambda p: p.parts))


def scan(
    files: Sequence[Path],
    *,
    shard: Shard | None = None,
    area: str = "eu",
    audit_date: date = AUDIT_DATE,
    started: datetime = NOW,
) -> Report:
    """A real run of ``files`` (collector, engine) on a fixed clock and audit date."""
    options = ScanOptions(
        collectors=[TerraformCollector(tuple(str(f) for f in files))],
        area=AllowedArea.parse(area),
        audit_date=audit_date,
        shard=shard,
    )
    return run_scan(options, clock=lambda: started)


def write(report: Report, folder: Path) -> Path:
    """``folder/report.json``; returns the folder (what `merge` is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json(report, folder / "report.json")
    return folder


def shard_dirs(tmp_path: Path, slices: Sequence[Sequence[Path]] = SLICES) -> list[Path]:
    """One folder per slice, shard i of len(slices), each started a minute after the last."""
    count = len(slices)
    return [
        write(
            scan(files, shard=Shard(i, count), started=NOW + timedelta(minutes=i)),
            tmp_path / f"shard-{i}",
        )
        for i, files in enumerate(slices, 1)
    ]


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def edit(folder: Path, change: Any) -> Path:
    """Apply ``change(data)`` to ``folder/report.json`` (a report from elsewhere)."""
    file = folder / "report.json"
    data = read(file)
    change(data)
    file.write_text(json.dumps(data), encoding="utf-8")
    return folder


def tenant_policy() -> PolicyMeta:
    return next(p.meta for p in builtin_policies() if p.id == "HDS_TEN_001")


def tenant_resource() -> Resource:
    """What every Azure shard reads once: the tenant and its data boundary."""
    return Resource(
        id="/providers/Microsoft.Resources/dataBoundaries/default",
        provider="azure",
        type="Microsoft.Resources/dataBoundaries",
        kind=Kind.OTHER,
        location=GeoTables.default().locate("azure", None),
        source=Source(kind=SourceKind.AZURE_API, account="tenant/t-1"),
        name="EU",
    )


def with_tenant(report: Report, error: CollectionError | None = None) -> Report:
    """``report`` plus the tenant resource, its finding, and optionally a collection error."""
    tenant = tenant_resource()
    evidence = (Evidence("attributes.boundary", {"value": "EU"}),)  # unhashable: a mapping
    finding = Finding(tenant_policy(), tenant, Status.PASS, evidence)
    return changed(
        report,
        resources=[*report.resources, tenant],
        findings=[*report.findings, finding],
        errors=[*report.errors, *([error] if error else [])],
    )


def changed(report: Report, **fields: Any) -> Report:
    """``report`` with ``fields`` replaced and its compliance recomputed from the findings."""
    report = replace(report, **fields)
    report.compliance = build_compliance(report.findings, AUDIT_DATE)
    return report
