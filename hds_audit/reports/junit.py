"""``report.junit.xml``: JUnit XML for the CI's test tab (GitLab, Jenkins, Azure DevOps...).

One ``<testsuite>`` per policy, one ``<testcase>`` per policy and resource
(``classname`` the policy id, ``name`` the resource id). ``fail`` and ``unknown`` are
``<failure>``, ``error`` is ``<error>``, ``waived`` is ``<skipped>`` with the reason (it stays
visible), ``not_applicable`` and ``manual`` are ``<skipped>`` too; ``pass`` is a passing case.
Streamed (a suite's counts are computed before it is written) and written atomically.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hds_audit.baseline import fingerprint, identity
from hds_audit.model import Finding, PolicyMeta, Resource, Status
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.memo import Memo
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import Report

_FAILURE = frozenset({Status.FAIL, Status.UNKNOWN})
_SKIPPED = frozenset({Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL})
# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _attr(text: str) -> str:
    return quoteattr(_clean(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _details(finding: Finding) -> str:
    """The failure text decided by policy, status, evidence and reason (memoised)."""
    lines = [
        f"Policy: {finding.policy.id} — {finding.policy.name}",
        f"Severity: {finding.policy.severity.value}; category: {finding.policy.category}",
        f"Status: {finding.status.value}",
    ]
    if finding.reason:
        lines.append(f"Reason: {finding.reason}")
    lines.extend(
        f"Evidence: {e.path} = {e.value!r}" + (f" [{e.note}]" if e.note else "")
        for e in finding.evidence
    )
    if finding.status in _FAILURE or finding.status is Status.ERROR:
        lines.append(f"Remediation: {finding.policy.remediation}")
    return escape(_clean("\n".join(lines)))


def _resource_text(resource: Resource) -> tuple[str, str]:
    """The ``name`` and ``file`` attributes and the resource line of the failure text."""
    source = resource.source
    line = f"Resource: {resource.id} ({resource.type}, {source.kind.value}" + (
        f", {source.file})" if source.file else ")"
    )
    head = f"name={_attr(resource.id)} file={_attr(source.file or source.kind.value)}"
    return head, escape(_clean(line))


class _Cases:
    """Test cases from cached parts: per resource, per message, per failure text."""

    def __init__(self, report: Report) -> None:
        self.state = report.baseline.state if report.baseline is not None else None
        self.messages = Memo(lambda f: _attr(finding_message(f)))
        self.details = Memo(_details)
        # Suites group by policy, so a resource comes back once per policy: cache per object.
        self.resources: dict[int, tuple[str, str]] = {}
        self.classnames: dict[str, str] = {}

    def __call__(self, finding: Finding) -> str:
        parts = self.resources.get(id(finding.resource))
        if parts is None:
            parts = self.resources[id(finding.resource)] = _resource_text(finding.resource)
        names, resource_line = parts
        if finding.covers is not None:  # a host-level finding: the resources it covers
            resource_line += escape(_clean(f"\nCovers: {len(finding.covers)} resources"))
        classname = self.classnames.get(finding.policy.id)
        if classname is None:
            classname = self.classnames[finding.policy.id] = _attr(finding.policy.id)
        head = f'<testcase classname={classname} {names} time="0"'
        status = finding.status
        if status is Status.PASS:
            return head + "/>"
        message = self.messages(finding)
        if status in _FAILURE or status is Status.ERROR:
            tag = "failure" if status in _FAILURE else "error"
            identity_line = escape(_clean(f"Identity: {fingerprint(identity(finding))}"))
            body = (
                f'<{tag} message={message} type="{status.value}">{self.details(finding)}\n'
                f"{resource_line}\n{identity_line}</{tag}>"
            )
        else:
            body = f"<skipped message={message}/>"
        if self.state is not None:
            state = self.state(finding)
            body += f'<properties><property name="baseline" value="{state}"/></properties>'
        return f"{head}>{body}</testcase>"


def _suite(meta: PolicyMeta, findings: list[Finding], cases: _Cases) -> Iterable[str]:
    counts = Counter(f.status for f in findings)
    failures = sum(counts[s] for s in _FAILURE)
    skipped = sum(counts[s] for s in _SKIPPED)
    yield (
        f'<testsuite name={_attr(f"{meta.id} {meta.name}")} tests="{len(findings)}" '
        f'failures="{failures}" errors="{counts[Status.ERROR]}" skipped="{skipped}" time="0">\n'
        f'<properties><property name="severity" value="{meta.severity.value}"/>'
        f'<property name="category" value={_attr(meta.category)}/></properties>\n'
    )
    for finding in findings:
        yield cases(finding) + "\n"
    yield "</testsuite>\n"


def write_junit(report: Report, path: Path) -> Path:
    """Write ``report.junit.xml`` atomically; return the path."""
    by_policy: dict[str, list[Finding]] = defaultdict(list)
    metas: dict[str, PolicyMeta] = {}
    for finding in report.findings:
        by_policy[finding.policy.id].append(finding)
        metas.setdefault(finding.policy.id, finding.policy)
    counts = Counter(f.status for f in report.findings)
    cases = _Cases(report)
    with atomic_writer(path) as stream:
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stream.write(
            f'<testsuites name="hds-audit" tests="{len(report.findings)}" '
            f'failures="{sum(counts[s] for s in _FAILURE)}" errors="{counts[Status.ERROR]}" '
            f'skipped="{sum(counts[s] for s in _SKIPPED)}" time="0">\n'
        )
        for policy_id in sorted(by_policy):
            batch: list[str] = []
            for chunk in _suite(metas[policy_id], by_policy[policy_id], cases):
                batch.append(chunk)
                if len(batch) >= 1000:
                    stream.write("".join(batch))
                    batch = []
            stream.write("".join(batch))
        stream.write("</testsuites>\n")
    return path
