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
from functools import partial
from pathlib import Path

from hds_audit import inputs
from hds_audit.collectors.base import CollectedSource, Collection
from hds_audit.collectors.terraform import files_beside
from hds_audit.collectors.terraform.documents import (
    ParsedDocument,
    Replay,
    TfInstance,
    parse_document,
    shape_problem,
)
from hds_audit.collectors.terraform.normalise import Normaliser, index_slimmer
from hds_audit.collectors.terraform.reading import JsonText, read_text
from hds_audit.errors import InputError, ShapeError
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
#: A state of this many resources or more is read on two cores when it can (see
#: ``fast_state._first_pass_beside``). Measured on 2 cores, pipeline and report.json, median
#: of 7 runs: 5,000 resources 0.196 s alone, 0.167 s with the child; 10,000 0.352 / 0.289 s;
#: 20,000 0.676 / 0.559 s; at 2,000 it costs what it saves (0.104 / 0.107 s).
SECOND_PROCESS_FROM = 5_000


@dataclass(frozen=True, slots=True)
class TerraformCli:
    """How to run the terraform CLI (injected so tests can point at a given binary)."""

    binary: str = "terraform"

    def available(self) -> bool:
        return shutil.which(self.binary) is not None


@dataclass(frozen=True, slots=True)
class Input:
    """One input to read: a state or plan file, a working directory, a folder holding no
    state or plan (``empty``), or a folder that could not be listed (``problem`` says why)."""

    label: str
    path: Path
    working_dir: bool = False
    empty: bool = False
    problem: str | None = None


def expand_inputs(paths: Iterable[str]) -> Iterator[Input]:
    """Yield each input once.

    A directory holding ``*.tf`` files is a Terraform working directory (its state is
    pulled); any other directory contributes its ``*.tfstate`` and ``*.json`` files, walked
    without following a symbolic link back into a folder already walked (``cycle -> .``)
    and without yielding a file already met by another path; one holding none of them is
    yielded as ``empty``: there is nothing to audit in it.
    """
    seen: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if _has_tf(path):
                yield Input(raw, path, working_dir=True)
                continue
            found = sorted(_walk(path, set()), key=lambda i: str(i.path))
            if not any(f.problem is None for f in found):
                yield Input(raw, path, empty=True)
            for state in found:
                if state.problem is not None or _first_visit(state.path, seen):
                    yield state
        elif _first_visit(path, seen):
            yield Input(raw, path)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _first_visit(path: Path, seen: set[tuple[int, int]]) -> bool:
    """False when ``path`` is a file already yielded (by another name or link)."""
    identity = _identity(path)
    if identity is None:
        return True  # let the reader name what is wrong with it
    if identity in seen:
        return False
    seen.add(identity)
    return True


def _has_tf(directory: Path) -> bool:
    try:
        return any(directory.glob("*.tf"))
    except OSError:
        return False


def _walk(directory: Path, walked: set[tuple[int, int]]) -> Iterator[Input]:
    identity = _identity(directory)
    if identity is None or identity in walked:
        return
    walked.add(identity)
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        yield Input(str(directory), directory, problem=inputs.unreadable(error).problem)
        return
    for entry in entries:
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS and not _has_tf(entry):
                yield from _walk(entry, walked)
        elif entry.suffix in STATE_SUFFIXES or entry.name.endswith(".tfstate.backup"):
            yield Input(str(entry), entry)


def collect_file(
    path: Path,
    label: str,
    geo: GeoTables,
    keep_attributes: frozenset[str] | None = None,
    progress: ScanProgress = SILENT,
    second_process_from: int | None = SECOND_PROCESS_FROM,
) -> Collection:
    """Read, parse and normalise one state or plan file; a state of ``second_process_from``
    resources or more is read on two cores when it can (``None``: never)."""
    doc: JsonText | None = None
    try:
        if not path.exists():
            raise InputError(label, Msg("input.missing"))
        doc = read_text(path, label)
        parsed = parse_document(doc, label, index_slimmer(), second_process_from)
        try:
            collected = _normalised(parsed, label, geo, keep_attributes, progress)
        finally:
            parsed.release()
    except InputError as error:
        return unreadable(label, error.problem, doc)
    except (ShapeError, RecursionError, AttributeError, TypeError, ValueError) as error:
        # A value of a shape the normaliser cannot use: this file is an input error, the
        # other inputs are still read.
        return unreadable(label, shape_problem(error), doc)
    for source in collected.sources:
        source.size, source.sha256 = doc.size, doc.sha256
    return collected


