"""Work done on a second core: a forked child process runs it while this one goes on.

The child starts as a copy of this process (what was built so far is shared, not copied or
sent) and returns what it produces pickled, through an unnamed temporary file, one piece at
a time. Nothing depends on it succeeding: when it cannot start or fails in any way (an
error, a signal, a crash), :func:`start` or :meth:`Beside.results` says so and the caller
does the work itself, so an error is raised here, by the same code, as if there had been
no child.

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
import io
import os
import pickle
import signal
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
        with warnings.catch_warnings():  # Python 3.12+ warns of any thread: see usable()
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        file.close()
        return None
    if pid == 0:
        _run_child(work, file)  # never returns
    return Beside(pid, file)


class Beside:
    """One piece of work running in a forked child (see :func:`start`).

    :meth:`results` waits for it and gives what it sent, in order, or ``None`` when it did
    not finish well; :meth:`close` (also on leaving a ``with`` block) stops a child still
    running and reaps it, whatever happened meanwhile.
    """

    __slots__ = ("_file", "_pid")

    def __init__(self, pid: int, file: IO[bytes]) -> None:
        self._pid = pid
        self._file: IO[bytes] | None = file

    def results(self) -> Iterator[Any] | None:
        """What the child sent, read a piece at a time once it has ended (so it is all
        there); ``None`` if it failed."""
        ended = self._reap(stop=False)
        file = self._file
        if not ended or file is None:
            return None
        self._file = None
        return _pieces(file)

    def close(self) -> None:
        """Stop the child if it still runs, reap it, let its file go."""
        self._reap(stop=True)
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


def _run_child(work: Work, file: IO[bytes]) -> None:
    """The child: run ``work``, its pieces pickled into ``file``; exit 0 only if all went
    well. It leaves by ``os._exit``: none of the parent's exit handlers, buffers or
    finalisers run twice."""
    code = 1
    try:
        with open(file.fileno(), "wb", buffering=_BUFFER, closefd=False) as out:
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)

            def send(piece: Any) -> None:
                pickler.dump(piece)
                pickler.clear_memo()  # each piece on its own: the child keeps none of them

            work(send)
        code = 0
    except BaseException:  # any failure: the parent does the work itself
        code = 1
    finally:
        os._exit(code)


def _pieces(file: IO[bytes]) -> Iterator[Any]:
    """The pieces pickled in ``file``, in order; the file is closed after the last."""
    with file:
        file.seek(0)
        raw = io.FileIO(file.fileno(), "rb", closefd=False)
        with io.BufferedReader(raw, _BUFFER) as stream:
            while stream.peek(1):
                yield pickle.load(stream)
