"""Read an input file the user names, safely: regular files only, never more than a limit.

A FIFO would block the run forever, ``/dev/zero`` would fill the memory, and a file far
larger than any real input is a mistake: each is refused with one line naming the kind of
problem, before a byte is read. The caller wraps :class:`FileProblem` in its own error type
(an input error, a policy error ...) with the file's name.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from hds_audit.i18n import Msg

#: Terraform states and plans: the largest real ones are tens of MiB.
MAX_STATE_BYTES = 1024 * 2**20
#: Files a person writes (policies, configuration, waivers, registries, baselines).
MAX_DATA_BYTES = 64 * 2**20

_KINDS = (
    (stat.S_ISDIR, "file.kind.folder"),
    (stat.S_ISFIFO, "file.kind.fifo"),
    (stat.S_ISCHR, "file.kind.character_device"),
    (stat.S_ISBLK, "file.kind.block_device"),
    (stat.S_ISSOCK, "file.kind.socket"),
)


class FileProblem(Exception):
    """Why a file cannot be read, as a phrase to follow its name (``is not a regular file``):
    a :class:`~hds_audit.i18n.Msg` (``file.*`` in the catalogue), so a report renders it in
    its reader's language; as a string, its English text."""

    def __init__(self, problem: str, missing: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = missing  # the file does not exist


def special_kind(mode: int) -> Msg | None:
    """``a FIFO``, ``a character device`` ... for a file that is not a regular one."""
    for test, kind in _KINDS:
        if test(mode):
            return Msg(kind)
    return None if stat.S_ISREG(mode) else Msg("file.kind.special")


def unreadable(error: OSError, again: bool = False) -> FileProblem:
    """The problem of a file the system would not open or read (its own words, English)."""
    key = "file.unreadable_again" if again else "file.unreadable"
    return FileProblem(Msg(key, error=str(error.strerror or error)), error.errno == errno.ENOENT)


def read_bytes(path: Path, limit: int = MAX_DATA_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened without blocking (a FIFO opened for reading would wait for a writer), checked
    with ``fstat`` on the open descriptor (no race with a swapped path), read up to the limit.
    """
    return read_file(path, limit)[0]


FileIdentity = tuple[int, int, int, int]
"""A file as read: device, inode, size and modification time (ns)."""


def identity_of(info: os.stat_result) -> FileIdentity:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def read_file(path: Path, limit: int = MAX_DATA_BYTES) -> tuple[bytes, FileIdentity]:
    """Like :func:`read_bytes`, with the identity of the file read (from the same
    descriptor), so a later read can check it is still the same file, unchanged."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise unreadable(error) from None
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise FileProblem(Msg("file.not_regular", kind=kind))
        if info.st_size > limit:
            raise FileProblem(Msg("file.too_large", limit=limit // 2**20))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(info.st_size + 1)  # its size, and one byte to see it grow
            if len(data) > info.st_size:
                data += stream.read(limit + 1 - len(data))
    except OSError as error:
        raise unreadable(error) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        raise FileProblem(Msg("file.too_large", limit=limit // 2**20))
    return data, identity_of(info)


def reopen(path: Path, identity: FileIdentity) -> io.BufferedReader:
    """``path`` opened again for reading, if it is still the file :func:`read_file` read,
    unchanged; else :class:`FileProblem`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise unreadable(error, again=True) from None
    try:
        check_unchanged(fd, identity)  # before blocking reads: a FIFO is not the same file
    except FileProblem:
        os.close(fd)
        raise
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


CHANGED = Msg("file.changed")


def check_unchanged(fd: int, identity: FileIdentity) -> None:
    """:class:`FileProblem` unless the open file ``fd`` is still the one first read."""
    if identity_of(os.fstat(fd)) != identity:
        raise FileProblem(CHANGED)


def read_text(path: Path, limit: int = MAX_DATA_BYTES) -> str:
    """The UTF-8 text of ``path`` (see :func:`read_bytes`); a bad byte is named by offset."""
    return utf8(read_bytes(path, limit))


def utf8(data: bytes) -> str:
    """``data`` decoded as UTF-8, or :class:`FileProblem` naming the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(Msg("file.not_utf8", byte=error.start)) from None
