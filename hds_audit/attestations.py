"""Attestations: how manual (and partly manual) requirements are answered.

An attestations file answers requirements no API can prove, one entry per requirement::

    attestations:
      - requirement: "feima:5"          # framework:requirement
        statement: Health data is exchanged through MSSanté mailboxes only.
        by: Dr Claire Martin, DPO
        date: 2026-10-02
        evidence: https://intranet.example/dpo/mssante-2026.pdf
        valid_for_days: 365             # optional; default: the requirement's validity

Requirements left unanswered are *owed*; an attestation older than its validity on the
audit date is *expired* (owed again). The file is validated at load (file, line, problem).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Final

from hds_audit.datafile import Checker, DataFileError, load_yaml
from hds_audit.evidence.inputs import InputFile, read_input
from hds_audit.frameworks import Framework, find_requirement

_KEYS: Final = ("requirement", "statement", "by", "date", "evidence", "valid_for_days")


@dataclass(frozen=True, slots=True)
class Attestation:
    requirement: str  # framework:id
    statement: str
    by: str
    date: datetime.date
    evidence: str
    valid_for_days: int
    line: int | None = None

    @property
    def valid_until(self) -> datetime.date:
        return self.date + timedelta(days=self.valid_for_days)

    def expired(self, audit_date: datetime.date) -> bool:
        return self.valid_until < audit_date

    def future(self, audit_date: datetime.date) -> bool:
        """Dated after the audit: it cannot answer for the audited state."""
        return self.date > audit_date


@dataclass(frozen=True, slots=True)
class AttestationSet:
    file: str
    items: tuple[Attestation, ...]
    input: InputFile | None = None  # the file read (None: no attestations file)

    def by_requirement(self) -> Mapping[str, Attestation]:
        return {a.requirement: a for a in self.items}


EMPTY: Final = AttestationSet(file="", items=())


def parse_attestations(text: str, file: str, frameworks: Sequence[Framework]) -> AttestationSet:
    """Parse and validate an attestations file against the framework requirements."""
    check = Checker(file)
    root = check.mapping(load_yaml(text, file), "an attestations file")
    check.unknown_keys(root, ("attestations",), "an attestations file")
    items = root.get("attestations")
    if not isinstance(items, list):
        raise check.fail(root, "'attestations' must be a list", "attestations")
    seen: dict[str, int | None] = {}
    loaded: list[Attestation] = []
    for item in items:
        node = check.mapping(item, "an attestation", root)
        check.unknown_keys(node, _KEYS, "an attestation")
        ref = check.text(node, "requirement")
        requirement = find_requirement(frameworks, ref)
        if requirement is None:
            raise check.fail(
                node,
                f"unknown requirement {ref!r} (write framework:id, e.g. feima:5 or "
                "hds-v2:EXI 27; `hds-audit frameworks list` shows them)",
                "requirement",
            )
        if not requirement.needs_attestation:
            raise check.fail(
                node, f"{ref} is automated: its policies decide, no attestation", "requirement"
            )
        if ref in seen:
            raise check.fail(node, f"{ref} is already attested at line {seen[ref]}", "requirement")
        seen[ref] = node.line
        raw_date = check.text(node, "date")
        try:
            when = datetime.date.fromisoformat(raw_date)
        except ValueError:
            raise check.fail(
                node, f"date {raw_date!r} is not a date (YYYY-MM-DD)", "date"
            ) from None
        validity = node.get("valid_for_days", requirement.validity_days)
        if not isinstance(validity, int) or isinstance(validity, bool) or validity < 1:
            raise check.fail(node, "'valid_for_days' must be a positive number", "valid_for_days")
        loaded.append(
            Attestation(
                requirement=ref,
                statement=check.text(node, "statement"),
                by=check.text(node, "by"),
                date=when,
                evidence=check.text(node, "evidence"),
                valid_for_days=validity,
                line=node.line,
            )
        )
    return AttestationSet(file=file, items=tuple(loaded))


def load_attestations(path: str | Path | None, frameworks: Sequence[Framework]) -> AttestationSet:
    """The attestations in ``path`` (none when ``path`` is None); invalid -> exit 2."""
    if path is None:
        return EMPTY
    try:
        data, record = read_input(path, "attestations")
    except OSError as error:
        raise DataFileError(str(path), None, f"cannot be read: {error.strerror}") from None
    loaded = parse_attestations(data.decode("utf-8"), str(path), frameworks)
    return replace(loaded, input=record)


def attested(items: Iterable[Attestation]) -> set[str]:
    return {a.requirement for a in items}
