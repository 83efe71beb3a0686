"""Work done beside this process: what a forked child sends comes back in order, and any way
it fails is a ``None`` the caller sees, never a partial result or a child left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from hds_audit import beside
from hds_audit.beside import Beside

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child")


def _sends(count: int) -> beside.Work:
    def work(send: beside.Send) -> None:
        for number in range(count):
            send({"piece": number, "pid": os.getpid(), "text": "x" * number})

    return work


def _started(work: beside.Work) -> Beside:
    child = beside.start(work)
    assert child is not None
    return child


def _results(child: Beside) -> list[object] | None:
    sent = child.results()
    return None if sent is None else list(sent)


def test_what_the_child_sends_comes_back_in_order() -> None:
    with _started(_sends(300)) as child:
        sent = _results(child)
    assert sent is not None
    assert [piece["piece"] for piece in sent] == list(range(300))  # type: ignore[index]
    assert sent[299]["text"] == "x" * 299  # type: ignore[index]
    assert {piece["pid"] for piece in sent} != {os.getpid()}  # type: ignore[index]


def test_a_child_that_sends_nothing_gives_an_empty_result() -> None:
    with _started(lambda send: None) as child:
        assert _results(child) == []


def _fails_after_sending(send: beside.Send) -> None:
    send("first")
    raise ValueError("the child's own error")


def _killed_after_sending(send: beside.Send) -> None:
    send("first")
    os.kill(os.getpid(), signal.SIGKILL)


def _exits_after_sending(send: beside.Send) -> None:
    send("first")
    raise SystemExit(0)  # an exit, even a "successful" one, before the work is done


@pytest.mark.parametrize(
    "work", [_fails_after_sending, _killed_after_sending, _exits_after_sending]
)
def test_a_child_that_fails_any_way_gives_none_not_what_it_sent(work: beside.Work) -> None:
    with _started(work) as child:
        assert child.results() is None


def test_many_pieces_come_back_once_the_child_has_ended() -> None:
    """More pieces than the pipe that tells where each ends can hold unread: the child is
    never left waiting on it (were it, this fresh interpreter would not end in time)."""
    code = (
        "from hds_audit.beside import start\n"
        "with start(lambda send: [send(n) for n in range(20_000)]) as child:\n"
        "    print(list(child.results()) == list(range(20_000)))\n"
    )
    assert _python(code).stdout.split() == ["True"]


def _sends_then_waits(send: beside.Send) -> None:
    send("first")
    send("second")
    time.sleep(60)


def test_pieces_come_as_soon_as_they_are_sent() -> None:
    """The first pieces are taken while the child still runs (it would run a minute);
    closing then stops it."""
    started = time.monotonic()
    with _started(_sends_then_waits) as child:
        pieces = child.pieces()
        assert [next(pieces), next(pieces)] == ["first", "second"]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "work", [_fails_after_sending, _killed_after_sending, _exits_after_sending]
)
def test_pieces_end_where_a_failing_child_stopped(work: beside.Work) -> None:
    """What was sent before the failure, nothing after: the caller counts what it got."""
    with _started(work) as child:
        assert list(child.pieces()) == ["first"]


def test_pieces_end_once_the_child_is_closed() -> None:
    child = _started(_sends_then_waits)
    pieces = child.pieces()
    assert next(pieces) == "first"
    child.close()
    assert list(pieces) == []


def test_the_pieces_of_a_child_that_ends_well_are_all_there() -> None:
    with _started(_sends(300)) as child:
        sent = list(child.pieces())
    assert [piece["piece"] for piece in sent] == list(range(300))  # type: ignore[index]


def test_closing_stops_and_reaps_a_child_still_running() -> None:
    child = _started(lambda send: time.sleep(60))
    pid = child._pid
    started = time.monotonic()
    child.close()
    assert time.monotonic() - started < 30
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(pid, os.WNOHANG)
    assert child.results() is None  # and nothing to wait for


def test_an_error_here_stops_the_child_on_leaving_the_block() -> None:
    pids = []
    with pytest.raises(RuntimeError), _started(lambda send: time.sleep(60)) as child:
        pids.append(child._pid)
        raise RuntimeError("the main process's own error")
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter (no thread of this test process in it)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )


def test_the_child_writes_nothing_the_parent_buffered() -> None:
    """Text buffered before the fork is written once, by the parent: the child leaves by
    ``os._exit`` without flushing its copy of the buffers."""
    code = (
        "import sys\n"
        "from hds_audit.beside import start\n"
        "sys.stdout.write('buffered once')\n"
        "with start(lambda send: send(1)) as child:\n"
        "    assert list(child.results()) == [1]\n"
    )
    done = _python(code)
    assert done.stdout == "buffered once"
    assert done.stderr == ""


def test_a_child_is_forked_only_beside_threads_marked_safe() -> None:
    """A fresh process (a test process may run helper threads of its own): usable with two
    cores and no other thread, or beside a marked one; not beside an unmarked one."""
    code = (
        "import os, threading\n"
        "from hds_audit import beside\n"
        "alone = beside.usable()\n"
        "stop = threading.Event()\n"
        "marked = threading.Thread(target=stop.wait, daemon=True)\n"
        "beside.fork_safe(marked)\n"
        "marked.start()\n"
        "with_marked = beside.usable()\n"
        "other = threading.Thread(target=stop.wait, daemon=True)\n"
        "other.start()\n"
        "with_other = beside.usable()\n"
        "stop.set()\n"
        "print(alone, with_marked, with_other, len(os.sched_getaffinity(0)) >= 2)\n"
    )
    alone, with_marked, with_other, two_cores = _python(code).stdout.split()
    assert (alone, with_marked, with_other) == (two_cores, two_cores, "False")


def test_an_unmarked_thread_here_keeps_the_work_in_this_process() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert beside.usable() is False
    finally:
        stop.set()
        thread.join()
