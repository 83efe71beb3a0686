"""The atomic report writer: its background flusher neither loses nor hides anything."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hds_audit.reports.atomic import _Flusher, atomic_writer


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
