"""JSON values and their text written every way a JSON writer may (hypothesis strategies).

The fast state reader and the redaction prefilter read raw JSON bytes: these strategies give
them values whose text escapes characters (``\\u0041``, ``\\/``), spaces members oddly and
holds the numbers and texts where decoders differ.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st

# Texts made of the pieces secret detection and JSON decoding care about.
PIECES = (
    "=", "@", ": ", ":", "-----", "AKIA", "ASIA", "akia", "{", "[", "}", "]", " ", "\t", "\n",
    '"', "\\", "/", "é", "\u00a0", "\u2028", "K", "ſ", "password", "Password", "pwd",
    "secret", "token", "_pem", "AccountKey", "value", "name", "BEGIN", " PRIVATE KEY",
    "0123456789ABCDEF", "ABCDEFGHIJKLMNOP", "://", "a", "x", "\u0000", "\U0001f600", "\ud800",
)  # fmt: skip
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=6).map("".join)
keys = texts | st.sampled_from(
    ["password", "id", "arn", "region", "value", "Value", "name", "tags", "db_password_id",
     "connection_string", "primary_access_key", "user_data", "location", "bucket"]
)  # fmt: skip
numbers = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -0.0, 1e308, 5e-324, 2**63, -(2**63) - 1, 2**64, 10**30])
)
scalars = st.none() | st.booleans() | numbers | texts


def json_texts(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """A text holding JSON (redaction reads inside those)."""
    return inner.map(lambda v: json.dumps(v, ensure_ascii=False))


values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=5)
        | json_texts(st.dictionaries(keys, children, max_size=3))
    ),
    max_leaves=16,
)
attributes = st.dictionaries(keys, values, max_size=8)


def dumps(value: Any, rnd: random.Random) -> str:
    """``value`` as JSON text, escaping characters and spacing members at random."""
    if isinstance(value, dict):
        items = [
            f"{_string(k, rnd)}{_space(rnd)}:{_space(rnd)}{dumps(v, rnd)}" for k, v in value.items()
        ]
        return "{" + _space(rnd) + ("," + _space(rnd)).join(items) + _space(rnd) + "}"
    if isinstance(value, list):
        items = [dumps(v, rnd) for v in value]
        return "[" + _space(rnd) + ("," + _space(rnd)).join(items) + _space(rnd) + "]"
    if isinstance(value, str):
        return _string(value, rnd)
    if isinstance(value, float) and rnd.random() < 0.3 and value == value:
        return repr(value).replace("e+", rnd.choice(["e+", "E", "e"]))
    return json.dumps(value)


def _space(rnd: random.Random) -> str:
    return rnd.choice(["", "", " ", "\n  ", "\t", " \r\n"])


def _string(text: str, rnd: random.Random) -> str:
    out = ['"']
    for char in text:
        roll = rnd.random()
        if 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")  # a lone surrogate: only as an escape
        elif char in '"\\' or ord(char) < 0x20:
            out.append(json.dumps(char)[1:-1] if roll < 0.5 else f"\\u{ord(char):04x}")
        elif roll < 0.15 and ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04X}" if roll < 0.07 else f"\\u{ord(char):04x}")
        elif char == "/" and roll < 0.5:
            out.append("\\/")
        elif ord(char) >= 0x10000 and roll < 0.3:
            out.append(json.dumps(char)[1:-1])  # a surrogate pair
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
