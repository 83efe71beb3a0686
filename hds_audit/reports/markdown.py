"""``report.md``: a summary that fits in a pull-request comment.

The verdict and exit code, counts by status and severity, what changed against the baseline
and since the previous run, what the waivers did, the top failures, and a link to the full
HTML report. GitHub refuses comments over 65,536 characters: the summary is cut to fit, with a
note saying so. Every value from the audited estate is escaped, so a resource name cannot
inject markup, links or mentions into the comment.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from pathlib import Path

from hds_audit.model import Finding, Severity, Status
from hds_audit.reports.atomic import atomic_writer
from hds_audit.reports.grouping import ResourceKey, resource_key
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import Report
from hds_audit.reports.ranking import problem_rank

#: GitHub's limit on the body of an issue or pull-request comment (characters).
COMMENT_LIMIT = 65_536
TRUNCATED_NOTE = (
    "\n\n> **Note:** this summary was truncated to fit in a pull-request comment "
    "({limit:,} characters); the full report has every finding.\n"
)
SYMBOLS = {
    "fail": "✗",
    "error": "⚠",
    "unknown": "?",
    "waived": "⊘",
    "pass": "✓",
    "not_applicable": "–",
    "manual": "✎",
}
_ORDER = ("fail", "error", "unknown", "waived", "manual", "pass", "not_applicable")
_PROBLEMS = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN})
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~@&])")
_CELL = 160  # characters kept of one table cell


def md(text: object, limit: int = _CELL) -> str:
    """Plain text as inert Markdown: one line, punctuation escaped, cut to ``limit``."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return _SPECIAL.sub(r"\\\1", value)


