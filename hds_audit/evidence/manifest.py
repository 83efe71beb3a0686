"""``manifest.json``: the report files a run wrote and the facts of that run, signed.

The manifest is plain JSON (sorted keys, UTF-8, two-space indent, one final newline); those
exact bytes are what ``manifest.sig`` signs: a raw 64-byte Ed25519 signature, checkable with
``hds-audit verify`` or ``openssl pkeyutl -verify -rawin``. It is written after every other
report file, the signature first and the manifest last, each atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hds_audit.errors import AuditIncomplete
from hds_audit.reports.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from hds_audit.evidence.keys import Signer
    from hds_audit.reports.model import Report

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
FORMAT = "hds-audit-manifest/1"
_CHUNK = 1 << 20


def file_sha256(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file, read in chunks (``OSError`` passes through)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def run_facts(report: Report) -> dict[str, Any]:
    """What identifies the run: dates, tool, digests of what it judged with, its inputs."""
    from hds_audit.reports.json_report import run_dict

    run = run_dict(report)
    facts = {
        key: run[key]
        for key in (
            "started_at",
            "finished_at",
            "tool_version",
            "audit_date",
            "config_file",
            "shard",
            "inputs",
            "registry_digest",
            "frameworks_digest",
        )
    }
    facts["policy_set_digest"] = run["policy_set"]["digest"]
    facts["allowed_area"] = run["allowed_area"]["label"]
    facts["sources"] = [s["path"] for s in run["sources"]]
    if run["merged_from"] is not None:
        facts["merged_from"] = [
            {"path": m["path"], "manifest_sha256": m["manifest_sha256"]} for m in run["merged_from"]
        ]
    return facts


def build_manifest(files: Sequence[Path], report: Report, key_fingerprint: str) -> dict[str, Any]:
    """The manifest of ``files`` (all in one folder) written for ``report``."""
    listed = []
    for path in files:
        size, digest = file_sha256(path)
        listed.append({"name": path.name, "size": size, "sha256": digest})
    return {
        "format": FORMAT,
        "files": sorted(listed, key=lambda f: str(f["name"])),
        "run": run_facts(report),
        "signing_key_sha256": key_fingerprint,
    }


def listed_sha256(data: bytes, name: str) -> str | None:
    """The sha256 a manifest's bytes list for file ``name`` (None: not listed or not a
    manifest). Says nothing of the signature: :mod:`hds_audit.evidence.verify` checks it."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    for entry in files if isinstance(files, list) else ():
        if isinstance(entry, dict) and entry.get("name") == name:
            digest = entry.get("sha256")
            return digest if isinstance(digest, str) else None
    return None


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The canonical bytes of a manifest: what is written and what is signed."""
    return (json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()


def write_manifest(
    folder: Path, files: Sequence[Path], report: Report, signer: Signer
) -> tuple[Path, Path]:
    """Write ``manifest.sig`` then ``manifest.json`` into ``folder``; return both paths, in
    that order."""
    try:
        manifest = build_manifest(files, report, signer.fingerprint)
    except OSError as error:
        raise AuditIncomplete(
            f"{error.filename}: cannot read the report back to sign it: {error.strerror}"
        ) from None
    data = manifest_bytes(manifest)
    signature = atomic_write_bytes(folder / SIGNATURE_NAME, signer.sign(data))
    return signature, atomic_write_bytes(folder / MANIFEST_NAME, data)
