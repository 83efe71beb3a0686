"""Write report files atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from hds_audit.errors import AuditIncomplete


def current_umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``/proc``)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _beside(path: Path) -> Iterator[int]:
    """Yield the descriptor of a temporary file beside ``path``; on success it replaces
    ``path`` in one rename, else it vanishes. An ``OSError`` is :class:`AuditIncomplete`.

    The file gets the mode any new file gets (``0o666`` less the umask), not the private
    ``0o600`` of a temporary file: a colleague or a web server reads reports as usual.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise AuditIncomplete(f"{path}: cannot write the report: {error.strerror}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except OSError as error:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise AuditIncomplete(f"{path}: cannot write the report: {error.strerror}") from None
    try:
        yield fd
        replace_letting_old_go(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise AuditIncomplete(f"{path}: cannot write the report: {error.strerror}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# An old report at least this large is let go off the writer's path (see below).
_LARGE_OLD = 1 << 20


def replace_letting_old_go(tmp: Path, path: Path) -> threading.Thread | None:
    """Rename ``tmp`` over ``path``. A large old report is held open across the rename and
    closed in a thread of its own: freeing its blocks (60 ms for 300 MB on ext4) is then the
    last close's work, done beside the writer's next step, not the rename's. Returns that
    thread, if any. Only where an open file can be renamed over (POSIX): elsewhere a plain
    rename."""
    if os.name != "posix":
        tmp.replace(path)
        return None
    old = None
    try:
        # A link is replaced, never its target held; a FIFO named like the report never waits.
        old = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        if os.fstat(old).st_size < _LARGE_OLD:
            os.close(old)
            old = None
    except OSError:  # none, a link, unreadable: nothing to hold (the rename still decides)
        if old is not None:
            os.close(old)
            old = None
    try:
        tmp.replace(path)
    finally:
        closer = None
        if old is not None:
            closer = threading.Thread(target=os.close, args=(old,), name="old-report")
            closer.daemon = True
            closer.start()
    return closer


class _Flusher:
    """Sends what was written so far to the disk every ``every`` seconds, in a thread of its
    own while the caller writes on (the system call lets go of the interpreter), so the
    closing ``fsync`` of a report of hundreds of megabytes finds little left to write."""

    def __init__(self, fd: int, every: float = 0.05) -> None:
        self._fd, self._every = fd, every
        self._stop = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="report-flusher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                os.fdatasync(self._fd)
            except OSError as error:  # told once per descriptor: kept for the writer
                self._error = error
                return

    def stop(self, quiet: bool = False) -> None:
        """Wait for the thread; raise the error it met, if any (unless ``quiet``)."""
        self._stop.set()
        self._thread.join()
        if self._error is not None and not quiet:
            raise self._error


@contextlib.contextmanager
def atomic_writer(path: Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Yield a text stream; on success it replaces ``path`` in one rename, else vanishes."""
    with _beside(path) as fd, os.fdopen(fd, "w", encoding=encoding, newline="\n") as stream:
        flusher = _Flusher(fd)
        try:
            yield stream
            stream.flush()
        except BaseException:
            flusher.stop(quiet=True)  # the error that stopped the writer is the one to tell
            raise
        flusher.stop()
        os.fsync(stream.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` in one rename (a reader sees the old file or the new one)."""
    with _beside(path) as fd, os.fdopen(fd, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    return path
