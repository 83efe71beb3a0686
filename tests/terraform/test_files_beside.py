"""Many files on two cores: a child collects the last ones, each whole, and the run is the
one a single process makes, in the order of the inputs, a broken file's error included;
if the child is killed, this process collects what it did not send.

The collection with a child runs in a fresh interpreter (``python -c``): a child is forked
only where no other thread runs, which a test process cannot promise. What it collected
comes back pickled and is compared here with one process's collection of the same folder.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_fast_state import _many_resources, _state

from hds_audit import beside
from hds_audit.collectors.base import Collection
from hds_audit.collectors.terraform import collect_terraform
from hds_audit.collectors.terraform.files_beside import (
    CHILD_FILES_SHARE,
    FILES_BESIDE_FROM,
    FilesBeside,
    split_point,
)
from hds_audit.geo import GeoTables

_FIXTURES = Path(__file__).parents[2] / "terraform_fixtures"
_TWO_CORES = len(os.sched_getaffinity(0)) >= 2 if hasattr(os, "sched_getaffinity") else False


def test_the_child_takes_the_last_files_holding_a_little_more_than_half() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        sizes = [rng.choice([0, 10, 1000, 300_000, 900_000]) for _ in range(rng.randrange(8))]
        start = split_point(sizes)
        total = sum(sizes)
        if len(sizes) < 2 or total < FILES_BESIDE_FROM or 2 * max(sizes) >= total:
            assert start is None, sizes
            continue
        assert start is not None and 1 <= start < len(sizes), sizes
        there = sum(sizes[start:])
        # Its share, and no file more than it needs (unless this process keeps only one).
        assert there >= CHILD_FILES_SHARE * total or start == 1, sizes
        assert there - sizes[start] < CHILD_FILES_SHARE * total, sizes


def _sending(*pieces: Any) -> FilesBeside:
    def work(send: beside.Send) -> None:
        for piece in pieces:
            send(piece)

    child = beside.start(work)
    assert child is not None
    return FilesBeside(child, 2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child")
def test_what_is_taken_from_the_child_is_its_files_in_order() -> None:
    first, second = Collection(errors=[]), Collection()
    with _sending((2, first), (3, second)) as helper:
        assert helper.take(0) is None and helper.take(1) is None  # this process's files
        assert helper.take(2) == first and helper.take(3) == second
        assert helper.take(4) is None  # it sent no more: collected here
    with _sending((3, second), (2, first)) as helper:  # out of order: nothing more taken
        assert helper.take(2) is None and helper.take(3) is None


def _folder(tmp_path: Path) -> Path:
    """Eleven states, two plans, a broken file among the last (the child's): more bytes
    than the sharing threshold, none holding half."""
    folder = tmp_path / "monorepo"
    for number in range(11):
        project = folder / f"p{number:02d}"
        project.mkdir(parents=True)
        resources = _many_resources(None, 0, 700 + 40 * number)
        text = json.dumps(_state(resources), indent=1)
        (project / "terraform.tfstate").write_text(text, encoding="utf-8")
    for name in ("patient-records", "compliant"):
        shutil.copy(_FIXTURES / name / "plan.json", folder / "p03" / f"{name}.json")
    (folder / "p09" / "broken.json").write_text('{"version": 4, "resources": [', encoding="utf-8")
    return folder


def _inputs(tmp_path: Path) -> list[str]:
    """A missing file, the folder, and a folder holding nothing to audit, in that order."""
    (tmp_path / "empty").mkdir()
    return [str(tmp_path / "missing.tfstate"), str(_folder(tmp_path)), str(tmp_path / "empty")]


_COLLECT = r"""
import os, pickle, resource, signal, sys
from pathlib import Path
from hds_audit.collectors.terraform import collect_terraform
from hds_audit.geo import GeoTables
out, how, paths = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
me = os.getpid()

class KillOnFile:  # kills the child once this process reaches a file it collects
    active = False
    def stage(self, text):
        if how == "kill" and "(8/" in text:
            for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
                os.kill(int(child), signal.SIGKILL)
    def count(self, done, unit="resources"): pass
    def close(self): pass

collection = collect_terraform(paths, GeoTables.default(), progress=KillOnFile())
forked = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0
out.write_bytes(pickle.dumps((forked, collection)))
"""


def _collected_beside(paths: list[str], tmp_path: Path, how: str) -> tuple[bool, Collection]:
    result = tmp_path / "collection.pickle"
    subprocess.run(
        [sys.executable, "-c", _COLLECT, str(result), how, *paths],
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    forked, collection = pickle.loads(result.read_bytes())
    return forked, collection


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the child in /proc")
@pytest.mark.parametrize("how", ["whole", "kill"])
def test_many_files_on_two_cores_are_collected_as_one_process_collects_them(
    tmp_path: Path, how: str
) -> None:
    paths = _inputs(tmp_path)
    files = [p for p in Path(paths[1]).rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) >= FILES_BESIDE_FROM
    forked, beside_it = _collected_beside(paths, tmp_path, how)
    assert forked == _TWO_CORES
    alone = collect_terraform(paths, GeoTables.default(), second_process_from=None)
    assert len(alone.resources) > 8000
    assert len(alone.errors) == 3  # the missing file, the broken one, the empty folder
    assert [s.path for s in beside_it.sources] == [s.path for s in alone.sources]
    assert beside_it.sources == alone.sources
    assert beside_it.errors == alone.errors
    assert beside_it.resources == alone.resources
