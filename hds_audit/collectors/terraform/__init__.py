"""Terraform collector: state and plan files, and working directories via ``terraform state pull``.

It reads and normalises; it never judges. Each unusable input becomes a
:class:`CollectionError` naming the file, and the other inputs are still collected.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.terraform.documents import (
    ParsedDocument,
    Replay,
    TfInstance,
    parse_document,
)
from hds_audit.collectors.terraform.normalise import Normaliser, index_keeps_whole, index_view
from hds_audit.collectors.terraform.reading import JsonText, read_text
from hds_audit.errors import InputError
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg, Quote
from hds_audit.model import CollectionError, Source
from hds_audit.progress import EVERY, SILENT, ScanProgress

STATE_SUFFIXES = (".tfstate", ".json")
_SKIPPED_DIRS = {".terraform", ".git", "node_modules"}
#: The kind of the collection error of a folder holding no state or plan at all.
EMPTY_INPUT = "nothing_to_audit"
NO_STATE_OR_PLAN = Msg("input.no_state_or_plan")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True, slots=True)
class TerraformCli:
    """How to run the terraform CLI (injected so tests can point at a given binary)."""

    binary: str = "terraform"

    def available(self) -> bool:
        return shutil.which(self.binary) is not None


def expand_inputs(paths: Iterable[str]) -> Iterator[tuple[str, Path, bool | None]]:
    """Yield ``(label, path, is_working_dir)`` for each input.

    A directory holding ``*.tf`` files is a Terraform working directory (its state is
    pulled); any other directory contributes its ``*.tfstate`` and ``*.json`` files, and
    one holding none of them is yielded with ``None``: there is nothing to audit in it.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if any(path.glob("*.tf")):
                yield raw, path, True
                continue
            found = sorted(_state_files(path))
            if not found:
                yield raw, path, None
            for state in found:
                yield str(state), state, False
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
    path: Path,
    label: str,
    geo: GeoTables,
    keep_attributes: frozenset[str] | None = None,
    progress: ScanProgress = SILENT,
) -> Collection:
    """Read, parse and normalise one state or plan file."""
    result = Collection()
    doc: JsonText | None = None
    try:
        if not path.exists():
            raise InputError(label, Msg("input.missing"))
        doc = read_text(path, label)
        parsed = parse_document(doc, label, slim=index_view, kept_whole=index_keeps_whole)
    except InputError as error:
        result.errors.append(CollectionError(source=label, scope=label, message=error.problem))
        unreadable = CollectedSource(path=label, kind="unreadable", resources=0)
        if doc is not None:  # read but not usable: still identify the bytes
            unreadable.size, unreadable.sha256 = doc.size, doc.sha256
        result.sources.append(unreadable)
        return result
    collected = _normalised(parsed, label, geo, keep_attributes, progress)
    for source in collected.sources:
        source.size, source.sha256 = doc.size, doc.sha256
    return collected


def _counted(parsed: ParsedDocument, progress: ScanProgress) -> Replay:
    """Pass every instance of ``parsed`` to a callback, telling ``progress`` how far it got."""

    def replay(each: Callable[[TfInstance], None]) -> None:
        done = 0

        def counting(instance: TfInstance) -> None:
            nonlocal done
            each(instance)
            done += 1
            if done % EVERY == 0:
                progress.count(done)

        if parsed.replay is not None:
            parsed.replay(counting)
        else:
            for instance in parsed.instances:
                counting(instance)

    return replay


def _normalised(
    parsed: ParsedDocument,
    label: str,
    geo: GeoTables,
    keep: frozenset[str] | None = None,
    progress: ScanProgress = SILENT,
) -> Collection:
    source = Source(kind=parsed.kind, file=label)
    replay = _counted(parsed, progress) if progress.active else parsed.replay
    resources = Normaliser(geo, source, parsed.instances, keep).resources(replay)
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
    progress: ScanProgress = SILENT,
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
        error = CollectionError(
            source=label, scope=label, message=_no_state(code, err or "", label)
        )
        return Collection(errors=[error], sources=[CollectedSource(label, "unreadable", 0)])
    with tempfile.TemporaryDirectory(prefix="hds-audit-state-") as tmp:
        pulled = Path(tmp) / "pulled.tfstate"
        pulled.write_text(out, encoding="utf-8")
        result = collect_file(pulled, label, geo, keep_attributes, progress)
    for collected in result.sources:
        collected.notes.append(Msg("note.state_pull"))
    return result


def _no_state(code: int, stderr: str, label: str) -> str:
    """Why ``terraform state pull`` gave no state, in one line, and what to give instead.

    Only Terraform's ``Error:`` lines are kept: its warnings (a missing CLI configuration
    file, say) are noise here.
    """
    hint = Msg("input.code_hint", dir=label)
    errors = [
        text.removeprefix("Error:").strip()
        for line in _ANSI.sub("", stderr).splitlines()
        if (text := line.strip(" \t│╷╵")).startswith("Error:")
    ]
    if code == 0:
        return Msg("input.no_state", hint=hint)
    if not errors:
        return Msg("input.state_pull_exit", code=code, hint=hint)
    if "init" in errors[0]:
        return Msg("input.state_needs_init", error=Quote(errors[0][:200]), hint=hint)
    return Msg("input.state_pull_failed", error=Quote(errors[0][:200]), hint=hint)


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
    progress: ScanProgress = SILENT,
) -> Collection:
    """Collect every input; one bad input never stops the others.

    ``keep_attributes`` names the raw attributes resources keep (``None``: all of them);
    ``progress`` is told which input is read and how many resources are done.
    """
    cli = cli or TerraformCli()
    result = Collection()
    paths = list(paths)
    for url in (p for p in paths if p.startswith("s3://")):
        progress.stage(f"terraform: reading {url}")
        result.extend(collect_remote(url, geo, remote, keep_attributes))
    local = [p for p in paths if not p.startswith("s3://")]
    inputs = list(expand_inputs(local))
    for number, (label, path, is_working_dir) in enumerate(inputs, 1):
        progress.stage(f"terraform: reading {label} ({number}/{len(inputs)})")
        if is_working_dir is None:
            result.errors.append(CollectionError(label, label, NO_STATE_OR_PLAN, kind=EMPTY_INPUT))
        elif is_working_dir:
            result.extend(pull_state(path, label, cli, geo, keep_attributes, progress))
        else:
            result.extend(collect_file(path, label, geo, keep_attributes, progress))
    return result


@dataclass(frozen=True, slots=True)
class TerraformCollector:
    """The Terraform inputs of a scan, as a :class:`~hds_audit.collectors.base.Collector`."""

    paths: tuple[str, ...]
    cli: TerraformCli = TerraformCli()
    name: str = "terraform"
    remote: RemoteReader | None = None
    keep_attributes: frozenset[str] | None = None
    progress: ScanProgress = SILENT

    def collect(self, geo: GeoTables) -> Collection:
        return collect_terraform(
            self.paths, geo, self.cli, self.remote, self.keep_attributes, self.progress
        )

    def with_attribute_roots(self, roots: frozenset[str]) -> TerraformCollector:
        """The same collector, keeping only the raw attributes policies read."""
        return dataclasses.replace(self, keep_attributes=roots)
