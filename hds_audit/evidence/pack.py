"""Write a signed evidence pack: ``report.json`` first, the other reports, then the manifest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hds_audit.errors import AuditIncomplete
from hds_audit.evidence.manifest import file_sha256, write_manifest
from hds_audit.reports.model import Report, Seal

if TYPE_CHECKING:
    from hds_audit.evidence.keys import Signer


def write_reports(
    report: Report,
    folder: Path,
    formats: Sequence[str],
    write: Callable[[str], Path],
    signer: Signer | None,
) -> list[Path]:
    """Write ``formats`` with ``write(format)``; signed (:func:`write_signed`) with a key."""
    if signer is None:
        return [write(name) for name in formats]
    return write_signed(report, folder, formats, write, signer)


def write_signed(
    report: Report,
    folder: Path,
    formats: Sequence[str],
    write: Callable[[str], Path],
    signer: Signer,
) -> list[Path]:
    """Write ``formats`` with ``write(format)`` (``json`` always, and first), then the
    signature and the manifest listing them; return every path written.

    Before the other formats are written, ``report.seal`` receives ``report.json``'s sha256
    and the key's fingerprint, for the HTML annex that a printed copy is matched with.
    """
    first = write("json")
    try:
        digest = file_sha256(first)[1]
    except OSError as error:
        raise AuditIncomplete(f"{first}: cannot read the report back: {error.strerror}") from None
    report.seal = Seal(report_sha256=digest, key_fingerprint=signer.fingerprint)
    written = [first, *(write(name) for name in formats if name != "json")]
    return [*written, *write_manifest(folder, written, report, signer)]
