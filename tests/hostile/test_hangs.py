"""Runs that must end: special files, symlink cycles, catastrophic regexes, YAML bombs."""

from __future__ import annotations

import html
import os
from pathlib import Path

from hostile_helpers import cli_subprocess, good_state, policy_text, scan, scan_subprocess

from hds_audit.testing import Spec, state_document, write_json

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_fifo_given_as_input_is_skipped_with_a_named_error(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    fifo = tmp_path / "in" / "pipe.tfstate"
    os.mkfifo(fifo)
    run = scan_subprocess(tmp_path, str(fifo), str(good))
    assert run.exit_code == 2, run.output
    assert f"{fifo}: is not a regular file (a FIFO)" in run.output
    assert run.resource_ids() == {"aws_s3_bucket.good"}


def test_a_file_problem_is_told_in_the_reports_language(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    fifo = tmp_path / "in" / "pipe.tfstate"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    run = cli_subprocess(
        tmp_path,
        "scan",
        str(fifo),
        str(good),
        "-o",
        str(out),
        "--format",
        "json,html",
        "--lang",
        "fr",
        "--no-history",
    )
    assert run.exit_code == 2, run.output
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    # the errors table: the message, and its kind in words
    row = "<td>n'est pas un fichier ordinaire (un tube nommé FIFO)</td><td>entrée illisible</td>"
    assert row in page
    assert "non audité : n'est pas un fichier ordinaire (un tube nommé FIFO)" in page  # unknown
    assert "not a regular file" not in page
    # the stand-in for the unread input says what it is, not its internal type
    assert "non lu (voir « Erreurs de collecte »)" in page
    assert "unreadable_scope" not in page
    [error] = run.report()["errors"]  # the report keeps the message's key and parameters
    table = run.report()["messages"]
    assert table[error["message"]]["key"] == "file.not_regular", table


def test_fifo_found_while_walking_a_folder_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_state(folder)
    os.mkfifo(folder / "pipe.json")
    run = scan_subprocess(tmp_path, str(folder))
    assert run.exit_code == 2, run.output
    assert "pipe.json: is not a regular file (a FIFO)" in run.output
    assert run.resource_ids() == {"aws_s3_bucket.good"}


def test_fifo_in_a_policies_folder_is_a_named_error(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    policies = tmp_path / "policies"
    policies.mkdir()
    os.mkfifo(policies / "pipe.yaml")
    run = scan_subprocess(tmp_path, str(good), "--policies", str(policies))
    assert run.exit_code == 2, run.output
    assert "pipe.yaml: is not a regular file (a FIFO)" in run.output


def test_symlink_cycles_are_not_followed_and_no_file_is_read_twice(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_state(folder)
    (folder / "sub").mkdir()
    write_json(
        folder / "sub" / "other.tfstate",
        state_document([Spec("aws_ebs_volume", "v", {"availability_zone": "eu-west-3a"})]),
    )
    (folder / "cycle").symlink_to(".")
    (folder / "sub" / "up").symlink_to("..")
    run = scan_subprocess(tmp_path, str(folder))
    report = run.report()
    assert [s["path"] for s in report["run"]["sources"]] == [
        str(folder / "good.tfstate"),
        str(folder / "sub" / "other.tfstate"),
    ]
    assert len(report["resources"]) == 2


def test_catastrophic_regex_in_a_policy_runs_in_linear_time(tmp_path: Path) -> None:
    attack = "a" * 50_000 + "!"
    state = write_json(
        tmp_path / "s.tfstate",
        state_document(
            [Spec("aws_s3_bucket", "b", {"bucket": "b", "region": "eu-west-3", "note": attack})]
        ),
    )
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "re.yaml").write_text(
        policy_text("attributes.note", "regex_match", "'^(a+)+$'"), encoding="utf-8"
    )
    run = scan_subprocess(tmp_path, str(state), "--policies", str(policies))
    [finding] = [f for f in run.report()["findings"] if f["policy_id"] == "CUSTOM_001"]
    assert finding["status"] == "fail"


def test_regex_the_safe_engine_cannot_run_is_refused_at_load(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "re.yaml").write_text(
        policy_text("attributes.bucket", "regex_match", r"'^(a)\1$'"), encoding="utf-8"
    )
    run = scan(tmp_path, str(good), "--policies", str(policies))
    assert run.exit_code == 2, run.output
    assert "re.yaml:13: regex_match value is not a usable regular expression" in run.output


def test_billion_laughs_in_an_unvalidated_policy_key_is_refused(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "bomb.yaml").write_text(
        policy_text("attributes.bucket") + "extra:\n" + _indented(BOMB), encoding="utf-8"
    )
    run = scan_subprocess(tmp_path, str(good), "--policies", str(policies))
    assert run.exit_code == 2, run.output
    assert "bomb.yaml: invalid YAML: aliases expand to more than" in run.output


def test_billion_laughs_in_the_config_output_is_refused(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    # The anchors live inside `output` itself: no unknown setting stops the file earlier.
    bomb = "".join(f"  - {line.split(': ', 1)[1]}\n" for line in BOMB.splitlines())
    (tmp_path / "hds-audit.yaml").write_text(
        f"terraform: [{good}]\noutput:\n{bomb}", encoding="utf-8"
    )
    run = scan_subprocess(tmp_path, cwd=tmp_path)
    assert run.exit_code == 2, run.output
    assert "hds-audit.yaml: invalid YAML: aliases expand to more than" in run.output


def test_symlink_to_dev_zero_is_skipped_with_a_named_error(tmp_path: Path) -> None:
    good = good_state(tmp_path / "in")
    zero = tmp_path / "in" / "zero.tfstate"
    zero.symlink_to("/dev/zero")
    run = scan_subprocess(tmp_path, str(zero), str(good))
    assert run.exit_code == 2, run.output
    assert f"{zero}: is not a regular file (a character device)" in run.output
    assert run.resource_ids() == {"aws_s3_bucket.good"}


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    from hds_audit.inputs import MAX_STATE_BYTES

    good = good_state(tmp_path / "in")
    huge = tmp_path / "in" / "huge.tfstate"
    with huge.open("wb") as stream:  # sparse: no disk space, no memory
        stream.truncate(MAX_STATE_BYTES + 1)
    run = scan_subprocess(tmp_path, str(huge), str(good))
    assert run.exit_code == 2, run.output
    assert f"{huge}: is larger than the {MAX_STATE_BYTES // 2**20} MiB limit" in run.output
    assert run.resource_ids() == {"aws_s3_bucket.good"}


def _indented(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
