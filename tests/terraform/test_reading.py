"""Odd but valid inputs are read; unusable ones give one line naming the file."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.collectors.terraform.documents import parse_document
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.errors import InputError
from hds_audit.geo import GeoTables
from hds_audit.i18n import Msg
from hds_audit.testing import Spec, state_document

STATE = state_document(
    [Spec("aws_s3_bucket", "b", {"bucket": "b", "region": "eu-west-3", "arn": "arn:aws:s3:::b"})]
)
TEXT = json.dumps(STATE, indent=2)


def _parse(tmp_path: Path, raw: bytes, name: str = "in.json") -> tuple[int, list[str]]:
    path = tmp_path / name
    path.write_bytes(raw)
    parsed = parse_document(read_text(path), name)
    return len(parsed.instances), parsed.notes


@pytest.mark.parametrize(
    ("encoding", "bom", "note"),
    [
        ("utf-8", codecs.BOM_UTF8, None),
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16-LE (byte-order mark)"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16-BE (byte-order mark)"),
        ("utf-16-le", b"", "UTF-16-LE (no byte-order mark)"),
    ],
)
def test_encodings(tmp_path: Path, encoding: str, bom: bytes, note: str | None) -> None:
    count, notes = _parse(tmp_path, bom + TEXT.encode(encoding))
    assert count == 1
    if note:
        assert any(note in n for n in notes)


def test_ci_wrapper_lines_are_skipped(tmp_path: Path) -> None:
    raw = (
        "[command]/home/runner/work/_temp/abc/terraform-bin show -json tfplan\n"
        + TEXT
        + "\n::debug::stdout: ...\n::debug::exitcode: 0\n"
    ).encode()
    count, notes = _parse(tmp_path, raw)
    assert count == 1
    assert "CI wrapper lines skipped before the JSON document: 1" in notes
    assert "CI wrapper lines ignored after the JSON document: 2" in notes
    french = [n.render("fr") for n in notes if isinstance(n, Msg)]  # no "ligne(s)"
    assert "lignes d'un outil de CI ignorées avant le document JSON : 1" in french
    assert "lignes d'un outil de CI ignorées après le document JSON : 2" in french


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (TEXT[: len(TEXT) // 2].encode(), "is truncated"),
        (b"hello world\n{}", "is not JSON: the text at byte 0 (line 1) is neither JSON"),
        (b'{"version": 4, "resources": [}', "is not valid JSON"),
        ((TEXT + "\ngarbage").encode(), "unexpected data after the JSON document"),
        (b'{"version": 5, "resources": []}', "state version 5 is not supported"),
        (b'{"format_version": "2.0", "values": {}}', "format_version 2.0 is newer"),
        (b'{"hello": 1}', "is not a Terraform state or plan"),
        (b"[1, 2]", "the JSON is not an object"),
        (b"\xff\xfe\x00\xd8", "not valid UTF-16-LE"),
    ],
)
def test_unusable_inputs(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        parse_document(read_text(path, "bad.json"), "bad.json")
    assert message in str(caught.value)
    assert "hello" not in str(caught.value) and "garbage" not in str(caught.value)
    assert str(caught.value).startswith("bad.json: ")
    assert "\n" not in str(caught.value)


def test_one_bad_input_does_not_stop_the_others(tmp_path: Path, geo: GeoTables) -> None:
    good = tmp_path / "good.tfstate"
    good.write_text(TEXT, encoding="utf-8")
    bad = tmp_path / "bad.tfstate"
    bad.write_text(TEXT[:100], encoding="utf-8")
    missing = tmp_path / "missing.tfstate"
    collection = collect_terraform([str(bad), str(good), str(missing)], geo)
    assert [r.id for r in collection.resources] == ["aws_s3_bucket.b"]
    assert [e.source for e in collection.errors] == [str(bad), str(missing)]
    assert "truncated" in collection.errors[0].message
    assert "does not exist" in collection.errors[1].message


def test_directory_collects_state_and_plan_files(tmp_path: Path, geo: GeoTables) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.tfstate").write_text(TEXT, encoding="utf-8")
    (tmp_path / "nested" / "b.json").write_text(TEXT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not read", encoding="utf-8")
    collection = collect_terraform([str(tmp_path)], geo)
    assert sorted(s.path for s in collection.sources) == [
        str(tmp_path / "a.tfstate"),
        str(tmp_path / "nested" / "b.json"),
    ]
