"""The atomic report writer: its background flusher neither loses nor hides anything."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hds_audit.reports.atomic import _Flusher, atomic_writer, replace_letting_old_go


def _flushers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "report-flusher"]


def test_a_long_write_flushed_as_it_goes_is_whole_after_the_rename(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    line = '{"finding": "' + "x" * 200 + '"},\n'
    with atomic_writer(path) as stream:
        for batch in range(40):
            stream.write(line * 2_000)
            if batch % 10 == 0:
                time.sleep(0.06)  # the flusher's period: it runs while the writer writes
    assert path.read_text(encoding="utf-8") == line * 80_000
    assert not _flushers()


def test_a_writer_that_fails_leaves_no_file_and_no_thread(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    with pytest.raises(RuntimeError, match="formatting failed"), atomic_writer(path) as stream:
        stream.write("{")
        raise RuntimeError("formatting failed")
    assert list(tmp_path.iterdir()) == []
    assert not _flushers()


def test_an_error_the_flusher_meets_reaches_the_writer() -> None:
    """A flush error is told once per descriptor: the closing fsync would not see it again,
    so the flusher must hand it over (here: a pipe, which cannot be synced)."""
    read_end, write_end = os.pipe()
    try:
        flusher = _Flusher(write_end, every=0.001)
        time.sleep(0.05)
        with pytest.raises(OSError):
            flusher.stop()
        flusher.stop(quiet=True)  # a writer already failing keeps its own error
    finally:
        os.close(read_end)
        os.close(write_end)


def _open_descriptors() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_a_large_old_report_is_replaced_and_let_go_beside_the_writer(tmp_path: Path) -> None:
    """The old report is held across the rename and closed by a thread of its own (its
    blocks are freed by that close): the new one is in place, no descriptor is left."""
    path, tmp = tmp_path / "report.json", tmp_path / "new.tmp"
    path.write_bytes(b"o" * (2 << 20))
    old_inode = path.stat().st_ino
    tmp.write_text("new", encoding="utf-8")
    before = _open_descriptors()
    closer = replace_letting_old_go(tmp, path)
    assert closer is not None
    closer.join()
    assert _open_descriptors() == before
    assert path.read_text(encoding="utf-8") == "new" and path.stat().st_ino != old_inode
    assert not tmp.exists()


@pytest.mark.parametrize("old", ["small", "missing", "link", "fifo"])
def test_other_old_files_are_replaced_as_a_rename_does(tmp_path: Path, old: str) -> None:
    path, tmp, target = tmp_path / "report.json", tmp_path / "new.tmp", tmp_path / "kept.json"
    target.write_bytes(b"t" * (2 << 20))
    if old == "small":
        path.write_text("old", encoding="utf-8")
    elif old == "link":
        path.symlink_to(target)
    elif old == "fifo":
        os.mkfifo(path)  # opening it to read would wait for a writer: it must not
    tmp.write_text("new", encoding="utf-8")
    assert replace_letting_old_go(tmp, path) is None
    assert path.read_text(encoding="utf-8") == "new" and not path.is_symlink()
    assert target.stat().st_size == 2 << 20  # a link is replaced, its target untouched
