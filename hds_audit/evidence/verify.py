"""Check a report folder against its signed manifest, and the run's inputs against it.

:func:`verify_pack` returns one line per mismatch (a bad signature, a changed or missing
report file, a changed input); files that cannot be checked at all (no manifest, an
unreadable key, an input named that cannot be read) raise :class:`UsageError` (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from hds_audit.errors import UsageError
from hds_audit.evidence.keys import load_public_key, public_key_fingerprint, signature_valid
from hds_audit.evidence.manifest import FORMAT, MANIFEST_NAME, SIGNATURE_NAME, file_sha256


@dataclass(slots=True)
class Verdict:
    """What :func:`verify_pack` found."""

    key_fingerprint: str
    files: int = 0  # report files checked
    inputs: int = 0  # input files checked
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"{path}: {what} not found (not a signed hds-audit report folder)"
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read the {what}: {error.strerror}") from None


def _entries(items: Any, what: str, where: Path) -> list[dict[str, Any]]:
    """A manifest list whose entries each carry a ``sha256`` (else UsageError)."""
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("sha256"), str) for i in items
    ):
        raise UsageError(f"{where}: not an hds-audit manifest (no valid {what} list)")
    return items


def verify_pack(folder: Path, public_key: Path, inputs: Sequence[str] = ()) -> Verdict:
    """Check ``folder``'s manifest signature with ``public_key``, every file it lists and,
    for each path in ``inputs`` (files or folders), the sha256 the run recorded for it."""
    key = load_public_key(public_key)
    manifest_path = folder / MANIFEST_NAME
    data = _read(manifest_path, "manifest")
    signature = _read(folder / SIGNATURE_NAME, "signature")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"{manifest_path}: not an hds-audit manifest (not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UsageError(f"{manifest_path}: not an hds-audit manifest (format is not {FORMAT})")
    files = _entries(manifest.get("files"), "'files'", manifest_path)
    run = manifest.get("run")
    recorded = _entries(
        run.get("inputs") if isinstance(run, dict) else None, "run.inputs", manifest_path
    )
    verdict = Verdict(public_key_fingerprint(key))
    if not signature_valid(key, signature, data):
        verdict.mismatches.append(
            f"{SIGNATURE_NAME}: bad signature: {MANIFEST_NAME} was not signed by the key in "
            f"{public_key} (key sha256 {verdict.key_fingerprint}), or was changed after signing"
        )
    for entry in files:
        verdict.files += 1
        _check_report_file(folder, entry, verdict.mismatches)
    for given in inputs:
        verdict.inputs += _check_input(given, recorded, verdict.mismatches)
    return verdict


def _check_report_file(folder: Path, entry: dict[str, Any], mismatches: list[str]) -> None:
    name = str(entry.get("name", ""))
    if not name or PurePath(name).name != name or name in (".", ".."):
        mismatches.append(f"{name!r}: not a plain file name in the manifest (refused)")
        return
    _compare(folder / name, name, entry, mismatches, "")


def _check_input(given: str, recorded: list[dict[str, Any]], mismatches: list[str]) -> int:
    """Compare one ``--inputs`` path (a folder: each recorded input under it); return how
    many input files were checked."""
    path = Path(given)
    if path.is_dir():
        under = [r for r in recorded if _is_under(str(r.get("path", "")), path)]
        if not under:
            mismatches.append(f"{given}: no input of this run lies in this folder")
        for inside in under:
            _compare(Path(str(inside["path"])), str(inside["path"]), inside, mismatches)
        return len(under)
    found = _find(given, recorded)
    if found is None:
        mismatches.append(f"{given}: not an input of this run (not in run.inputs)")
        return 0
    _compare(path, given, found, mismatches)
    return 1


def _compare(
    path: Path, label: str, entry: dict[str, Any], mismatches: list[str], what: str = "input "
) -> None:
    """Hash ``path``; a mismatch line when it differs from ``entry`` or is missing."""
    expected = entry["sha256"]
    try:
        actual = file_sha256(path)[1]
    except FileNotFoundError:
        mismatches.append(f"{label}: {what}missing (expected sha256 {expected})")
        return
    except OSError as error:
        raise UsageError(f"{path}: cannot be read: {error.strerror}") from None
    if actual != expected:
        mismatches.append(f"{label}: {what}sha256 expected {expected}, actual {actual}")


def _find(given: str, recorded: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The recorded input ``given`` names: the same path as given, the same path once
    normalised, else the only input with that file name."""
    for entry in recorded:
        if entry.get("path") == given:
            return entry
    wanted = PurePath(given)
    same = [r for r in recorded if PurePath(str(r.get("path", ""))) == wanted]
    if same:
        return same[0]
    named = [r for r in recorded if PurePath(str(r.get("path", ""))).name == wanted.name]
    return named[0] if len(named) == 1 else None


def _is_under(recorded: str, folder: Path) -> bool:
    if "://" in recorded:
        return False
    try:
        Path(recorded).resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
