"""The fast state reader gives exactly what the general reader gives, or hands the file over.

Every test reads the same bytes twice: through :func:`read_text` as the collector does (the
fast reader for a raw state v4), and through the general reader alone (a document whose
text was already decoded). Instances (slim and replayed), notes and error messages must be
equal.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from json_shapes import attributes, dumps, scalars, texts, values

from hds_audit.collectors.terraform.documents import TfInstance, parse_document, shape_problem
from hds_audit.collectors.terraform.fast_state import Fallback, FastState, _typed
from hds_audit.collectors.terraform.normalise import index_slimmer
from hds_audit.collectors.terraform.reading import _DECODER, _finite, read_text
from hds_audit.errors import InputError, ShapeError
from hds_audit.secrets import REDACTED

Outcome = tuple[str, Any]


def _outcome(path: Path, general: bool, second_process_from: int | None = None) -> Outcome:
    doc = read_text(path, "state.json")
    if general:
        assert doc.text  # decoded: the fast reader cannot run
    try:
        parsed = parse_document(doc, "state.json", index_slimmer(), second_process_from)
    except InputError as error:
        return "error", str(error)
    full: list[TfInstance] = []
    if parsed.replay is not None:
        try:
            parsed.replay(full.append)
        except (ShapeError, RecursionError, AttributeError, TypeError, ValueError) as error:
            return "replay error", shape_problem(error)  # what collect_file reports
    return "parsed", (parsed.kind, parsed.terraform_version, parsed.notes, parsed.instances, full)


def _both(path: Path) -> Outcome:
    fast = _outcome(path, general=False)
    general = _outcome(path, general=True)
    assert fast == general
    return fast


def _fast_reads(path: Path) -> bool:
    try:
        FastState.read(read_text(path, "state.json"))
    except Fallback:
        return False
    return True


def _state(resources: list[Any], **top: Any) -> dict[str, Any]:
    return {"version": 4, "terraform_version": "1.11.4", "serial": 1, **top, "resources": resources}


def _resource(rtype: str, name: str, attrs: Any, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
        "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}],
        **extra,
    }


def _write(tmp_path: Path, text: str | bytes, name: str = "state.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

TYPES = (
    "aws_s3_bucket",
    "aws_db_instance",
    "aws_kms_key",
    "random_password",
    "azurerm_storage_account",
)
instances = st.lists(
    st.fixed_dictionaries(
        {"attributes": attributes | values},
        optional={
            "index_key": scalars,
            "sensitive_attributes": st.just([]) | values,
            "attributes_flat": st.dictionaries(texts, scalars, max_size=3),
            "private": texts,
        },
    )
    | values,
    max_size=3,
)
resources = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES) | scalars, "name": texts | scalars},
        optional={
            "mode": st.sampled_from(["managed", "data"]) | scalars,
            "module": st.just("module.a") | scalars,
            "provider": st.just('provider["registry.terraform.io/hashicorp/aws"].eu') | scalars,
            "instances": instances | values,
            "dependencies": st.lists(texts, max_size=2),
        },
    )
    | values,
    min_size=1,
    max_size=4,
)
tops = st.fixed_dictionaries(
    {"resources": resources},
    optional={"version": st.just(4) | scalars, "terraform_version": scalars, "outputs": values},
)


@FUZZ
@given(top=tops, seed=st.integers(0, 2**32))
def test_random_states_read_the_same_on_both_paths(
    tmp_path: Path, top: dict[str, Any], seed: int
) -> None:
    _both(_write(tmp_path, dumps(top, random.Random(seed))))


@FUZZ
@given(
    resource_list=st.lists(
        st.builds(lambda t, a: _resource(t, "r", a), st.sampled_from(TYPES), attributes),
        min_size=1,
        max_size=3,
    ),
    seed=st.integers(0, 2**32),
)
def test_states_of_realistic_shape_take_the_fast_path(
    tmp_path: Path, resource_list: list[Any], seed: int
) -> None:
    assume("\\ud800" not in json.dumps(resource_list))  # a lone surrogate: the general reader's
    rnd = random.Random(seed)
    text = json.dumps(
        _state(resource_list),
        indent=rnd.choice([None, 2]),
        ensure_ascii=rnd.choice([True, False]),
        separators=rnd.choice([None, (",", ":")]),
    )
    path = _write(tmp_path, text)
    outcome = _both(path)
    assert _fast_reads(path), outcome


def _many_resources(
    odd: dict[str, Any] | None, at: int = 1500, count: int = 2500
) -> list[dict[str, Any]]:
    """``count`` resources (2,500: three batches of the first pass), of types kept whole and
    slim, data sources, flatmap attributes (with ``attributes`` null or absent) and index
    values a redaction changes; ``odd`` at ``at``."""
    made: list[dict[str, Any]] = []
    for i in range(count):
        if i % 7 == 0:
            made.append(
                _resource("aws_s3_bucket_replication_configuration", f"r{i}", {"id": f"b{i}"})
            )
        elif i % 11 == 0:
            made.append(_resource("aws_kms_key", f"k{i}", {"id": f"k{i}"}, mode="data"))
        elif i % 13 == 0:
            flat = {"id": f"v{i}", "tags.%": "1", "tags.Name": "x", "region": "eu-west-3"}
            made.append(_resource("aws_ebs_volume", f"v{i}", None))
            made[-1]["instances"][0]["attributes_flat"] = flat
            if i % 2:  # no attributes at all: the next instance's are not its own
                del made[-1]["instances"][0]["attributes"]
        else:
            arn = "arn:aws:s3:::b" if i % 17 else "https://u:Hunter2@example.test/b"
            attrs = {"id": f"b{i}", "arn": arn, "bucket": f"b{i}", "policy": '{"a": 1}'}
            made.append(_resource("aws_s3_bucket", f"b{i}", attrs))
    if odd is not None:
        made[at] = odd
    return made


#: An odd resource among many (``_many_resources``): none, one typed by the general reader,
#: one nesting deep enough to need it, one whose attributes are a list (a shape error).
ODD_RESOURCES = pytest.mark.parametrize(
    "odd",
    [
        None,
        _resource("aws_s3_bucket", None, {"id": "nameless"}),
        _resource("aws_s3_bucket", "deep", {"id": "deep", "v": [[[[1]]]] * 120}),
        _resource("aws_s3_bucket", "listed", [{"id": "x"}]),
    ],
    ids=["plain", "untyped-name", "many-brackets", "attributes-a-list"],
)


@ODD_RESOURCES
def test_states_of_many_batches_read_the_same_on_both_paths(
    tmp_path: Path, odd: dict[str, Any] | None
) -> None:
    path = _write(tmp_path, json.dumps(_state(_many_resources(odd)), indent=1))
    kind, outcome = _both(path)
    assert _fast_reads(path)
    if odd is not None and odd["name"] == "listed":
        assert kind == "error"
        return
    assert kind == "parsed"
    slim, full = outcome[3], outcome[4]
    assert len(slim) == len(full) == 2500
    assert "Hunter2" not in repr(slim) and "Hunter2" not in repr(full)
    # Slim instances keep only what locates and joins them; those kept whole keep all.
    assert slim[1].attributes == {"id": "b1", "arn": "arn:aws:s3:::b", "bucket": "b1"}
    assert slim[0].attributes == full[0].attributes
    assert slim[13].attributes == {"id": "v13", "region": "eu-west-3"}


@FUZZ
@given(value=values, seed=st.integers(0, 2**32))
def test_msgspec_decodes_values_as_python_does_or_refuses(value: Any, seed: int) -> None:
    text = dumps({"type": "t", "instances": [{"attributes": {"v": value}}]}, random.Random(seed))
    expected = _DECODER.decode(text)
    decoder = msgspec.json.Decoder(float_hook=_finite)
    with contextlib.suppress(msgspec.DecodeError):  # refusing is fine: the file falls back
        assert decoder.decode(text.encode()) == expected
    typed = _typed(msgspec.Raw(text.encode()))
    if typed is not None:
        [instance] = typed.instances or []
        attrs = msgspec.json.Decoder(dict[str, Any], float_hook=_finite).decode(instance.attributes)
        assert attrs == expected["instances"][0]["attributes"]


def _one(attributes: str) -> str:
    """A state whose one instance's attributes are the given JSON text."""
    head = '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": '
    return head + attributes + "}]}]}"


