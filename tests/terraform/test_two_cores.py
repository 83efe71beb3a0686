"""A large state read on two cores reads exactly what one process reads: the first pass,
whose last part a child process reads, and the later pass, which the child reads whole.

The reading with a child process runs in a fresh interpreter (``python -c``): a child is
forked only where no other thread runs, which a test process cannot promise. What it read
comes back pickled and is compared here with the general reader's reading of the same file;
that a child really ran is told by the kernel (a reaped child's peak memory, in a process
that had reaped none).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_fast_state import ODD_RESOURCES, _many_resources, _outcome, _resource, _state, _write

from hds_audit import beside, inputs
from hds_audit.collectors.terraform import collect_file, collect_remote
from hds_audit.collectors.terraform.fast_state import (
    FIRST_PASS,
    LATER_PASS,
    PLACES,
    _Helper,
    split_batches,
)
from hds_audit.geo import GeoTables

_HERE = Path(__file__).parent
_TWO_CORES = len(os.sched_getaffinity(0)) >= 2 if hasattr(os, "sched_getaffinity") else False

_READ_ON_TWO_CORES = r"""
import pickle, resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from test_fast_state import _outcome
outcome = _outcome(Path(sys.argv[1]), general=False, second_process_from=0)
forked = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0
Path(sys.argv[2]).write_bytes(pickle.dumps((forked, outcome)))
"""


def _on_two_cores(path: Path, tmp_path: Path) -> tuple[bool, Any]:
    result = tmp_path / "outcome.pickle"
    subprocess.run(
        [sys.executable, "-c", _READ_ON_TWO_CORES, str(path), str(result), str(_HERE)],
        check=True,
        timeout=120,
    )
    forked, outcome = pickle.loads(result.read_bytes())
    return forked, outcome


def test_the_state_is_cut_where_the_child_takes_less_than_half() -> None:
    here, there = split_batches(3)
    assert (here, there) == (range(0, 2), range(2, 3))
    for batches in range(2, 200):
        here, there = split_batches(batches)
        assert here.start == 0 and here.stop == there.start and there.stop == batches
        assert 0 < len(there) <= len(here)


def _sending(*pieces: tuple[str, int, list[Any]]) -> _Helper:
    def work(send: beside.Send) -> None:
        for piece in pieces:
            send(piece)

    child = beside.start(work)
    assert child is not None
    return _Helper(child)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child")
def test_a_piece_not_where_expected_ends_what_is_taken_from_the_child() -> None:
    """A batch missing from the child's part of the first pass (the next piece is the
    later pass's first) counts as its failure: nothing it sent is kept, the child is
    stopped, and the later pass is left to this process."""
    instance = ("a.b", "managed", "t", "b", "", "aws", "k", {"id": "b"})
    into: list[Any] = ["kept before"]
    with _sending((FIRST_PASS, 5, [instance])) as helper:
        assert helper.places() is None  # (where the resources lie: not sent first)
        assert not helper.running
    with _sending((PLACES, 0, (b"s", b"l")), (FIRST_PASS, 5, [instance])) as helper:
        assert helper.places() == (b"s", b"l")
        assert helper.first_pass(into, range(5, 6)) is True
        del into[1:]
    with _sending((FIRST_PASS, 5, [instance]), (LATER_PASS, 0, [instance])) as helper:
        assert helper.first_pass(into, range(5, 7)) is False
        assert into == ["kept before"]
        assert not helper.running
        helper.later = True  # (were it still asked for)
        assert helper.later_pass(into.append, 1) == 0
    with _sending((FIRST_PASS, 5, [instance]), (LATER_PASS, 0, [instance])) as helper:
        assert helper.first_pass(into, range(5, 6)) is True
        assert [i.address for i in into[1:]] == ["a.b"]
        helper.later = True
        got: list[Any] = []
        assert helper.later_pass(got.append, 1) == 1
        assert got[0].attributes == {"id": "b"}


@ODD_RESOURCES
@pytest.mark.parametrize("at", [500, 4200], ids=["read-here", "read-by-the-child"])
def test_a_first_pass_on_two_cores_reads_what_one_process_reads(
    tmp_path: Path, odd: dict[str, Any] | None, at: int
) -> None:
    """Five batches: the child reads the last two. An odd resource in its part is read as
    the general reader would; one that fails it (a shape error) makes the child fail, and
    its part is read again here: the same error as without a child."""
    path = _write(tmp_path, json.dumps(_state(_many_resources(odd, at, 5000)), indent=1))
    forked, outcome = _on_two_cores(path, tmp_path)
    assert forked == _TWO_CORES
    assert outcome == _outcome(path, general=True)
    assert outcome == _outcome(path, general=False)
    kind, read = outcome
    if odd is not None and odd["name"] == "listed":
        assert kind == "error"
        return
    assert kind == "parsed"
    slim, full = read[3], read[4]
    assert len(slim) == len(full) == 5000
    assert [i.address for i in slim] == [i.address for i in full]
    assert "Hunter2" not in repr(slim) and "Hunter2" not in repr(full)
    assert slim[4001].attributes == {"id": "b4001", "arn": "arn:aws:s3:::b", "bucket": "b4001"}
    assert slim[3016].attributes == {"id": "v3016", "region": "eu-west-3"}  # a flatmap's


# The child is killed when the replay has taken the first instance it sent (it has sent
# some of the later pass's batches by then, seldom all): the replay takes what it sent and
# reads on itself. Or the file is changed once the first pass is over: the replay's error
# is the one process's, whatever the child had read.
_LATER_PASS_CUT = r"""
import os, pickle, signal, sys
from pathlib import Path
from hds_audit.collectors.terraform.documents import parse_document
from hds_audit.collectors.terraform.normalise import index_slimmer
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.errors import InputError
path, how = Path(sys.argv[1]), sys.argv[3]
parsed = parse_document(read_text(path, "state.json"), "state.json", index_slimmer(), 0)
me = os.getpid()
children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
full = []
def each(instance):
    if not full and how == "kill":
        for child in children:
            os.kill(int(child), signal.SIGKILL)
    full.append(instance)
