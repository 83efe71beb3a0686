"""Redaction without the walk gives what the full walk gives, for any JSON text of any value.

``redact_state_attributes`` skips the look at text values when the attributes' raw JSON
bytes show none can be changed; these tests compare it with :func:`redact` on values built
from the pieces secret detection reacts to, written with escapes and odd spacing.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_shapes import PIECES, attributes, dumps, texts

from hds_audit.collectors.terraform.reading import _DECODER
from hds_audit.secrets import (
    REDACTED,
    _by_name,
    names_redacted_many,
    redact,
    redact_flat,
    redact_flat_many,
    redact_state_attributes,
    texts_may_need_redaction,
)

TYPES = ("aws_db_instance", "random_password", "aws_ssm_parameter", "aws_s3_bucket")
PROPERTY = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


def _same(attrs: dict[str, Any], raw: bytes, rtype: str, paths: Any = None) -> None:
    try:
        expected: Any = redact(attrs, rtype, sensitive_paths=paths)
    except Exception as error:  # the same error must come out
        with pytest.raises(type(error)):
            redact_state_attributes(attrs, raw, rtype, paths)
        return
    assert redact_state_attributes(attrs, raw, rtype, paths) == expected


@PROPERTY
@given(attrs=attributes, rtype=st.sampled_from(TYPES), seed=st.integers(0, 2**32))
def test_same_result_as_the_full_walk(attrs: dict[str, Any], rtype: str, seed: int) -> None:
    text = dumps(attrs, random.Random(seed))
    decoded = _DECODER.decode(text)
    _same(decoded, text.encode("utf-8", "surrogatepass"), rtype)


@PROPERTY
@given(attrs=attributes, seed=st.integers(0, 2**32))
def test_clean_bytes_mean_only_names_can_change(attrs: dict[str, Any], seed: int) -> None:
    """When the bytes say clean, the full walk changes nothing but values under secret names."""
    text = dumps(attrs, random.Random(seed))
    decoded = _DECODER.decode(text)
    if texts_may_need_redaction(text.encode("utf-8", "surrogatepass")):
        return
    walked = redact(decoded, "aws_s3_bucket")
    _only_named_changes(decoded, walked)


def _only_named_changes(before: Any, after: Any) -> None:
    if after is before or after == before:
        return
    if isinstance(before, dict):
        for key, value in before.items():
            if after[key] == REDACTED and value != REDACTED:
                continue
            _only_named_changes(value, after[key])
    elif isinstance(before, list):
        for old, new in zip(before, after, strict=True):
            _only_named_changes(old, new)
    else:
        raise AssertionError(f"a text changed although its bytes looked clean: {before!r}")


@PROPERTY
@given(
    piece=st.sampled_from(PIECES),
    before=st.text(max_size=3),
    after=st.text(max_size=3),
    seed=st.integers(0, 2**32),
)
def test_each_piece_anywhere_in_a_text(piece: str, before: str, after: str, seed: int) -> None:
    for value in (before + piece + after, piece + after, before + piece):
        attrs = {"note": value, "nested": [{"k": value}]}
        text = dumps(attrs, random.Random(seed))
        _same(_DECODER.decode(text), text.encode("utf-8", "surrogatepass"), "aws_s3_bucket")


SECRET = "Hunter2-s3cr3t-Zq9"
LOWER_KEY = "zq7q2zq7q2zq7q2z"  # after "akia": an access key id written in lower case
SHAPES: list[Any] = [
    f"Server=db;Password={SECRET};",
    f"Server = db; User Id = app; Password = {SECRET}",
    f"postgres://admin:{SECRET}@db.internal:5432/records",
    f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}\n-----END RSA PRIVATE KEY-----",
    f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{SECRET}\n-----END PGP PRIVATE KEY BLOCK-----",
    f"#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY={SECRET}\nrun\n",
    f"#!/bin/sh\nDB_PASSWORD: {SECRET}\n",
    f": akia{LOWER_KEY}",
    "AKIA" + "Z7Q2" * 4,
    json.dumps({"password": SECRET}),
    json.dumps([{"name": "DB_PASSWORD", "value": SECRET}]),
    json.dumps({"outer": json.dumps({"client_secret": SECRET})}),
    " " + json.dumps({"token": SECRET}),
    {"password": SECRET},
    {"name": "API_TOKEN", "value": SECRET},
    {"access_key": {"nested": [SECRET]}},
    [{"Key": "db_password", "Value": SECRET}],
]


@pytest.mark.parametrize("shape", SHAPES, ids=range(len(SHAPES)))
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_planted_secret_is_redacted(
    shape: Any, ensure_ascii: bool, indent: int | None
) -> None:
    attrs = {"region": "eu-west-3", "planted": shape, "tags": {"Name": "x"}}
    raw = json.dumps(attrs, ensure_ascii=ensure_ascii, indent=indent).encode()
    out = redact_state_attributes(json.loads(raw), raw, "aws_instance")
    assert out == redact(json.loads(raw), "aws_instance")
    assert SECRET not in json.dumps(out) and "Z7Q2Z7Q2" not in json.dumps(out)
    assert LOWER_KEY not in json.dumps(out)


def test_sensitive_paths_and_secret_types_take_the_full_walk() -> None:
    attrs = {"custom": "x", "result": "pw"}
    raw = json.dumps(attrs).encode()
    path = [[{"type": "get_attr", "value": "custom"}]]
    assert redact_state_attributes(attrs, raw, "t", path) == {"custom": REDACTED, "result": "pw"}
    assert redact_state_attributes(attrs, raw, "random_password")["result"] == REDACTED


def test_names_alone_are_redacted_without_the_walk() -> None:
    attrs = {"id": "db", "password": "plain", "tags": {"Name": "n"}, "rules": [{"token": 3}]}
    raw = json.dumps(attrs).encode()
    assert not texts_may_need_redaction(raw)
    out = redact_state_attributes(attrs, raw, "aws_db_instance")
    assert out == {
        "id": "db",
        "password": REDACTED,
        "tags": {"Name": "n"},
        "rules": [{"token": REDACTED}],
    }
    assert attrs["password"] == "plain"  # the input is not changed


@pytest.mark.parametrize(
    "slim",
    [
        {"id": "a", "arn": "arn:aws:s3:::b", "size": 3, "flag": True},
        {"id": "postgres://u:p@h/db"},
        {"id": '{"password": "x"}'},
        {"id": " [1]"},
        {"id": ""},
        {"location": ["eu", {"password": "x"}]},
        {"value": "x", "name": "db_password"},
        {"password": "x"},
    ],
)
def test_redact_flat_is_redact(slim: dict[str, Any]) -> None:
    assert redact_flat(dict(slim), "aws_s3_bucket") == redact(dict(slim), "aws_s3_bucket")
    assert redact_flat(dict(slim), "random_password") == redact(dict(slim), "random_password")


@PROPERTY
@given(
    slim=st.dictionaries(
        st.sampled_from(["id", "arn", "region", "bucket", "value", "password", "location"]),
        st.none() | st.booleans() | st.integers() | texts | st.lists(texts, max_size=2),
        max_size=5,
    ),
    rtype=st.sampled_from(TYPES),
)
def test_redact_flat_matches_redact_on_any_flat_mapping(slim: dict[str, Any], rtype: str) -> None:
    assert redact_flat(dict(slim), rtype) == redact(dict(slim), rtype)


@PROPERTY
@given(
    batch=st.lists(
        st.tuples(
            st.dictionaries(
                st.sampled_from(["id", "arn", "region", "value", "password", "location"]),
                st.none() | st.booleans() | st.integers() | texts | st.lists(texts, max_size=2),
                max_size=4,
            ),
            st.sampled_from(TYPES),
        ),
        max_size=6,
    )
)
def test_redact_flat_many_is_redact_flat_of_each(batch: list[tuple[dict[str, Any], str]]) -> None:
    """Judging the texts of a batch at once changes nothing: one text to redact anywhere in
    the batch, a first text empty or a space, and each is still redacted as on its own."""
    expected = [redact(dict(attributes), rtype) for attributes, rtype in batch]
    assert redact_flat_many([(dict(a), rtype) for a, rtype in batch]) == expected


@PROPERTY
@given(batch=st.lists(attributes, max_size=6), seed=st.integers(0, 2**32))
def test_names_judged_for_a_batch_are_what_the_walk_gives(
    batch: list[dict[str, Any]], seed: int
) -> None:
    """What :func:`names_redacted_many` gives for a mapping is what the name walk gives (the
    same object when nothing changes); ``None`` only where the walk must decide."""
    rnd = random.Random(seed)
    decoded = [_DECODER.decode(dumps(attrs, rnd)) for attrs in batch]
    results = names_redacted_many(decoded)
    assert len(results) == len(decoded)
    for mapping, result in zip(decoded, results, strict=True):
        if result is not None:
            walked = _by_name(mapping, 0)
            assert result == walked
            assert (result is mapping) == (walked is mapping)


def test_names_at_every_depth_judged_for_the_batch() -> None:
    plain = [{"id": f"b{n}", "tags": {"env": "prod"}, "rule": [{"days": n}]} for n in range(5)]
    assert all(r is m for r, m in zip(names_redacted_many(plain), plain, strict=True))
    # Secrets named at the top: redacted in a copy (a flag or an empty value stays), even
    # when the secret holds a nested value; the others are unchanged.
    top = {"id": "db", "password": "x", "master_password": "", "tags": {"env": "prod"}}
    nested = {"id": "sa", "primary_access_key": {"k": [1]}, "token_enabled": True}
    *same, db, account = names_redacted_many([*plain, top, nested])
    assert all(r is m for r, m in zip(same, plain, strict=True))
    assert db == {"id": "db", "password": REDACTED, "master_password": "", "tags": {"env": "prod"}}
    assert account == {"id": "sa", "primary_access_key": REDACTED, "token_enabled": True}
    pair = {"name": "TOKEN", "value": "x"}  # a pair at the top: that mapping to the walk
    assert names_redacted_many([*plain, pair])[-1] is None
    assert names_redacted_many([*plain, pair])[0] is plain[0]
    # Below the top, a secret's name or a pair sends the whole batch to the walk.
    deep = {"id": "fn", "environment": [{"variables": {"DB_PASSWORD": "x"}}]}
    assert names_redacted_many([*plain, deep]) == [None] * 6
    deep_pair = {"id": "task", "env": [{"name": "TOKEN", "value": "x"}]}
    assert names_redacted_many([*plain, deep_pair]) == [None] * 6
    nesting: dict[str, Any] = {"id": "deep"}
    inner = nesting
    for _ in range(160):
        inner["next"] = {}
        inner = inner["next"]
    assert names_redacted_many([nesting]) == [None]