@pytest.mark.parametrize(
    "text",
    [
        _one('{"n": 1e400}'),
        _one('{"n": -1E+999}'),
        _one('{"n": NaN}'),
        _one('{"n": Infinity}'),
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {"n": 1'
        + "0" * 5000
        + "}}]}]}",
        '{"version": 4, "resources": [{"type": "a", "private": 1' + "0" * 5000 + "}]}",
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {"n": '
        + "1" * 30
        + "}}]}]}",
        _one('{"s": "\\ud800"}'),
        '{"version": 4, "resources": [{"type": "a", "private": "\\udc00x"}]}',
        _one('{"s": "a\tb"}'),
        _one('{"a": 1, "a": 2}'),
        '{"version": 4, "resources": [{"type": "a", "type": "b", "instances": []}]}',
        '{"version": 4, "resources": [{"type": "a"}], "resources": [{"type": "b"}]}',
        '{"version": 3, "resources": [{"type": "a"}], "version": 4}',
        '{"version": null, "resources": [{"type": "a"}], "version": 4}',
        '{"resources": [{"type": "a"}], "version": 4}',
        '{"resources": [{"type": "a"}], "version": 4.0}',
        '{"version": 4, "resources": [{"type": "a"}], "format_version": "1.0"}',
        '{"version": 4, "outputs": {"resources": [{"type": "a"}]}, "resources": [{"type": "a"}]}',
        '{"version": 4, "r\\u0065sources": [{"type": "a"}]}',
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": [1]}]}]}',
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes_flat": 3}]}]}',
        '{"version": 4, "resources": [{"type": "a", "instances": {"attributes": {}}}]}',
        '{"version": 4, "resources": [{"type": null, "name": 3, "mode": ["x"]}]}',
        '{"version": 4, "resources": [7, "x", null]}',
        '{"version": 4, "resources": [{"type": "a"}], "serial": 1' + "0" * 5000 + "}",
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {"d": '
        + "[" * 960
        + "]" * 960
        + "}}]}]}",
        '{"version": 4, "resources": [{"type": "a", "private": ' + "[" * 5000 + "]" * 5000 + "}]}",
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {"d": '
        + "[" * 300
        + "]" * 300
        + "}}]}]}",
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {}}]}]',
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {}}]}]} x',
        '{"version": 4, "resources": [{"type": "a", "instances": [{"attributes": {}}]},]}',
    ],
)
def test_odd_values_and_top_levels_read_as_the_general_reader_does(
    tmp_path: Path, text: str
) -> None:
    _both(_write(tmp_path, text))


