"""Read a ``report.json`` back into the :class:`Report` model (``hds-audit merge``).

What the JSON does not carry is not invented: raw resource attributes (no report shows
them), an evidence value's ``unknown`` / ``missing`` flags, the details of a collection
error beyond the provider and source kind of the scope it hid, and the baseline, waivers and
history of the run. Locations are looked up again in the geo tables (for a region's name and
a multi-region's members) and kept as stored when the tables disagree. Compliance is rebuilt
from the findings on the stored audit date, with the registry, frameworks and attestations
given (built-in ones, no attestations by default).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hds_audit import inputs
from hds_audit.engine.evaluate import UNREADABLE_SCOPE, scope_placeholder
from hds_audit.errors import InputError
from hds_audit.evidence.inputs import InputFile, read_input
from hds_audit.frameworks.compliance import build_compliance
from hds_audit.geo import AllowedArea, GeoTables, Location
from hds_audit.i18n import Msg, from_data
from hds_audit.model import (
    DATA_KINDS,
    EMPTY_MAPPING,
    CollectedSource,
    CollectionError,
    Covered,
    Encryption,
    Evidence,
    Finding,
    KeyOwner,
    Kind,
    PolicyMeta,
    Replica,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
    read_only,
)
from hds_audit.reports.model import Gate, MergedInput, Report, RunInfo
from hds_audit.secrets import safe_quote
from hds_audit.sharding import Shard

if TYPE_CHECKING:
    from hds_audit.attestations import AttestationSet
    from hds_audit.frameworks import Framework
    from hds_audit.providers.registry import Registry

#: Where a resource is matched from a finding: (id, source kind, source file).
ResourceKey = tuple[str, str, str | None]
#: The provider a collector names for a scope it could not read, by source kind.
_SCOPE_PROVIDERS = {
    SourceKind.AWS_API.value: "aws",
    SourceKind.AZURE_API.value: "azure",
    SourceKind.GCP_API.value: "gcp",
    SourceKind.SCALEWAY_API.value: "scaleway",
}
_T = TypeVar("_T")


class _Malformed(Exception):
    """A required key is missing or a value has the wrong shape (-> InputError)."""


def read_report_json(path: str | Path) -> dict[str, Any]:
    """Parse a ``report.json`` of schema 1.x; one-line :class:`InputError` naming the file."""
    return _read_report_json(path)[0]


def _read_report_json(path: str | Path) -> tuple[dict[str, Any], InputFile]:
    """The parsed report and the record of the bytes read."""
    label = str(path)
    try:
        raw, record = read_input(path, "report", inputs.MAX_STATE_BYTES)
        data = json.loads(inputs.utf8(raw))
    except inputs.FileProblem as problem:
        if problem.missing:
            raise InputError(label, "report not found") from None
        if Path(path).is_dir():
            raise InputError(label, "is a directory, not a report.json") from None
        raise InputError(label, problem.problem) from None
    except json.JSONDecodeError as error:
        raise InputError(f"{label}:{error.lineno}", f"not valid JSON: {error.msg}") from None
    except RecursionError:
        raise InputError(label, "nests values too deeply (not an hds-audit report.json)") from None
    if not isinstance(data, dict):
        raise InputError(label, "not an hds-audit report.json (not a JSON object)")
    version = data.get("schema_version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise InputError(
            label, f"report has schema_version {safe_quote(version)}; this hds-audit reads 1.x"
        )
    return data, record


def load_report(
    path: str | Path,
    *,
    geo: GeoTables | None = None,
    registry: Registry | None = None,
    frameworks: Sequence[Framework] | None = None,
    attestations: AttestationSet | None = None,
) -> Report:
    """Rebuild the :class:`Report` a ``report.json`` was written from (see the module doc)."""
    return load_report_file(
        path, geo=geo, registry=registry, frameworks=frameworks, attestations=attestations
    )[0]


def load_report_file(
    path: str | Path,
    *,
    geo: GeoTables | None = None,
    registry: Registry | None = None,
    frameworks: Sequence[Framework] | None = None,
    attestations: AttestationSet | None = None,
) -> tuple[Report, InputFile]:
    """:func:`load_report`, with the record (size, sha256) of the bytes read."""
    data, record = _read_report_json(path)
    try:
        report = _Reader(geo or GeoTables.default()).report(
            data, registry=registry, frameworks=frameworks, attestations=attestations
        )
    except _Malformed as error:
        raise InputError(str(path), f"not an hds-audit report.json: {error}") from None
    return report, record


def _get(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise _Malformed(f"{where} has no {key!r}")
    return data[key]


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, so evidence stays hashable (the JSON writer caches on it)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def _problem(where: str, error: Exception) -> _Malformed:
    what = f"missing {error}" if isinstance(error, KeyError) else str(error)
    return _Malformed(f"{where}: {what}")


def _each(items: Any, where: str, convert: Callable[[Any], _T]) -> list[_T]:
    """``convert`` each element of the JSON list ``items``; a bad one names its index."""
    if not isinstance(items, list):
        raise _Malformed(f"{where}s are not a list")
    converted: list[_T] = []
    for index, item in enumerate(items):
        try:
            converted.append(convert(item))
        except _SHAPE_ERRORS as error:
            raise _problem(f"{where} {index}", error) from None
    return converted


def _messages(raw: Any) -> dict[str, Msg]:
    """``messages`` (schema 1.7) as ``Msg`` by English text. An entry this version cannot
    rebuild, or whose English text changed since, is left out: its text is shown as written."""
    table: dict[str, Msg] = {}
    for text, data in (raw if isinstance(raw, dict) else {}).items():
        try:
            msg = from_data(data)
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        if isinstance(msg, Msg) and msg == text:
            table[text] = msg
    return table


class _Reader:
    """One report's conversion; shares locations and sources as collectors do."""

    def __init__(self, geo: GeoTables) -> None:
        self.geo = geo
        self._locations: dict[tuple[Any, ...], Location] = {}
        self._sources: dict[tuple[Any, ...], Source] = {}
        self._evidence: dict[Any, tuple[Evidence, ...]] = {}
        self.metas: dict[str, PolicyMeta] = {}
        self.hidden_kinds: dict[Any, Any] = {}
        self.hidden: dict[str, CollectionError] = {}
        self.by_key: dict[tuple[str, str, str | None, str], Resource] = {}
        self.messages: dict[str, Msg] = {}

    def text(self, value: Any) -> Any:
        """A reason, note or error as written; a ``Msg`` again where ``messages`` knows it."""
        return self.messages.get(value, value) if isinstance(value, str) else value

    def report(
        self,
        data: dict[str, Any],
        *,
        registry: Registry | None,
        frameworks: Sequence[Framework] | None,
        attestations: AttestationSet | None,
    ) -> Report:
        self.messages = _messages(data.get("messages"))
        raw_run = _get(data, "run", "the report")
        try:
            run = self.run(raw_run)
        except _SHAPE_ERRORS as error:
            raise _problem("run", error) from None
        policies = _each(data.get("policies") or [], "policy", self.policy)
        self.metas = {p.id: p for p in policies}
        raw_findings = _get(data, "findings", "the report")
        if isinstance(raw_findings, list):  # the scopes errors hid, with their source kind
            self.hidden_kinds = {
                f.get("resource_id"): f.get("source_kind")
                for f in raw_findings
                if isinstance(f, dict) and f.get("resource_type") == UNREADABLE_SCOPE
            }
        errors = _each(_get(data, "errors", "the report"), "error", self.error)
        self.hidden = {e.scope: e for e in errors}
        resources = _each(_get(data, "resources", "the report"), "resource", self.resource)
        for resource in resources:
            self.by_key.setdefault((*resource_key(resource), resource.type), resource)
        findings = _each(raw_findings, "finding", self.finding)
        try:
            gate = _gate((data.get("summary") or {}).get("gate") or {})
            stored_date = (data.get("compliance") or {}).get("audit_date")
            audit_date = date.fromisoformat(
                stored_date or raw_run.get("audit_date") or run.started_at.date().isoformat()
            )
        except _SHAPE_ERRORS as error:
            raise _problem("summary.gate or compliance.audit_date", error) from None
        return Report(
            run=run,
            resources=resources,
            findings=findings,
            errors=errors,
            policies=policies,
            gate=gate,
            compliance=build_compliance(
                findings,
                audit_date,
                registry=registry,
                frameworks=frameworks,
                attestations=attestations,
            ),
        )

    # -- run ----------------------------------------------------------------------------------

    def run(self, raw: dict[str, Any]) -> RunInfo:
        policy_set = _get(raw, "policy_set", "run")
        merged = raw.get("merged_from")
        return RunInfo(
            started_at=datetime.fromisoformat(_get(raw, "started_at", "run")),
            finished_at=datetime.fromisoformat(_get(raw, "finished_at", "run")),
            tool_version=str(_get(raw, "tool_version", "run")),
            sources=[self.collected(s) for s in _get(raw, "sources", "run")],
            inputs=[
                InputFile(str(i["path"]), str(i["kind"]), int(i["size"]), str(i["sha256"]))
                for i in raw.get("inputs") or ()
            ],
            registry_digest=raw.get("registry_digest"),
            frameworks_digest=raw.get("frameworks_digest"),
            area=self.area(_get(raw, "allowed_area", "run")),
            lang=str(raw.get("lang") or "fr"),
            policy_set=str(policy_set["name"]),
            config_file=raw.get("config_file"),
            shard=_shard(raw.get("shard")),
            policy_digest=policy_set.get("digest"),
            merged_from=None
            if merged is None
            else [
                MergedInput(
                    path=str(m["path"]),
                    shard=_shard(m.get("shard")),
                    started_at=datetime.fromisoformat(m["started_at"]),
                    finished_at=datetime.fromisoformat(m["finished_at"]),
                    tool_version=str(m.get("tool_version") or ""),
                    manifest_sha256=m.get("manifest_sha256"),
                )
                for m in merged
            ],
        )

    def collected(self, raw: dict[str, Any]) -> CollectedSource:
        regions = raw.get("regions")
        return CollectedSource(
            path=raw["path"],
            kind=raw["kind"],
            resources=int(raw["resources"]),
            terraform_version=raw.get("terraform_version"),
            notes=[self.text(n) for n in raw.get("notes") or ()],
            size=raw.get("size"),
            sha256=raw.get("sha256"),
            identity=raw.get("identity"),
            regions=None if regions is None else [str(r) for r in regions],
        )

    def area(self, raw: dict[str, Any]) -> AllowedArea:
        mode, label = raw["mode"], str(raw["label"])
        spec = label.removeprefix("list:") if mode == "list" else str(mode)
        return AllowedArea.parse(spec, self.geo)

    # -- policies, errors ---------------------------------------------------------------------

    @staticmethod
    def policy(raw: dict[str, Any]) -> PolicyMeta:
        return PolicyMeta(
            id=str(raw["id"]),
            name=str(raw["name"]),
            category=str(raw["category"]),
            severity=Severity(raw["severity"]),
            rationale=str(raw.get("rationale") or ""),
            remediation=str(raw.get("remediation") or ""),
            remediation_terraform=str(raw.get("remediation_terraform") or ""),
            frameworks=read_only({str(k): tuple(v) for k, v in raw["frameworks"].items()}),
            file=str(raw.get("file") or ""),
            translations=read_only(
                {str(k): read_only(dict(v)) for k, v in (raw.get("translations") or {}).items()}
            ),
        )

    def error(self, raw: dict[str, Any]) -> CollectionError:
        scope = str(raw["scope"])
        kind = self.hidden_kinds.get(scope)
        details: dict[str, Any] = {}
        if kind and kind != SourceKind.TERRAFORM_STATE.value:  # the placeholder's default
            details = {"source_kind": SourceKind(kind).value}
            if kind in _SCOPE_PROVIDERS:
                details["provider"] = _SCOPE_PROVIDERS[kind]
        return CollectionError(
            source=str(raw["source"]),
            scope=scope,
            message=self.text(str(raw["message"])),
            kind=str(raw.get("kind") or "input"),
            details=read_only(details),
        )

    # -- resources ----------------------------------------------------------------------------

    def location(
        self,
        provider: str,
        region: str | None,
        stored: tuple[Any, ...],
        non_regional: bool | None = None,
    ) -> Location:
        """The tables' location when it agrees with what was stored, else the stored facts."""
        key = (provider, region, stored, non_regional)
        hit = self._locations.get(key)
        if hit is not None:
            return hit
        located = self.geo.locate(provider, region)
        same = (located.region, located.country, located.in_eu, located.in_eea) == stored and (
            non_regional is None or located.non_regional == non_regional
        )
        if not same:
            country, in_eu, in_eea = stored[1:]
            located = Location(
                self.geo.canonical_provider(provider) or provider,
                region,
                country,
                in_eu,
                in_eea,
                non_regional=bool(non_regional),
            )
        self._locations[key] = located
        return located

    def source(self, raw: dict[str, Any]) -> Source:
        key = (raw["kind"], raw.get("file"), raw.get("account"), raw.get("region"))
        hit = self._sources.get(key)
        if hit is None:
            hit = self._sources[key] = Source(SourceKind(key[0]), *key[1:])
        return hit

    def resource(self, raw: dict[str, Any]) -> Resource:
        provider, region = str(raw["provider"]), raw.get("region")
        kind = Kind(raw["kind"])
        stored = (region, raw.get("country"), raw.get("in_eu"), raw.get("in_eea"))
        encryption = raw.get("encryption")
        replicas = raw.get("replicas")
        stores_data = raw.get("stores_data")
        return Resource(
            id=str(raw["id"]),
            provider=provider,
            type=str(raw["type"]),
            kind=kind,
            location=self.location(provider, region, stored, bool(raw.get("non_regional", False))),
            source=self.source(raw["source"]),
            encryption=None
            if encryption is None
            else Encryption(
                at_rest=encryption.get("at_rest"),
                key_owner=None
                if encryption.get("key_owner") is None
                else KeyOwner(encryption["key_owner"]),
                key_id=encryption.get("key_id"),
            ),
            replicas=None
            if replicas is None
            else tuple(
                Replica(
                    kind=str(r["kind"]),
                    location=self.location(
                        provider,
                        r.get("region"),
                        (r.get("region"), r.get("country"), r.get("in_eu"), r.get("in_eea")),
                    ),
                    target=r.get("target"),
                )
                for r in replicas
            ),
            name=raw.get("name"),
            attributes=EMPTY_MAPPING,
            unknowns=read_only({str(k): str(v) for k, v in (raw.get("unknowns") or {}).items()}),
            notes=read_only({str(k): str(v) for k, v in (raw.get("notes") or {}).items()}),
            holds_data=None
            if stores_data is None or stores_data == (kind in DATA_KINDS)
            else bool(stores_data),
        )

    # -- findings -----------------------------------------------------------------------------

    def finding(self, raw: dict[str, Any]) -> Finding:
        policy_id = str(raw["policy_id"])
        meta = self.metas.get(policy_id)
        if meta is None:  # a finding citing a policy the report does not list
            meta = self.metas[policy_id] = PolicyMeta(
                id=policy_id,
                name=policy_id,
                category=str(raw["category"]),
                severity=Severity(raw["severity"]),
                rationale="",
                remediation="",
            )
        resource_id, resource_type = str(raw["resource_id"]), str(raw.get("resource_type", ""))
        kind = str(raw.get("source_kind") or SourceKind.TERRAFORM_STATE.value)
        key = (resource_id, kind, raw.get("source_file"), resource_type)
        resource = self.by_key.get(key)
        covers: tuple[Covered, ...] | None = None
        if raw.get("subject") == "host":  # schema 1.4: one finding per host scope
            ids = raw["covers"]["resource_ids"]
            projects = raw["covers"].get("projects") or [""] * len(ids)
            covers = tuple(Covered(str(i), str(p)) for i, p in zip(ids, projects, strict=True))
        if resource is None:
            error = self.hidden.get(resource_id)
            if covers is not None:
                resource = self.host_subject(raw, resource_id, resource_type)
            elif error is not None and resource_type == UNREADABLE_SCOPE:
                resource = scope_placeholder(error, self.geo)
            else:  # not among the resources: what the finding itself says
                region = raw.get("region")
                resource = Resource(
                    id=resource_id,
                    provider="unknown",
                    type=resource_type,
                    kind=Kind.OTHER,
                    location=self.geo.locate("unknown", region),
                    source=self.source({"kind": kind, "file": raw.get("source_file")}),
                )
            self.by_key[key] = resource
        raw_evidence = raw["evidence"]
        evidence = tuple(
            Evidence(str(e["path"]), _frozen(e.get("value")), self.text(e.get("note")))
            for e in raw_evidence
        )
        with suppress(TypeError):  # an unhashable value (a mapping) is not shared
            evidence = self._evidence.setdefault(evidence, evidence)
        status = Status(raw["status"])
        return Finding(meta, resource, status, evidence, self.text(raw.get("reason")), covers)

    def host_subject(self, raw: dict[str, Any], resource_id: str, resource_type: str) -> Resource:
        """The synthetic subject of a host-level finding, as the engine made it."""
        host = raw.get("host") or {}
        provider = str(host.get("provider") or "unknown")
        return Resource(
            id=resource_id,
            provider=provider,
            type=resource_type,
            kind=Kind.OTHER,
            location=self.geo.locate(provider, raw.get("region")),
            source=self.source({"kind": SourceKind.REGISTRY.value, "file": raw.get("source_file")}),
            name=self.text(host.get("name")),
            holds_data=False,
        )


def resource_key(resource: Resource) -> ResourceKey:
    """What tells two resources apart across reports: id, source kind and source file."""
    return (resource.id, resource.source.kind.value, resource.source.file)


def _shard(raw: Any) -> Shard | None:
    if raw is None:
        return None
    index, count = int(raw["index"]), int(raw["count"])
    if not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count} is not a slice (1 <= index <= count)")
    return Shard(index, count)


def _gate(raw: Mapping[str, Any]) -> Gate:
    label = raw.get("fail_on", "low")
    return Gate(
        fail_on=None if label == "none" else Severity(label),
        fail_on_unknown=bool(raw.get("fail_on_unknown", True)),
    )
