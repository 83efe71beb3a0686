"""``report.json``: the machine-readable contract (schema in ``schema/report.schema.json``).

Written as a stream, one resource or finding per line, so a 100,000-resource report never
exists twice in memory; written atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from importlib import resources as package_files
from itertools import compress, islice, repeat
from operator import attrgetter, is_not
from pathlib import Path
from typing import IO, Any

from hds_audit.model import (
    CollectedSource,
    CollectionError,
    Evidence,
    Finding,
    PolicyMeta,
    Replica,
    Resource,
    Source,
    stores_data_of,
)
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.json_lines import (
    BATCH_LINES,
    FindingLines,
    MessageTable,
    host_parts,
    resource_lines,
)
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import SCHEMA_VERSION, Report
from hds_audit.reports.strict_json import strict_encoder
from hds_audit.sharding import Shard

_ENCODE = strict_encoder()  # never NaN / Infinity: reports are strict JSON
_COVERS = attrgetter("covers")


def schema_text() -> str:
    """The JSON Schema of the report, as shipped in the package."""
    return (
        package_files.files("hds_audit.reports")
        .joinpath("schema/report.schema.json")
        .read_text(encoding="utf-8")
    )


def _source(source: Source, address: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": source.kind}
    if source.file:
        data["file"] = source.file
    if address:
        data["address"] = address
    if source.account:
        data["account"] = source.account
    if source.region:
        data["region"] = source.region
    return data


def _replica(replica: Replica) -> dict[str, Any]:
    loc = replica.location
    return {
        "kind": replica.kind,
        "target": replica.target,
        "region": loc.region,
        "country": loc.country,
        "in_eu": loc.in_eu,
        "in_eea": loc.in_eea,
    }


def resource_dict(resource: Resource) -> dict[str, Any]:
    """One resource as the contract shows it."""
    loc = resource.location
    encryption = resource.encryption
    is_terraform = resource.source.kind.startswith("terraform")
    data: dict[str, Any] = {
        "id": resource.id,
        "provider": resource.provider,
        "type": resource.type,
        "kind": resource.kind,
        "stores_data": resource.stores_data,
        "name": resource.name,
        "region": loc.region,
        "country": loc.country,
        "in_eu": loc.in_eu,
        "in_eea": loc.in_eea,
        "non_regional": loc.non_regional,
        "encryption": None
        if encryption is None
        else {
            "at_rest": encryption.at_rest,
            "key_owner": encryption.key_owner,
            "key_id": encryption.key_id,
        },
        "replicas": None if resource.replicas is None else [_replica(r) for r in resource.replicas],
        "unknowns": dict(resource.unknowns),
        "source": _source(resource.source, resource.id if is_terraform else None),
    }
    if resource.notes:  # since 1.5, only when a known value rests on an unstated default
        data["notes"] = dict(resource.notes)
    return data


def _evidence_list(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [{"path": e.path, "value": e.value, "note": e.note} for e in evidence]


def finding_dict(finding: Finding, baseline: str | None = None) -> dict[str, Any]:
    """One finding as the contract shows it (``baseline``: new / unchanged, with --baseline)."""
    resource = finding.resource
    data = {
        "policy_id": finding.policy.id,
        "category": finding.policy.category,
        "severity": finding.policy.severity,
        "status": finding.status,
        "resource_id": resource.id,
        "resource_type": resource.type,
        "region": resource.location.region,
        "source_file": resource.source.file,
        "source_kind": resource.source.kind,
        "message": finding_message(finding),
        "reason": finding.reason,
        "evidence": _evidence_list(finding.evidence),
    }
    if finding.covers is not None:
        data.update(host_parts(finding))
    if baseline is not None:
        data["baseline"] = baseline
    return data


def policy_dict(meta: PolicyMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": meta.name,
        "category": meta.category,
        "severity": meta.severity.value,
        "rationale": meta.rationale,
        "remediation": meta.remediation,
        "remediation_terraform": meta.remediation_terraform,
        "frameworks": {k: list(v) for k, v in meta.frameworks.items()},
        "file": meta.file,
        "translations": {lang: dict(texts) for lang, texts in meta.translations.items()},
    }


def error_dict(error: CollectionError) -> dict[str, Any]:
    return {
        "source": error.source,
        "scope": error.scope,
        "message": error.message,
        "kind": error.kind,
    }


def _shard(shard: Shard | None) -> dict[str, int] | None:
    return None if shard is None else {"index": shard.index, "count": shard.count}


def _audit_date(report: Report) -> date:
    """The date certificates and attestations were judged on (as in ``compliance``)."""
    return report.compliance.audit_date if report.compliance else report.run.started_at.date()


def _collected(source: CollectedSource) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": source.path,
        "kind": source.kind,
        "resources": source.resources,
        "terraform_version": source.terraform_version,
        "notes": source.notes,
    }
    if source.sha256 is not None:  # a file: the bytes read (schema 1.4)
        data["size"], data["sha256"] = source.size, source.sha256
    if source.identity is not None or source.regions is not None:  # a live source
        data["identity"], data["regions"] = source.identity, source.regions
    return data


def run_dict(report: Report) -> dict[str, Any]:
    run = report.run
    merged = run.merged_from
    return {
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "tool_version": run.tool_version,
        "sources": [_collected(s) for s in run.sources],
        "inputs": [i.as_dict() for i in run.inputs],
        "registry_digest": run.registry_digest,
        "frameworks_digest": run.frameworks_digest,
        "policy_set": {
            "name": run.policy_set,
            "policies": [p.id for p in report.policies],
            "digest": run.policy_digest,
        },
        "allowed_area": {
            "mode": run.area.mode,
            "label": run.area.label,
            "description": run.area.describe("en"),
        },
        "config_file": run.config_file,
        "lang": run.lang,
        "audit_date": _audit_date(report).isoformat(),
        "shard": _shard(run.shard),
        "merged_from": None
        if merged is None
        else [
            {
                "path": m.path,
                "shard": _shard(m.shard),
                "started_at": m.started_at.isoformat(),
                "finished_at": m.finished_at.isoformat(),
                "tool_version": m.tool_version,
                "manifest_sha256": m.manifest_sha256,
            }
            for m in merged
        ],
    }


def _write_batches(
    stream: IO[str], key: str, batches: Iterable[list[str]], last: bool = False
) -> None:
    """Write ``"key": [`` one element per line ``]``, a batch of lines at a time."""
    stream.write(f'"{key}": [')
    separator = "\n"
    for batch in batches:
        if batch:
            stream.write(separator)
            stream.write(",\n".join(batch))
            separator = ",\n"
    stream.write("]" if separator == "\n" else "\n]")
    stream.write("\n" if last else ",\n")


def _write_lines(stream: IO[str], key: str, lines: Iterable[str], last: bool = False) -> None:
    """Write ``"key": [`` one element per line ``]``, in batches of a thousand lines."""
    iterator = iter(lines)
    batches = iter(lambda: list(islice(iterator, BATCH_LINES)), [])
    _write_batches(stream, key, batches, last)


def _write_array(
    stream: IO[str], key: str, items: Iterable[Mapping[str, Any]], last: bool = False
) -> None:
    _write_lines(stream, key, (_ENCODE(item) for item in items), last)


def write_drift_sections(stream: IO[str], report: Report) -> None:
    """``baseline``, ``fixed`` and ``waivers`` (schema 1.1; see :mod:`hds_audit.baseline`)."""
    from hds_audit.reports.drift_json import baseline_dict, fixed_dict, waivers_dict

    stream.write(f'"baseline": {_ENCODE(baseline_dict(report))},\n')
    _write_array(stream, "fixed", (fixed_dict(f) for f in report.fixed))
    stream.write(f'"waivers": {_ENCODE(waivers_dict(report))},\n')


def _compliance(report: Report) -> dict[str, Any]:
    """Requirement verdicts, host certificates, attestations (schema 1.2)."""
    from hds_audit.frameworks.compliance import build_compliance, compliance_dict

    compliance = report.compliance or build_compliance(report.findings, _audit_date(report))
    return compliance_dict(compliance, _storing_providers(report.resources))


_PROVIDER_KIND = attrgetter("provider", "kind", "holds_data")


def _storing_providers(resources: Iterable[Resource]) -> set[str]:
    """The providers of the resources that store data (the few distinct provider, kind and
    flag triples of 100,000 resources, gathered in C, judged once each)."""
    return {
        p for p, kind, holds in set(map(_PROVIDER_KIND, resources)) if stores_data_of(kind, holds)
    }


def write_json(report: Report, path: Path) -> Path:
    """Write ``report.json`` to ``path`` atomically; return the path."""
    with atomic_writer(path) as stream:
        stream.write("{\n")
        stream.write(f'"schema_version": {_ENCODE(SCHEMA_VERSION)},\n')
        stream.write(f'"run": {_ENCODE(run_dict(report))},\n')
        stream.write(f'"summary": {_ENCODE(report.summary())},\n')
        stream.write(f'"compliance": {_ENCODE(_compliance(report))},\n')
        _write_array(stream, "policies", (policy_dict(p) for p in report.policies))
        _write_array(stream, "errors", (error_dict(e) for e in report.errors))
        write_drift_sections(stream, report)
        _write_batches(stream, "resources", resource_lines(report.resources))
        messages = MessageTable()
        for error in report.errors:
            messages.add(error.message)
        for source in report.run.sources:
            for note in source.notes:
                messages.add(note)
        findings = report.findings  # host-level ones: their scope's label (Amazon Web Services
        for finding in compress(findings, map(is_not, map(_COVERS, findings), repeat(None))):
            messages.add(finding.resource.name)  # (backup))
        state = report.baseline.state if report.baseline is not None else None
        stream.write('"findings": [')
        wrote = FindingLines(state, messages).write(stream, report.findings)
        stream.write("\n],\n" if wrote else "],\n")
        stream.write('"messages": ')
        messages.write(stream)
        stream.write("\n")
        stream.write("}\n")
    return path