if how == "change":
    path.write_bytes(path.read_bytes())  # the same bytes, another file
    os.utime(path, ns=(1, 1))
try:
    parsed.replay(each)
    outcome = ("parsed", parsed.instances, full)
except InputError as error:
    outcome = ("error", str(error))
Path(sys.argv[2]).write_bytes(pickle.dumps((len(children), outcome)))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the child in /proc")
@pytest.mark.parametrize("how", ["kill", "change"])
def test_a_later_pass_the_child_leaves_is_read_on_here(tmp_path: Path, how: str) -> None:
    path = _write(tmp_path, json.dumps(_state(_many_resources(None, 0, 20_000)), indent=1))
    alone = _outcome(path, general=False)
    result = tmp_path / "outcome.pickle"
    subprocess.run(
        [sys.executable, "-c", _LATER_PASS_CUT, str(path), str(result), how],
        check=True,
        timeout=120,
    )
    children, outcome = pickle.loads(result.read_bytes())
    assert children == (1 if _TWO_CORES else 0)
    if how == "kill":
        assert outcome == ("parsed", alone[1][3], alone[1][4])
        assert len(outcome[2]) == 20_000
    else:
        assert outcome[0] == "error" and "changed" in outcome[1]


# The file is changed once read, before the first pass: the child, reading its part from
# the file, cannot (nor can this process, reading that part again): the input error one
# process gives at its later pass.
_CHANGED_FIRST = r"""
import os, sys
from pathlib import Path
from hds_audit.collectors.terraform.documents import parse_document
from hds_audit.collectors.terraform.normalise import index_slimmer
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.errors import InputError
path, second_process_from = Path(sys.argv[1]), {"two": 0, "one": None}[sys.argv[2]]
doc = read_text(path, "state.json")
path.write_bytes(path.read_bytes())  # the same bytes, another file
os.utime(path, ns=(1, 1))
try:
    parse_document(doc, "state.json", index_slimmer(), second_process_from).replay(print)
except InputError as error:
    print(error)
"""


