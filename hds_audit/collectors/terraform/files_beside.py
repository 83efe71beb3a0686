"""Many state and plan files on two cores: a forked child collects the last ones, whole.

A monorepo's gate reads a hundred small states, each below the size at which one file is
shared between two processes (``SECOND_PROCESS_FROM``): one core would read them all. When
the files together are large enough and none holds most of the bytes, a child process
(:mod:`hds_audit.beside`) collects the last files, each as one process would
(:func:`collect_file`), and sends each file's collection back as soon as it is done, while
this process collects the first ones. The collections are then taken in the order of the
inputs, so the run is the one a single process makes. If the child fails in any way, this
process collects what it did not send, from the first file missing, errors and all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hds_audit import beside
from hds_audit.collectors.base import Collection

#: Files together this large (bytes) or more are shared between two processes: about 5,000
#: resources of a generated state (``bench/bench_terraform.py``), where sharing one file
#: starts to pay too.
FILES_BESIDE_FROM = 2_500_000
#: The share of the bytes the child collects: a little more than half, as this process also
#: takes its collections back (unpickling a resource costs about a fifth of collecting it).
CHILD_FILES_SHARE = 0.53

#: Collects one file (its path and label) as one process would.
CollectOne = Callable[[Path, str], Collection]


def split_point(sizes: Sequence[int]) -> int | None:
    """Where the child's files start: the last files holding about
    :data:`CHILD_FILES_SHARE` of the bytes, at least one file on each side; ``None`` when
    sharing is not worth it (too few bytes, or one file holding half of them or more,
    which is then read on two cores by itself)."""
    total = sum(sizes)
    if len(sizes) < 2 or total < FILES_BESIDE_FROM or 2 * max(sizes) >= total:
        return None
    taken = 0
    for start in range(len(sizes) - 1, 0, -1):
        taken += sizes[start]
        if taken >= CHILD_FILES_SHARE * total:
            return start
    return 1


def file_size(path: Path) -> int:
    """The size of ``path``; 0 if it cannot be told (its collection says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


class FilesBeside:
    """The collections a child makes of the files from :attr:`start` on, taken in order.

    :meth:`take` gives the collection of one of those files, or ``None`` when this process
    must collect it itself: a file before :attr:`start`, or one the child did not send (it
    failed, or a piece came out of order: then nothing more is taken from it)."""

    __slots__ = ("_child", "_pieces", "start")

    def __init__(self, child: beside.Beside, start: int) -> None:
        self._child: beside.Beside | None = child
        self._pieces: Iterator[Any] = child.pieces()
        self.start = start

    def take(self, number: int) -> Collection | None:
        """The child's collection of file ``number`` (its place among the files)."""
        if number < self.start or self._child is None:
            return None
        for sent, collection in self._pieces:
            if sent == number and isinstance(collection, Collection):
                return collection
            break
        self.close()  # ended early or out of order: the rest is collected here
        return None

    def close(self) -> None:
        """Stop the child if it still runs and let it go."""
        if self._child is not None:
            self._child.close()
            self._child = None

    def __enter__(self) -> FilesBeside:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_beside(files: Sequence[tuple[Path, str]], collect_one: CollectOne) -> FilesBeside | None:
    """A child collecting the last of ``files`` (path, label), or ``None`` when no child
    runs: sharing is not worth it (:func:`split_point`) or no child could start."""
    start = split_point([file_size(path) for path, _ in files])
    if start is None or not beside.usable():
        return None

    def collect_there(send: beside.Send) -> None:
        for number in range(start, len(files)):
            path, label = files[number]
            send((number, collect_one(path, label)))

    child = beside.start(collect_there)
    return FilesBeside(child, start) if child is not None else None
