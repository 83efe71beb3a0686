"""``report.sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One rule per policy (full description, help with the remediation, ``level`` and
``security-severity``); one result per finding that needs attention or was accepted:

* ``fail``: ``kind: fail``, level from the severity (critical/high error, medium warning,
  low/info note);
* ``error``: ``kind: fail``, level ``error``;
* ``unknown``: ``kind: open`` (SARIF's "could not be determined"), level ``none``;
* ``waived``: like a failure, with an accepted external suppression carrying the reason, so it
  stays visible (code scanning shows it as dismissed);
* ``manual``: ``kind: review``.

Passing and not-applicable findings are counted in the run properties, not listed: an estate
of 100,000 resources would otherwise produce 360,000 results. Terraform findings are located
at the file (physical location) and the resource address (logical location); cloud findings
by logical location only (ARN / Azure resource id). ``partialFingerprints`` carry the finding
identity (see :mod:`hds_audit.baseline`), ``baselineState`` the comparison with ``--baseline``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from hds_audit import __version__
from hds_audit.baseline import fingerprint, identity
from hds_audit.model import Covered, Finding, PolicyMeta, Severity, Status
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.memo import Memo
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub reads ``security-severity`` as > 9 critical, 7-8.9 high, 4-6.9 medium, < 4 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.5",
}
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
LISTED = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN, Status.WAIVED, Status.MANUAL})
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str, check_circular=False).encode


def rule(meta: PolicyMeta) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` for one policy."""
    refs = [f"{framework} {ref}" for framework, items in meta.frameworks.items() for ref in items]
    help_text = meta.remediation
    help_markdown = f"**Remediation.** {meta.remediation}"
    if meta.remediation_terraform.strip():
        help_text += "\n\nTerraform:\n" + meta.remediation_terraform.strip("\n")
        help_markdown += "\n\n```hcl\n" + meta.remediation_terraform.strip("\n") + "\n```"
    if refs:
        help_markdown += "\n\n**References:** " + ", ".join(refs)
    return {
        "id": meta.id,
        "name": meta.id,
        "shortDescription": {"text": meta.name},
        "fullDescription": {"text": meta.rationale or meta.name},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "problem.severity": LEVELS[meta.severity],
            "precision": "high",
            "tags": ["security", "hds", meta.category, *refs],
            "category": meta.category,
            "severity": meta.severity.value,
        },
    }