@pytest.mark.parametrize("cores", ["two", "one"])
def test_a_file_changed_before_its_first_pass_is_the_error_of_one_process(
    tmp_path: Path, cores: str
) -> None:
    path = _write(tmp_path, json.dumps(_state(_many_resources(None, 0, 5000))))
    done = subprocess.run(
        [sys.executable, "-c", _CHANGED_FIRST, str(path), cores],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.splitlines() == [f"state.json: {inputs.CHANGED}"]


_REMOTE = "s3://states/prod/terraform.tfstate"
_COLLECT_ON_TWO_CORES = r"""
import pickle, resource, sys
from pathlib import Path
from hds_audit.collectors.terraform import collect_file, collect_remote
from hds_audit.geo import GeoTables
path, geo = Path(sys.argv[1]), GeoTables.default()
if sys.argv[3] == "file":
    collected = collect_file(path, "state.json", geo, None, second_process_from=0)
else:  # a remote state (its bytes written to a file of its own, then read as one)
    collected = collect_remote(REMOTE, geo, lambda url: path.read_bytes(), None, 0)
forked = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0
Path(sys.argv[2]).write_bytes(pickle.dumps((forked, collected.resources, collected.errors)))
""".replace("REMOTE", repr(_REMOTE))


def _cross_half_state() -> list[dict[str, Any]]:
    """Buckets read by the main process whose encryption, replication and keys are told by
    resources the child reads (its two batches: the fourth and fifth), among 5,000 others."""
    made: list[dict[str, Any]] = []
    for i in range(5000):
        made.append(
            _resource(
                "aws_s3_bucket", f"b{i}", {"id": f"b{i}", "bucket": f"b{i}", "region": "eu-west-3"}
            )
        )
    key = "arn:aws:kms:eu-west-3:111122223333:key/k1"
    made[10] = _resource(
        "aws_s3_bucket", "early", {"id": "early", "bucket": "early", "region": "eu-west-3"}
    )
    made[4090] = _resource(
        "aws_s3_bucket_server_side_encryption_configuration",
        "early",
        {
            "id": "early",
            "bucket": "early",
            "rule": [
                {
                    "apply_server_side_encryption_by_default": [
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": key}
                    ]
                }
            ],
        },
    )
    made[4095] = _resource("aws_kms_key", "k1", {"id": "k1", "arn": key, "key_id": "k1"})
    made[3097] = _resource(
        "aws_s3_bucket_replication_configuration",
        "early",
        {
            "id": "early",
            "bucket": "early",
            "role": "r",
            "rule": [{"status": "Enabled", "destination": [{"bucket": "arn:aws:s3:::b5"}]}],
        },
    )
    return made


@pytest.mark.parametrize("where", ["file", "remote"])
def test_a_collection_on_two_cores_gives_the_resources_of_one_process(
    tmp_path: Path, where: str
) -> None:
    path = _write(tmp_path, json.dumps(_state(_cross_half_state())))
    result = tmp_path / "collected.pickle"
    subprocess.run(
        [sys.executable, "-c", _COLLECT_ON_TWO_CORES, str(path), str(result), where],
        check=True,
        timeout=120,
    )
    forked, resources, errors = pickle.loads(result.read_bytes())
    geo = GeoTables.default()
    alone = (
        collect_file(path, "state.json", geo, second_process_from=None)
        if where == "file"
        else collect_remote(_REMOTE, geo, lambda url: path.read_bytes(), None, None)
    )
    assert forked == _TWO_CORES
    assert errors == alone.errors == []
    assert resources == alone.resources
    early = next(r for r in resources if r.id == "aws_s3_bucket.early")
    assert early.encryption is not None and early.encryption.key_id is not None
    assert early.replicas  # the destination the child's part names
    assert [r.id for r in resources][2999:3001] == ["aws_s3_bucket.b2999", "aws_s3_bucket.b3000"]
