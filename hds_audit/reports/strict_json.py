"""Strict JSON for the reports: ``NaN`` and ``Infinity`` are not JSON, so they never appear.

The Terraform reader already keeps such numbers as their text (``"1e400"``); values from
other sources get the same treatment here, at the last moment, only when one is present.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its text (``"Infinity"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # "NaN", "Infinity", "-Infinity"
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def strict_encoder() -> Callable[[Any], str]:
    """An ``encode`` like ``json.JSONEncoder(ensure_ascii=False, default=str).encode`` that
    never writes ``NaN`` or ``Infinity``."""
    strict = json.JSONEncoder(
        ensure_ascii=False, default=str, check_circular=False, allow_nan=False
    ).encode
    quote = json.encoder.encode_basestring

    def encode(value: Any) -> str:
        if type(value) is str:  # what the encoder itself does with a text, without its detour
            return quote(value)
        try:
            return strict(value)
        except ValueError:  # a non-finite float somewhere: rare, so converted only then
            return strict(_finite(value))

    return encode
