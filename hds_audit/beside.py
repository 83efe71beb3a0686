"""Work done on a second core: a forked child process runs it while this one goes on.

The child starts as a copy of this process (what was built so far is shared, not copied or
sent) and returns what it produces pickled, through an unnamed temporary file, one piece at
a time: each as soon as it is written (:meth:`Beside.pieces`; a pipe tells where each piece
ends), or all of them once it has ended (:meth:`Beside.results`). Nothing depends on it
succeeding: when it cannot start or fails in any way (an error, a signal, a crash),
:func:`start`, :meth:`Beside.results` or the end of :meth:`Beside.pieces` says so and the
caller does the work (or what is left of it) itself, so an error is raised here, by the
same code, as if there had been no child.

Pages the two processes share are copied as soon as either writes to one (CPython writes
to an object whenever it takes or drops a reference to it): a child beside a process that
works on a large structure built before the fork soon holds a copy of most of it. Work is
therefore given to a child where the structures it shares are few or only read (the bytes
of a file), not where both sides walk the same large index.

A child is started only where forking is sound: a POSIX system, two usable cores or more,
and no other thread running in this process (a thread's locks would be copied held) but
those marked :func:`fork_safe` (a thread whose locks and objects no child ever uses).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import IO, Any

Send = Callable[[Any], None]
#: What the child runs: its argument sends one piece of the result back.
Work = Callable[[Send], None]

_BUFFER = 1 << 20
# Where a piece ends in the file, told through the pipe once it is all written.
_END = struct.Struct("<Q")


_FORK_SAFE: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def fork_safe(thread: threading.Thread) -> None:
    """Mark ``thread`` as one a child may be forked beside: nothing a child runs uses its
    locks or objects (a digest computed beside the reader)."""
    _FORK_SAFE.add(thread)


def usable() -> bool:
    """Whether a child can work beside this process now (see the module's note)."""
    if not hasattr(os, "fork"):
        return False
    current = threading.current_thread()
    if any(t is not current and t not in _FORK_SAFE for t in threading.enumerate()):
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) >= 2 if cores is not None else (os.cpu_count() or 1) >= 2


def start(work: Work) -> Beside | None:
    """``work`` running in a forked child, or ``None`` when no child could be started (no
    room for its temporary file, no process to spare): the caller then does the work."""
    try:
        # Held past this call (the child writes it, results() reads it), closed by close().
        file = tempfile.TemporaryFile()  # noqa: SIM115
    except OSError:
        return None
    try:
        told, tell = os.pipe()  # not inherited by programs either process runs
    except OSError:
        file.close()
        return None
    try:
        with warnings.catch_warnings():  # Python 3.12+ warns of any thread: see usable()
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        file.close()
        os.close(told)
        os.close(tell)
        return None
    if pid == 0:
        os.close(told)
        _run_child(work, file, tell)  # never returns
    os.close(tell)  # the child's end: the pipe ends when the child does
    return Beside(pid, file, told)


class Beside:
    """One piece of work running in a forked child (see :func:`start`).

    :meth:`results` waits for it and gives what it sent, in order, or ``None`` when it did
    not finish well; :meth:`pieces` gives each piece as soon as it is sent. :meth:`close`
    (also on leaving a ``with`` block) stops a child still running and reaps it, whatever
    happened meanwhile.
    """

    __slots__ = ("_file", "_pid", "_read", "_told")

    def __init__(self, pid: int, file: IO[bytes], told: int) -> None:
        self._pid = pid
        self._file: IO[bytes] | None = file
        self._told = told  # the pipe's end where the child tells where each piece ends
        self._read = 0  # where the pieces taken so far end

    def results(self) -> Iterator[Any] | None:
        """What the child sent (and :meth:`pieces` did not take), in order, once it has
        ended (so it is all there); ``None`` if it failed."""
        sent = list(self.pieces())  # to the pipe's end: the child has ended
        return iter(sent) if self._reap(stop=False) else None

    def pieces(self) -> Iterator[Any]:
        """Each piece the child sends, in order, as soon as it is all written (waiting for
        it). The pieces end where the child did: when that was early (a failure), the
        caller sees fewer than it expected and does the rest itself (also once closed)."""
        while self._file is not None and self._told >= 0:
            told = _read_exactly(self._told, _END.size)
            if told is None:
                return
            (end,) = _END.unpack(told)
            start, self._read = self._read, end
            yield pickle.loads(_pread_exactly(self._file.fileno(), end - start, start))

    def close(self) -> None:
        """Stop the child if it still runs, reap it, let its file and pipe go."""
        self._reap(stop=True)
        if self._told >= 0:
            os.close(self._told)
            self._told = -1
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reap(self, stop: bool) -> bool:
        """Wait for the child (killed first with ``stop``); whether it exited with 0."""
        if self._pid <= 0:
            return False
        pid, self._pid = self._pid, -1
        if stop:
            with contextlib.suppress(ProcessLookupError):  # ended already: still reaped
                os.kill(pid, signal.SIGKILL)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else: its outcome is unknown
            return False
        return os.waitstatus_to_exitcode(status) == 0


def _run_child(work: Work, file: IO[bytes], tell: int) -> None:
    """The child: run ``work``, its pieces pickled into ``file``, where each ends told
    through the pipe ``tell`` once it is written; exit 0 only if all went well. It leaves
    by ``os._exit``: none of the parent's exit handlers, buffers or finalisers run twice."""
    code = 1
    try:
        with open(file.fileno(), "wb", buffering=_BUFFER, closefd=False) as out:
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)

            def send(piece: Any) -> None:
                pickler.dump(piece)
                pickler.clear_memo()  # each piece on its own: the child keeps none of them
                out.flush()
                os.write(tell, _END.pack(out.tell()))  # 8 bytes: written whole

            work(send)
        code = 0
    except BaseException:  # any failure: the parent does the work itself
        code = 1
    finally:
        os._exit(code)


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from the pipe ``fd``, or ``None`` at its end."""
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            return None
        data += more
    return data


def _pread_exactly(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes of the file ``fd`` from ``offset`` (its shared position unmoved)."""
    data = os.pread(fd, size, offset)
    while len(data) < size:  # (a regular file gives all at once; read on if not)
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise EOFError("a piece ends past the child's file")
        data += more
    return data