def _uri(file: str) -> tuple[str, str | None]:
    """A relative path stays relative to the checkout (``%SRCROOT%``); others become URIs."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri(), None
    return PurePosixPath(*path.parts).as_posix(), "%SRCROOT%"


def _kind_level(finding: Finding) -> tuple[str, str]:
    status = finding.status
    if status is Status.FAIL or status is Status.WAIVED:
        return "fail", LEVELS[finding.policy.severity]
    if status is Status.ERROR:
        return "fail", "error"
    if status is Status.UNKNOWN:
        return "open", "none"
    return "review", "none"


def _message_part(finding: Finding) -> str:
    """``"message": ..., "suppressions": ...`` (the parts decided by policy, status, evidence
    and reason: memoised)."""
    part = f'"message": {_ENCODE({"text": finding_message(finding)})}'
    if finding.status is Status.WAIVED:
        suppression = {"kind": "external", "status": "accepted", "justification": finding.reason}
        part += f', "suppressions": {_ENCODE([suppression])}'
    return part


class _Results:
    """Encodes results from cached parts: per policy and status, per resource, per message."""

    def __init__(self, report: Report, rule_index: dict[str, int]) -> None:
        self.state = report.baseline.state if report.baseline is not None else None
        self.rule_index = rule_index
        self.heads: dict[tuple[str, Status], str] = {}
        self.messages = Memo(_message_part)
        self._resource: Any = None
        self._resource_part = ""

    def _head(self, finding: Finding) -> str:
        meta = finding.policy
        key = (meta.id, finding.status)
        head = self.heads.get(key)
        if head is None:
            kind, level = _kind_level(finding)
            head = self.heads[key] = (
                f'{{"ruleId": {_ENCODE(meta.id)}, "ruleIndex": {self.rule_index[meta.id]}, '
                f'"kind": "{kind}", "level": "{level}", "properties": {{"status": '
                f'"{finding.status.value}", "severity": "{meta.severity.value}", '
                f'"category": {_ENCODE(meta.category)}, '
            )
        return head

    def _resource_parts(self, finding: Finding) -> str:
        resource = finding.resource
        if resource is not self._resource:
            self._resource = resource
            source = resource.source
            logical = {
                "fullyQualifiedName": resource.id,
                "name": resource.name or resource.id,
                "kind": "resource",
            }
            location: dict[str, Any] = {"logicalLocations": [logical]}
            if source.kind.value.startswith("terraform") and source.file:
                uri, base = _uri(source.file)
                artifact: dict[str, Any] = {"uri": uri}
                if base:
                    artifact["uriBaseId"] = base
                location["physicalLocation"] = {"artifactLocation": artifact}
                location["message"] = {"text": f"Terraform resource {resource.id}"}
            self._resource_part = (
                f'"resourceType": {_ENCODE(resource.type)}, '
                f'"region": {_ENCODE(resource.location.region)}, '
                f'"sourceKind": "{source.kind.value}"}}, '
                f'"locations": {_ENCODE([location])}, '
            )
        return self._resource_part

    @staticmethod
    def _host_parts(finding: Finding, covers: tuple[Covered, ...]) -> str:
        """A host-level finding: located at its host scope, with the count it covers."""
        subject = finding.resource
        logical = {"fullyQualifiedName": subject.id, "name": subject.name or subject.id}
        location = {
            "logicalLocations": [{**logical, "kind": "resource"}],
            "message": {"text": f"HDS host scope {subject.name}: covers {len(covers)} resources"},
        }
        return (
            f'"resourceType": {_ENCODE(subject.type)}, '
            f'"region": {_ENCODE(subject.location.region)}, '
            f'"sourceKind": "{subject.source.kind.value}", "covers": {len(covers)}}}, '
            f'"locations": {_ENCODE([location])}, '
        )

    def encode(self, finding: Finding) -> str:
        message: str = self.messages(finding)
        text = (
            self._head(finding)
            + (
                self._resource_parts(finding)
                if finding.covers is None
                else self._host_parts(finding, finding.covers)
            )
            + f'"partialFingerprints": {{"hdsAuditFinding/v1": '
            f"{_ENCODE(fingerprint(identity(finding)))}}}, " + message
        )
        if self.state is not None:
            text += f', "baselineState": "{self.state(finding)}"'
        return text + "}"


def _notifications(report: Report) -> list[dict[str, Any]]:
    notes = [
        {
            "level": "error",
            "message": {"text": f"{error.source}: {error.message}"},
            "descriptor": {"id": f"collection-{error.kind}"},
        }
        for error in report.errors
    ]
    if report.waivers is not None:
        notes.extend(
            {"level": "warning", "message": {"text": line}, "descriptor": {"id": "waiver"}}
            for line in report.waivers.warnings()
        )
    return notes


def _results(report: Report, rule_index: dict[str, int]) -> Iterator[str]:
    encoder = _Results(report, rule_index)
    for finding in report.findings:
        if finding.status in LISTED:
            yield encoder.encode(finding)


def sarif_document_head(report: Report) -> dict[str, Any]:
    """Everything but the results (tool, invocation, properties)."""
    run = report.run
    policies: dict[str, PolicyMeta] = {p.id: p for p in report.policies}
    for finding in report.findings:  # policies outside the catalogue (extra files)
        if finding.policy.id not in policies:
            policies[finding.policy.id] = finding.policy
    rules = [rule(p) for p in policies.values()]
    return {
        "tool": {
            "driver": {
                "name": "hds-audit",
                "version": run.tool_version or __version__,
                "semanticVersion": run.tool_version or __version__,
                "rules": rules,
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "startTimeUtc": run.started_at.isoformat(),
                "endTimeUtc": run.finished_at.isoformat(),
                "exitCode": report.exit_code,
                "toolExecutionNotifications": _notifications(report),
            }
        ],
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The checkout root"}}},
        "columnKind": "unicodeCodePoints",
        "properties": {
            "allowedArea": run.area.label,
            "byStatus": report.by_status,
            "gate": report.summary()["gate"],
        },
    }


def write_sarif(report: Report, path: Path) -> Path:
    """Write ``report.sarif`` atomically, results streamed in batches; return the path."""
    head = sarif_document_head(report)
    rule_index = {r["id"]: i for i, r in enumerate(head["tool"]["driver"]["rules"])}
    with atomic_writer(path) as stream:
        stream.write(f'{{"$schema": {_ENCODE(SARIF_SCHEMA)}, "version": "2.1.0", "runs": [\n')
        stream.write(_ENCODE(head)[:-1] + ', "results": [')
        batch: list[str] = []
        first = True
        for line in _results(report, rule_index):
            batch.append(line)
            if len(batch) == 1000:
                stream.write(("\n" if first else ",\n") + ",\n".join(batch))
                first, batch = False, []
        if batch:
            stream.write(("\n" if first else ",\n") + ",\n".join(batch))
        stream.write("\n]}\n]}\n")
    return path