def unreadable(label: str, problem: str, doc: JsonText | None = None) -> Collection:
    """The collection of an input that could not be used: one error naming it (and, when
    its bytes were read, their size and sha256)."""
    source = CollectedSource(path=label, kind="unreadable", resources=0)
    if doc is not None:
        source.size, source.sha256 = doc.size, doc.sha256
    return Collection(
        errors=[CollectionError(source=label, scope=label, message=problem)], sources=[source]
    )


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
    second_process_from: int | None = SECOND_PROCESS_FROM,
) -> Collection:
    """Run ``terraform state pull`` in a working directory (python-terraform) and read it
    (:func:`collect_file`)."""
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
        result = collect_file(pulled, label, geo, keep_attributes, progress, second_process_from)
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
    second_process_from: int | None = SECOND_PROCESS_FROM,
) -> Collection:
    """A state stored in a remote backend (``s3://bucket/key``), read through ``remote``
    (:func:`collect_file`)."""
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
        return collect_file(fetched, url, geo, keep_attributes, SILENT, second_process_from)


def collect_terraform(
    paths: Iterable[str],
    geo: GeoTables,
    cli: TerraformCli | None = None,
    remote: RemoteReader | None = None,
    keep_attributes: frozenset[str] | None = None,
    progress: ScanProgress = SILENT,
    second_process_from: int | None = SECOND_PROCESS_FROM,
) -> Collection:
    """Collect every input; one bad input never stops the others.

    ``keep_attributes`` names the raw attributes resources keep (``None``: all of them);
    ``progress`` is told which input is read and how many resources are done; a state (a
    file, pulled or remote) of ``second_process_from`` resources or more is read on two
    cores when it can.
    """
    cli = cli or TerraformCli()
    result = Collection()
    paths = list(paths)
    for url in (p for p in paths if p.startswith("s3://")):
        progress.stage(f"terraform: reading {url}")
        result.extend(collect_remote(url, geo, remote, keep_attributes, second_process_from))
    local = [p for p in paths if not p.startswith("s3://")]
    inputs = list(expand_inputs(local))
    files = [(i.path, i.label) for i in inputs if not (i.problem or i.empty or i.working_dir)]
    helper = None
    if second_process_from is not None:
        # Many files: the last ones collected by a child, each file by one process.
        helper = files_beside.start_beside(
            files, partial(_collect_alone, geo=geo, keep_attributes=keep_attributes)
        )
    # While a child collects files, each file here is read by this process alone.
    each_file_from = None if helper is not None else second_process_from
    file_number = 0
    try:
        for number, found in enumerate(inputs, 1):
            label, path = found.label, found.path
            progress.stage(f"terraform: reading {label} ({number}/{len(inputs)})")
            if found.problem is not None:
                result.extend(unreadable(label, found.problem))
            elif found.empty:
                error = CollectionError(label, label, NO_STATE_OR_PLAN, kind=EMPTY_INPUT)
                result.errors.append(error)
            elif found.working_dir:
                result.extend(
                    pull_state(path, label, cli, geo, keep_attributes, progress, each_file_from)
                )
            else:
                taken = helper.take(file_number) if helper is not None else None
                file_number += 1
                if taken is None:
                    taken = collect_file(
                        path, label, geo, keep_attributes, progress, each_file_from
                    )
                result.extend(taken)
    finally:
        if helper is not None:
            helper.close()
    return result


def _collect_alone(
    path: Path, label: str, *, geo: GeoTables, keep_attributes: frozenset[str] | None
) -> Collection:
    """:func:`collect_file` in one process, telling no progress (a child's work)."""
    return collect_file(path, label, geo, keep_attributes, SILENT, None)


@dataclass(frozen=True, slots=True)
class TerraformCollector:
    """The Terraform inputs of a scan, as a :class:`~hds_audit.collectors.base.Collector`."""

    paths: tuple[str, ...]
    cli: TerraformCli = TerraformCli()
    name: str = "terraform"
    remote: RemoteReader | None = None
    keep_attributes: frozenset[str] | None = None
    progress: ScanProgress = SILENT
    #: State files of this many resources or more are read on two cores when they can
    #: (``None``: never).
    second_process_from: int | None = SECOND_PROCESS_FROM

    def collect(self, geo: GeoTables) -> Collection:
        return collect_terraform(
            self.paths,
            geo,
            self.cli,
            self.remote,
            self.keep_attributes,
            self.progress,
            self.second_process_from,
        )

    def with_attribute_roots(self, roots: frozenset[str]) -> TerraformCollector:
        """The same collector, keeping only the raw attributes policies read."""
        return dataclasses.replace(self, keep_attributes=roots)
