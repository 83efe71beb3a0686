"""Fingerprints of the files a run reads: path as given, kind, size and sha256 of the bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file a run read, identified by the exact bytes it read."""

    path: str  # as the user gave it (or the s3:// URL, or the working directory)
    kind: str  # terraform-state, terraform-plan, registry, attestations, waivers, ...
    size: int
    sha256: str

    def as_dict(self) -> dict[str, str | int]:
        return {"path": self.path, "kind": self.kind, "size": self.size, "sha256": self.sha256}


def fingerprint(data: bytes, path: str, kind: str) -> InputFile:
    """The record of ``data``, read from ``path``."""
    return InputFile(path, kind, len(data), hashlib.sha256(data).hexdigest())


def read_input(path: str | Path, kind: str) -> tuple[bytes, InputFile]:
    """Read ``path`` once; return its bytes and their record. ``OSError`` passes through."""
    data = Path(path).read_bytes()
    return data, fingerprint(data, str(path), kind)


def combined_digest(named: Iterable[tuple[str, str]]) -> str:
    """sha256 over ``name<TAB>sha256`` lines, sorted: one digest for a set of files."""
    lines = sorted(f"{name}\t{digest}" for name, digest in named)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