STATE = json.dumps(
    _state(
        [
            _resource(
                "aws_db_instance",
                "db",
                {"id": "db", "password": "Hunter2-s3cr3t", "tags": {"Name": "db"}},
            )
        ]
    ),
    indent=2,
)


@pytest.mark.parametrize(
    ("raw", "fast"),
    [
        (STATE.encode(), True),
        (codecs.BOM_UTF8 + STATE.encode(), True),
        (codecs.BOM_UTF16_LE + STATE.encode("utf-16-le"), False),
        (STATE.encode("utf-16-be"), False),
        (b"[command]/usr/bin/terraform state pull\n" + STATE.encode(), True),
        (STATE.encode() + b"\n::debug::exitcode: 0\n::set-output name=x::y\n", True),
        (b"\n[command]terraform\n" + STATE.encode() + b"\n\n##[debug]done\n", True),
        (STATE.encode() + b"\n::debug::stdout: {}\n", True),
        (STATE.encode() + b"\ngarbage\n", False),
        (STATE.encode()[: len(STATE) // 2], False),
        (STATE.encode().replace(b"Hunter2", "Hünter2".encode()), True),
        (STATE.encode() + b"\x0c", False),
    ],
)
def test_encodings_wrappers_and_cut_files(tmp_path: Path, raw: bytes, fast: bool) -> None:
    path = _write(tmp_path, raw)
    outcome = _both(path)
    assert _fast_reads(path) is fast
    assert "Hunter2" not in repr(outcome)


def test_the_file_bytes_are_kept_instead_of_a_decoded_copy(tmp_path: Path) -> None:
    doc = read_text(_write(tmp_path, STATE))
    assert doc.data is not None and doc._text is None
    parsed = parse_document(doc, "s", slim=index_slimmer())
    assert doc._text is None  # the fast reader never decoded the whole text
    assert parsed.replay is not None


def test_a_bad_byte_is_named_by_offset(tmp_path: Path) -> None:
    raw = STATE.encode().replace(b"Hunter2", b"Hu\xffter2")
    with pytest.raises(InputError) as caught:
        read_text(_write(tmp_path, raw), "bad.json")
    offset = raw.index(b"\xff")
    assert f"byte {offset}" in str(caught.value)
    assert "Hu" not in str(caught.value)


# -- the second pass reads the resources from the file again ---------------------------------


def _big_state() -> str:
    """Small resources around one larger than the chunk the second pass reads at once."""
    resources = [
        *(_resource("aws_s3_bucket", f"b{i}", {"id": f"b{i}"}) for i in range(3)),
        _resource("aws_s3_bucket", "big", {"id": "big", "policy": "x" * (3 << 20)}),
        *(_resource("aws_ebs_volume", f"v{i}", {"id": f"v{i}"}) for i in range(3)),
    ]
    # Irregular spacing between resources: the places noted must follow it.
    return json.dumps(_state(resources), indent=1).replace("},\n  {", "} ,\n\t\t {")


def test_the_second_pass_reads_the_file_again_without_the_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, _big_state())
    doc = read_text(path, "state.json")
    parsed = parse_document(doc, "state.json", slim=index_slimmer())
    assert doc.data is None and doc._text is None  # the bytes were let go after the first pass
    assert parsed.replay is not None
    full: list[TfInstance] = []
    parsed.replay(full.append)
    assert [i.address for i in full] == [i.address for i in parsed.instances]
    assert len(full[3].attributes["policy"]) == 3 << 20
    assert _both(path)[0] == "parsed"  # and what it read equals the general reader's


@pytest.mark.parametrize("change", ["rewritten", "cut", "replaced", "removed"])
def test_a_file_changed_between_the_passes_is_an_input_error(tmp_path: Path, change: str) -> None:
    path = _write(tmp_path, _big_state())
    doc = read_text(path, "state.json")
    parsed = parse_document(doc, "state.json", slim=index_slimmer())
    assert parsed.replay is not None
    original = path.read_bytes()
    if change == "rewritten":  # same size, new content and time
        path.write_bytes(original.replace(b'"b0"', b'"c0"'))
    elif change == "cut":
        path.write_bytes(original[: len(original) // 2])
    elif change == "replaced":  # another file under the same name, same bytes
        (tmp_path / "other.json").write_bytes(original)
        (tmp_path / "other.json").replace(path)
    else:
        path.unlink()
    with pytest.raises(InputError) as caught:
        parsed.replay(lambda instance: None)
    assert str(caught.value).startswith("state.json")
    assert "again" in str(caught.value) or "changed while it was being read" in str(caught.value)


def test_texts_to_redact_are_found_in_batches_looked_at_whole_or_one_by_one(
    tmp_path: Path,
) -> None:
    """9,500 resources: after a batch that shows a text to redact, the next seven are looked
    at instance by instance, the ninth as a whole again; every such text is redacted."""
    made = [
        _resource("aws_s3_bucket", f"b{i}", {"id": f"b{i}", "description": "plain"})
        for i in range(9500)
    ]
    for i in (5, 2500, 8500):  # batches 1 (looked at), 3 (one by one) and 9 (looked at again)
        made[i]["instances"][0]["attributes"]["description"] = f"password=Hunter2 {i}"
    path = _write(tmp_path, json.dumps(_state(made)))
    kind, outcome = _both(path)
    assert kind == "parsed"
    full = outcome[4]
    assert "Hunter2" not in repr(full)
    described = [full[i].attributes["description"] for i in (4, 5, 2500, 8500)]
    assert described == ["plain", REDACTED, REDACTED, REDACTED]