def _counted(count: int, noun: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _verdict(report: Report) -> str:
    code = report.exit_code
    gate = report.gate
    unknown = ", unknown counts" if gate.fail_on_unknown and gate.fail_on else ""
    threshold = f"threshold `{gate.label}`{unknown}"
    scope = "new blocking finding" if report.baseline is not None else "blocking finding"
    blocking = _counted(len(report.blocking), scope)
    if code == 2:
        return (
            f"## ⚠ hds-audit: incomplete audit — {_counted(len(report.errors), 'input error')}, "
            f"{blocking} ({threshold})"
        )
    if code == 1:
        return f"## ✗ hds-audit: {blocking} ({threshold})"
    return f"## ✓ hds-audit: nothing blocks ({threshold})"


def _status_table(report: Report) -> list[str]:
    counts = report.by_status
    shown = [s for s in _ORDER if counts.get(s)] or ["pass"]
    return [
        "| " + " | ".join(f"{SYMBOLS[s]} {s.replace('_', ' ')}" for s in shown) + " |",
        "|" + "---:|" * len(shown),
        "| " + " | ".join(f"{counts.get(s, 0):,}" for s in shown) + " |",
    ]


def _severity_table(report: Report) -> list[str]:
    columns = ("fail", "error", "unknown", "waived")
    rows = [
        f"| {sev.value} | "
        + " | ".join(f"{report.by_severity.get(sev.value, {}).get(c, 0):,}" for c in columns)
        + " |"
        for sev in Severity
        if any(report.by_severity.get(sev.value, {}).get(c, 0) for c in columns)
    ]
    if not rows:
        return []
    return [
        "| severity | " + " | ".join(f"{SYMBOLS[c]} {c}" for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
        *rows,
    ]


def _changes(report: Report) -> list[str]:
    lines = []
    if report.baseline is not None:
        counts = report.baseline_counts
        lines.append(
            f"**Baseline** `{md(Path(report.baseline.label).name)}`: "
            f"**{counts.get('new', 0):,} new**, {counts.get('unchanged', 0):,} unchanged, "
            f"{len(report.fixed):,} fixed. Only new findings gate."
        )
    drift = report.drift
    if drift is not None and drift.previous is not None:
        lines.append(
            f"**Since the previous run** ({md(drift.previous)}): "
            f"{_counted(len(drift.new), 'new problem')}, {len(drift.fixed):,} fixed."
        )
    waivers = report.waivers
    if waivers is not None:
        lines.append(
            f"**Waivers** `{md(Path(waivers.file).name)}`: {_counted(waivers.waived, 'finding')} "
            f"waived by {_counted(len(waivers.applied), 'waiver')}; "
            f"{len(waivers.expired)} expired, {len(waivers.stale)} stale."
        )
        lines.extend(f"- ⚠ {md(line, 300)}" for line in waivers.warnings()[:20])
        if len(waivers.warnings()) > 20:
            lines.append(f"- … and {len(waivers.warnings()) - 20} more")
    return lines


def _top(report: Report, limit: int) -> list[Finding]:
    """Blocking findings first, then the other problems; within each, new before unchanged,
    fail before unknown, most severe first, residency before the other categories."""
    blocking = report.blocking
    chosen = {id(f) for f in blocking}
    rest = [f for f in report.findings if f.status in _PROBLEMS and id(f) not in chosen]
    state = report.baseline.state if report.baseline is not None else None

    def key(f: Finding) -> tuple[int, tuple[int, int, int, str, str]]:
        old = 1 if state is not None and state(f) != "new" else 0
        return (old, problem_rank(f))

    first = heapq.nsmallest(limit, blocking, key=key)
    return first + heapq.nsmallest(limit - len(first), rest, key=key)


def _finding_rows(findings: Iterable[Finding], report: Report, limit: int) -> tuple[list[str], int]:
    """At most ``limit`` rows, and how many findings they show: the findings of one
    resource read from several sources (its plan and its state) with the same verdict and
    message share a row that names the sources."""
    state = report.baseline.state if report.baseline is not None else None
    rows: dict[tuple[str, str, str, str, ResourceKey], list[Finding]] = {}
    for f in findings:
        tag = f" ({state(f)})" if state is not None else ""
        head = f"| {f.policy.severity.value} | {SYMBOLS[f.status.value]} {f.status.value}{tag} | "
        # One resource: the same id in the same project (another project's is another row).
        key = (head, f.policy.id, _subject(f), finding_message(f), resource_key(f.resource))
        same = rows.get(key)
        if same is not None:
            same.append(f)
        elif len(rows) < limit:
            rows[key] = [f]
    lines = []
    for (head, policy_id, subject, message, _), group in rows.items():
        kinds = dict.fromkeys(f.resource.source.kind.value for f in group)
        sources = f" ({md(' + '.join(kinds))})" if len(kinds) > 1 else ""
        lines.append(f"{head}{md(policy_id)} | {subject}{sources} | {md(message)} |")
    return lines, sum(len(group) for group in rows.values())


def _subject(finding: Finding) -> str:
    """The resource cell: its id, or a host scope with how many resources it covers."""
    if finding.covers is None:
        return md(finding.resource.id)
    name = finding.resource.name or finding.resource.id
    return md(f"{name} (host: {len(finding.covers):,} resources)")


def _table(title: str, shown: tuple[list[str], int], total: int) -> list[str]:
    """A table of finding rows (``shown``: the rows and how many findings they show)."""
    rows, count = shown
    if not rows:
        return []
    more = [f"\n… and {total - count:,} more in the full report."] if total > count else []
    return [
        f"### {title}",
        "",
        "| severity | status | policy | resource | finding |",
        "|---|---|---|---|---|",
        *rows,
        *more,
        "",
    ]


def render_markdown(
    report: Report,
    *,
    html_url: str | None = None,
    top: int = 25,
    max_chars: int = COMMENT_LIMIT,
) -> str:
    """The summary as Markdown, at most ``max_chars`` characters."""
    run = report.run
    head = [
        _verdict(report),
        "",
        f"**Exit {report.exit_code}** · {len(report.resources):,} resources · "
        f"{len(report.findings):,} findings · {len(report.policies)} policies · "
        f"allowed area {md(run.area.label)} · {run.started_at.isoformat(timespec='seconds')}",
        "",
        *_status_table(report),
        "",
        *_severity_table(report),
        "",
    ]
    for line in _changes(report):
        head += [line, ""]
    if report.errors:
        head += [f"**Input errors** ({len(report.errors)}):"]
        head += [f"- {md(e.source)}: {md(e.message, 300)}" for e in report.errors[:10]]
        head += [""]
    problems = _top(report, 3 * top)  # a resource's plan, state and live reading share a row
    problem_total = sum(1 for f in report.findings if f.status in _PROBLEMS)
    waived = [f for f in report.findings if f.status is Status.WAIVED]
    fixed = report.fixed or (report.drift.fixed if report.drift is not None else ())
    tail = []
    if html_url:
        tail.append(f"📄 [Full HTML report]({html_url.replace(')', '%29').replace(' ', '%20')})")
    tail.append(f"<sub>hds-audit {md(run.tool_version)}</sub>")

    def build(limit: int) -> str:
        body = _table("Top failures", _finding_rows(problems, report, limit), problem_total)
        if waived:
            body += [
                "<details><summary>⊘ Waived findings (" + f"{len(waived):,})</summary>",
                "",
                *_table(
                    "Waived",
                    _finding_rows(waived[: 3 * min(limit, 20)], report, min(limit, 20)),
                    len(waived),
                ),
                "</details>",
                "",
            ]
        if fixed:
            body += [f"### ✓ Fixed ({len(fixed):,})", ""]
            body += [
                f"- {md(f.policy_id)} on {md(f.resource_id)} ({f.status_before} → "
                f"{f.status_now or 'gone'})"
                for f in fixed[: min(limit, 20)]
            ]
            if len(fixed) > min(limit, 20):
                body.append(f"- … and {len(fixed) - min(limit, 20):,} more")
            body.append("")
        return "\n".join([*head, *body, *tail]) + "\n"

    text = build(top)
    limit = top
    while len(text) > max_chars and limit > 0:
        limit //= 2
        text = build(limit)
    if len(text) > max_chars or limit < top:
        note = TRUNCATED_NOTE.format(limit=max_chars)
        if len(text) + len(note) > max_chars:
            text = text[: max(0, max_chars - len(note))]
            text = text[: text.rfind("\n") + 1] if "\n" in text else text
        text = text.rstrip("\n") + note
    return text


def write_markdown(report: Report, path: Path, html_url: str | None = None) -> Path:
    """Write ``report.md`` atomically; return the path."""
    text = render_markdown(report, html_url=html_url)
    with atomic_writer(path) as stream:
        stream.write(text)
    return path
