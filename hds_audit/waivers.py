"""Accepted risks: ``waivers.yaml`` entries with a reason, an approver and an expiry date.

```yaml
waivers:
  - policy_id: HDS_ENC_001
    resource_id: "module.legacy.aws_s3_bucket.*"   # exact id, or a glob with * and ?
    reason: Legacy archive, migrated in Q1
    approved_by: Jeanne Martin (DPO)
    expires: 2027-03-31                            # last day the waiver applies
```

A waiver turns a ``fail``, ``error`` or ``unknown`` finding into ``waived``: it stays visible in
every report, with the reason. After its expiry date it stops applying and is reported as
expired; a waiver that matches no finding needing it is reported as stale. In ``resource_id``
only ``*`` (any run of characters) and ``?`` (one character) are wildcards, so Terraform
addresses with ``[0]`` or ``["key"]`` match literally. The file is validated before any scan:
a problem is one line naming the file and the line (exit 2).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from hds_audit.errors import UsageError
from hds_audit.evidence.inputs import InputFile, read_input
from hds_audit.model import Finding, Status

#: Statuses a waiver can accept.
WAIVABLE = frozenset({Status.FAIL, Status.ERROR, Status.UNKNOWN})
_FIELDS = ("policy_id", "resource_id", "reason", "approved_by", "expires")


@dataclass(frozen=True, slots=True)
class Waiver:
    """One accepted risk, with where it was written."""

    policy_id: str
    resource_id: str
    reason: str
    approved_by: str
    expires: date
    file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def is_glob(self) -> bool:
        return "*" in self.resource_id or "?" in self.resource_id

    def describe(self) -> str:
        return f"{self.policy_id} on {self.resource_id}"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` are wildcards; every other character is literal (``[`` included)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


@dataclass(slots=True)
class WaiverOutcome:
    """What the waivers did in one run."""

    file: str
    applied: dict[Waiver, int] = field(default_factory=dict)
    expired: list[tuple[Waiver, int]] = field(default_factory=list)  # with what they'd match
    stale: list[Waiver] = field(default_factory=list)

    @property
    def waived(self) -> int:
        return sum(self.applied.values())

    def warnings(self) -> list[str]:
        """One line per expired or stale waiver, naming the file and the line."""
        lines = [
            f"{w.where}: waiver for {w.describe()} expired on {w.expires.isoformat()}; "
            f"it no longer applies ({n} finding(s) would match)"
            for w, n in self.expired
        ]
        lines.extend(
            f"{w.where}: waiver for {w.describe()} matches no failing finding (stale)"
            for w in self.stale
        )
        return lines


@dataclass(frozen=True, slots=True)
class WaiverSet:
    """The waivers of one file, ready to apply."""

    file: str
    waivers: tuple[Waiver, ...]
    input: InputFile | None = None  # the file read, as the report's run.inputs lists it

    def apply(
        self, findings: Sequence[Finding], today: date
    ) -> tuple[list[Finding], WaiverOutcome]:
        """A copy of ``findings`` with active waivers applied, and what happened.

        Per finding: one dict lookup for an exact waiver, one regex per policy with globs.
        """
        active = [w for w in self.waivers if w.expires >= today]
        expired = [w for w in self.waivers if w.expires < today]
        match_active = _Matcher(active)
        match_expired = _Matcher(expired)
        hits: Counter[Waiver] = Counter()
        expired_hits: Counter[Waiver] = Counter()
        out = list(findings)
        for index, finding in enumerate(out):
            if finding.status not in WAIVABLE:
                continue
            waiver = match_active(finding)
            if waiver is not None:
                hits[waiver] += 1
                out[index] = finding._replace(
                    status=Status.WAIVED,
                    reason=f"{finding.status.value}, waived until {waiver.expires.isoformat()} "
                    f"by {waiver.approved_by}: {waiver.reason}",
                )
            elif expired:
                old = match_expired(finding)
                if old is not None:
                    expired_hits[old] += 1
        outcome = WaiverOutcome(
            file=self.file,
            applied={w: hits[w] for w in active if hits[w]},
            expired=[(w, expired_hits[w]) for w in expired],
            stale=[w for w in active if not hits[w]],
        )
        return out, outcome


class _Matcher:
    """Finds the waiver for a finding: exact ids first, then globs in file order."""

    def __init__(self, waivers: Iterable[Waiver]) -> None:
        self.exact: dict[tuple[str, str], Waiver] = {}
        globs: dict[str, list[Waiver]] = {}
        for waiver in waivers:
            if waiver.is_glob:
                globs.setdefault(waiver.policy_id, []).append(waiver)
            else:
                self.exact.setdefault((waiver.policy_id, waiver.resource_id), waiver)
        # One regex per policy: group i matches waiver i.
        self.globs: dict[str, tuple[re.Pattern[str], list[Waiver]]] = {
            policy: (
                re.compile(
                    "|".join(
                        f"(?P<w{i}>{glob_regex(w.resource_id).pattern})" for i, w in enumerate(ws)
                    ),
                    re.DOTALL,
                ),
                ws,
            )
            for policy, ws in globs.items()
        }

    def __call__(self, finding: Finding) -> Waiver | None:
        policy_id = finding.policy.id
        resource_id = finding.resource.id
        waiver = self.exact.get((policy_id, resource_id))
        if waiver is not None:
            return waiver
        entry = self.globs.get(policy_id)
        if entry is None:
            return None
        match = entry[0].fullmatch(resource_id)
        if match is None:
            return None
        return entry[1][int(str(match.lastgroup)[1:])]


# --------------------------------------------------------------------------- reading


def _line_of(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def _value_node(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(mapping, yaml.MappingNode):
        for key_node, value_node in mapping.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def load_waivers(path: str | Path) -> WaiverSet:
    """Read and validate a waivers file; any problem is one line ``FILE:LINE: problem``."""
    label = str(path)
    try:
        data, record = read_input(path, "waivers")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{label}: waivers file not found") from None
    except OSError as error:
        raise UsageError(f"{label}: cannot read the waivers file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{label}: waivers file is not UTF-8 text") from None
    return replace(parse_waivers(text, label), input=record)


class _Loader(yaml.SafeLoader):
    """Safe YAML where dates stay text: ``expires`` is parsed here, with its line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_waivers(text: str, label: str) -> WaiverSet:
    """Validate the text of a waivers file (``label`` names it in messages)."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe
        root: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UsageError(f"{label}{line}: invalid YAML: {problem}") from None
    if data is None:
        return WaiverSet(label, ())
    entries_node: yaml.Node | None = root
    if isinstance(data, dict):
        unknown = sorted(map(str, set(data) - {"waivers"}))
        if unknown:
            raise UsageError(
                f"{label}:{_line_of(root)}: unknown key {', '.join(unknown)}; expected 'waivers'"
            )
        data = data.get("waivers") or []
        entries_node = _value_node(root, "waivers") if root is not None else None
    if not isinstance(data, list):
        raise UsageError(f"{label}:{_line_of(entries_node)}: 'waivers' must be a list of entries")
    nodes = entries_node.value if isinstance(entries_node, yaml.SequenceNode) else []
    waivers = []
    for index, entry in enumerate(data):
        node = nodes[index] if index < len(nodes) else None
        waivers.append(_waiver(entry, node, label))
    return WaiverSet(label, tuple(waivers))


def _waiver(entry: Any, node: yaml.Node | None, label: str) -> Waiver:
    line = _line_of(node)
    if not isinstance(entry, dict):
        raise UsageError(f"{label}:{line}: a waiver must be a mapping of {', '.join(_FIELDS)}")
    unknown = sorted(map(str, set(entry) - set(_FIELDS)))
    if unknown:
        where = _line_of(_value_node(node, unknown[0])) if node is not None else line
        raise UsageError(
            f"{label}:{where or line}: unknown waiver field {', '.join(unknown)}; "
            f"known: {', '.join(_FIELDS)}"
        )
    values: dict[str, str] = {}
    for key in ("policy_id", "resource_id", "reason", "approved_by"):
        text = _text(entry.get(key))
        if text is None:
            where = _line_of(_value_node(node, key)) if node is not None else 0
            raise UsageError(f"{label}:{where or line}: waiver needs '{key}' (a non-empty text)")
        values[key] = text
    raw = entry.get("expires")
    where = (_line_of(_value_node(node, "expires")) if node is not None else 0) or line
    if isinstance(raw, datetime):
        expires = raw.date()
    elif isinstance(raw, date):
        expires = raw
    elif isinstance(raw, str):
        try:
            expires = date.fromisoformat(raw.strip())
        except ValueError:
            raise UsageError(
                f"{label}:{where}: waiver 'expires' must be a date YYYY-MM-DD, got {raw!r}"
            ) from None
    else:
        raise UsageError(f"{label}:{where}: waiver needs 'expires' (a date YYYY-MM-DD)")
    return Waiver(expires=expires, file=label, line=line, **values)
