"""Terraform collector: state and plan files, and working directories via ``terraform state pull``.

It reads and normalises; it never judges. Each unusable input becomes a
:class:`CollectionError` naming the file, and the other inputs are still collected.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.terraform.documents import ParsedDocument, parse_document
from hds_audit.collectors.terraform.normalise import Normaliser, index_keeps_whole, index_view
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.errors import InputError
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.model import CollectionError, Source

STATE_SUFFIXES = (".tfstate", ".json")
_SKIPPED_DIRS = {".terraform", ".git", "node_modules"}


@dataclass(frozen=True, slots=True)
class TerraformCli:
    """How to run the terraform CLI (injected so tests can point at a given binary)."""

    binary: str = "terraform"

    def available(self) -> bool:
        return shutil.which(self.binary) is not None


def expand_inputs(paths: Iterable[str]) -> Iterator[tuple[str, Path, bool]]:
    """Yield ``(label, path, is_working_dir)`` for each input.

    A directory holding ``*.tf`` files is a Terraform working directory (its state is
    pulled); any other directory contributes its ``*.tfstate`` and ``*.json`` files.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if any(path.glob("*.tf")):
                yield raw, path, True
                continue
            for found in sorted(_state_files(path)):
                yield str(found), found, False
        else:
            yield raw, path, False


def _state_files(directory: Path) -> Iterator[Path]:
    for entry in directory.iterdir():
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS and not any(entry.glob("*.tf")):
                yield from _state_files(entry)
        elif entry.suffix in STATE_SUFFIXES or entry.name.endswith(".tfstate.backup"):
            yield entry


def collect_file(
    path: Path, label: str, geo: GeoTables, keep_attributes: frozenset[str] | None = None
) -> Collection:
    """Read, parse and normalise one state or plan file."""
    result = Collection()
    try:
        if not path.exists():
            raise InputError(label, Msg("input.missing"))
        parsed = parse_document(
            read_text(path, label), label, slim=index_view, kept_whole=index_keeps_whole
        )
    except InputError as error:
        result.errors.append(CollectionError(source=label, scope=label, message=error.problem))
        result.sources.append(CollectedSource(path=label, kind="unreadable", resources=0))
        return result
    return _normalised(parsed, label, geo, keep_attributes)


def _normalised(
    parsed: ParsedDocument, label: str, geo: GeoTables, keep: frozenset[str] | None = None
) -> Collection:
    source = Source(kind=parsed.kind, file=label)
    resources = Normaliser(geo, source, parsed.instances, keep).resources(parsed.replay)
    return Collection(
        resources=resources,
        sources=[
            CollectedSource(
                path=label,
                kind=parsed.kind.value,
                resources=len(resources),
                terraform_version=parsed.terraform_version,
                notes=list(parsed.notes),
            )
        ],
    )


def pull_state(
    directory: Path,
    label: str,
    cli: TerraformCli,
    geo: GeoTables,
    keep_attributes: frozenset[str] | None = None,
) -> Collection:
    """Run ``terraform state pull`` in a working directory (python-terraform) and read it."""
    if not cli.available():
        error = CollectionError(
            source=label,
            scope=label,
            message=Msg("input.no_terraform_cli", binary=cli.binary),
        )
        return Collection(errors=[error], sources=[CollectedSource(label, "unreadable", 0)])
    from python_terraform import Terraform

    runner = Terraform(working_dir=str(directory), terraform_bin_path=cli.binary)
    code, out, err = runner.cmd("state", "pull", capture_output=True)
    if code != 0 or not out.strip():
        detail = " ".join((err or "").split())[:300] or f"exit code {code}, no state printed"
        error = CollectionError(
            source=label, scope=label, message=Msg("input.state_pull_failed", detail=detail)
        )
        return Collection(errors=[error], sources=[CollectedSource(label, "unreadable", 0)])
    with tempfile.TemporaryDirectory(prefix="hds-audit-state-") as tmp:
        pulled = Path(tmp) / "pulled.tfstate"
        pulled.write_text(out, encoding="utf-8")
        result = collect_file(pulled, label, geo, keep_attributes)
    for collected in result.sources:
        collected.notes.append(Msg("note.state_pull"))
    return result


RemoteReader = Callable[[str], bytes]
"""Reads a remote state (``s3://bucket/key``); raises :class:`InputError` when it cannot."""


def collect_remote(
    url: str,
    geo: GeoTables,
    remote: RemoteReader | None,
    keep_attributes: frozenset[str] | None = None,
) -> Collection:
    """A state stored in a remote backend (``s3://bucket/key``), read through ``remote``."""
    try:
        if remote is None:
            raise InputError(url, Msg("input.remote_needs_aws"))
        data = remote(url)
    except InputError as error:
        failure = CollectionError(source=url, scope=url, message=error.problem)
        return Collection(errors=[failure], sources=[CollectedSource(url, "unreadable", 0)])
    with tempfile.TemporaryDirectory(prefix="hds-audit-state-") as tmp:
        fetched = Path(tmp) / "remote.tfstate"
        fetched.write_bytes(data)
        return collect_file(fetched, url, geo, keep_attributes)


def collect_terraform(
    paths: Iterable[str],
    geo: GeoTables,
    cli: TerraformCli | None = None,
    remote: RemoteReader | None = None,
    keep_attributes: frozenset[str] | None = None,
) -> Collection:
    """Collect every input; one bad input never stops the others.

    ``keep_attributes`` names the raw attributes resources keep (``None``: all of them).
    """
    cli = cli or TerraformCli()
    result = Collection()
    paths = list(paths)
    for url in (p for p in paths if p.startswith("s3://")):
        result.extend(collect_remote(url, geo, remote, keep_attributes))
    local = [p for p in paths if not p.startswith("s3://")]
    for label, path, is_working_dir in expand_inputs(local):
        if is_working_dir:
            result.extend(pull_state(path, label, cli, geo, keep_attributes))
        else:
            result.extend(collect_file(path, label, geo, keep_attributes))
    return result


@dataclass(frozen=True, slots=True)
class TerraformCollector:
    """The Terraform inputs of a scan, as a :class:`~hds_audit.collectors.base.Collector`."""

    paths: tuple[str, ...]
    cli: TerraformCli = TerraformCli()
    name: str = "terraform"
    remote: RemoteReader | None = None
    keep_attributes: frozenset[str] | None = None

    def collect(self, geo: GeoTables) -> Collection:
        return collect_terraform(self.paths, geo, self.cli, self.remote, self.keep_attributes)

    def with_attribute_roots(self, roots: frozenset[str]) -> TerraformCollector:
        """The same collector, keeping only the raw attributes policies read."""
        return dataclasses.replace(self, keep_attributes=roots)
