"""Secrets never leave the collector: redact them before anything else sees the attributes.

One mechanism for every collector (Terraform, AWS, Azure) and every message that must name
a value. Three signals, any one suffices: Terraform marked the value sensitive (state
``sensitive_attributes``, plan ``after_sensitive``, ``sensitive_values``); the attribute's
name says it is a secret (``password``, ``primary_access_key``, ``connection_string``...);
or the value looks like one (a private key block, a connection string carrying a password,
``export AWS_SECRET_ACCESS_KEY=...`` in a script, an AWS access key id). Values that are JSON
text (``container_definitions``, policies) are read and redacted inside, and ``{name, value}``
pairs (``environment``) are judged by their name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import chain, compress
from typing import Any

from hds_audit.errors import ShapeError, kind_of

REDACTED = "[REDACTED]"
#: Attribute values nested deeper than this are refused (no provider schema comes close).
MAX_DEPTH = 200

_SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|secret|token|connection_string|access_key|private_key|"
    r"primary_key|secondary_key|master_key|account_key|shared_key|api_key|auth_key|"
    r"sas_url|sas_token|credential|_pem$|^key_material)"
)
# Names that contain a secret word but hold a reference or a flag, not the secret itself.
_REFERENCE_NAME = re.compile(r"(_id|_ids|_arn|_arns|_type|_enabled|_version|_name|_names|_length)$")
_SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|AccountKey\s*=|SharedAccessKey\s*=|"
    r"SharedAccessSignature\s*=|Password\s*=|Pwd\s*=|://[^/\s:@]+:[^/\s@]+@|"
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)",
    re.IGNORECASE,
)
# ``NAME=value`` / ``NAME = value`` / ``NAME: value`` inside a text (a script, an .env file, a
# connection string): a secret when NAME is a secret's name.
# The look-behind and the possessive name keep it linear on long texts.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]*+)[ \t]*(?:=|:[ \t])[ \t]*['\"]?[^\s'\";&]"
)


def _has_hint(value: str) -> bool:
    """The cheap test before any regular expression runs (most values are ids, names and
    regions): one of ``=``, ``@``, ``: ``, ``-----``, ``AKIA``, ``ASIA`` is in the text.
    Spelt out rather than looped: it runs on every text value."""
    return (
        "=" in value
        or "@" in value
        or ": " in value
        or "-----" in value
        or "AKIA" in value
        or "ASIA" in value
    )


# Types whose whole purpose is a secret: every non-reference attribute named here is one.
_SECRET_TYPES = {
    "random_password": {"result", "bcrypt_hash"},
    "tls_private_key": {"private_key_pem", "private_key_openssh", "private_key_pem_pkcs8"},
    "aws_secretsmanager_secret_version": {"secret_string", "secret_binary"},
    "aws_ssm_parameter": {"value", "insecure_value"},
    "azurerm_key_vault_secret": {"value"},
}
# ``result`` and ``value`` are only secret on the types above.
_TYPE_ONLY_NAMES = {"result", "value"}
# ``{name: DB_PASSWORD, value: ...}``: the pair's name says what its value is.
_PAIR_NAMES = ("name", "key", "Name", "Key")
_PAIR_VALUES = ("value", "Value")


_NAME_VERDICTS: dict[str, bool] = {}


def is_secret_name(name: str) -> bool:
    """True when an attribute name says it holds a secret (``kms_key_id`` does not)."""
    verdict = _NAME_VERDICTS.get(name)
    if verdict is None:
        verdict = _names_secret(name)
        if len(_NAME_VERDICTS) < 100_000:
            _NAME_VERDICTS[name] = verdict
    return verdict


def _names_secret(name: str) -> bool:
    """:func:`is_secret_name` without its memo, for names read from values (``{name: X}``,
    ``X=...`` in a script): there are as many of those as resources."""
    lowered = name.lower()
    return not (lowered in _TYPE_ONLY_NAMES or _REFERENCE_NAME.search(lowered)) and bool(
        _SECRET_NAME.search(lowered)
    )


def looks_secret(value: str) -> bool:
    """True when a text looks like it holds a secret, whatever attribute it is in."""
    if not _has_hint(value):
        return False
    if _SECRET_VALUE.search(value):
        return True
    return any(_names_secret(m.group(1)) for m in _ASSIGNMENT.finditer(value))


def _json_text(value: str) -> Any:
    """The decoded value of a text that is a JSON object or array, else ``None``."""
    text = value.strip()
    if len(text) < 2 or (text[0], text[-1]) not in (("{", "}"), ("[", "]")):
        return None
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict | list) else None


def _scrub_text(value: str, depth: int) -> str:
    # Only a text whose first non-blank character opens an object or an array can be JSON.
    first = value[:1]
    decoded = _json_text(value) if first in "{[" or first.isspace() else None
    if decoded is not None:
        scrubbed = _scrub(decoded, depth + 1)
        return value if scrubbed is decoded else json.dumps(scrubbed, ensure_ascii=False)
    return REDACTED if looks_secret(value) else value


def _pair_is_secret(value: dict[str, Any]) -> bool:
    for key in _PAIR_NAMES:
        name = value.get(key)
        if isinstance(name, str):
            return _names_secret(name)
    return False


def _scrub(value: Any, depth: int = 0) -> Any:
    """Redact by name and by value, recursively; returns the same object when nothing changes."""
    if depth > MAX_DEPTH:
        raise ShapeError(f"nests values deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        # Only a ``value`` member can be a pair's secret: judge the pair's name only then.
        secret_pair = ("value" in value or "Value" in value) and _pair_is_secret(value)
        verdicts = _NAME_VERDICTS
        for key, item in value.items():
            if item is None or item is True or item is False:
                continue
            secret_name = verdicts.get(key)
            if secret_name is None:
                secret_name = is_secret_name(key)
            if (secret_name or (secret_pair and key in _PAIR_VALUES)) and item != "":
                new: Any = REDACTED
            elif isinstance(item, str):
                new = _scrub_text(item, depth)
            elif isinstance(item, dict | list):
                new = _scrub(item, depth + 1)
            else:
                continue
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = [_scrub(item, depth + 1) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    if isinstance(value, str):
        return _scrub_text(value, depth)
    return value


def _redact_marked(value: Any, marks: Any) -> Any:
    """Apply a Terraform sensitivity mirror (``after_sensitive``/``sensitive_values``)."""
    if marks is True:
        return REDACTED if value is not None else None
    if isinstance(marks, dict) and isinstance(value, dict):
        return {k: _redact_marked(v, marks.get(k)) if k in marks else v for k, v in value.items()}
    if isinstance(marks, list) and isinstance(value, list):
        return [_redact_marked(v, marks[i]) if i < len(marks) else v for i, v in enumerate(value)]
    return value


_UNREADABLE = object()


def _step_key(step: Any) -> Any:
    """The key of one ``sensitive_attributes`` step.

    Terraform writes ``{"type": "get_attr", "value": "name"}`` and ``{"type": "index",
    "value": {"value": 0, "type": "number"}}`` (a map index has ``"type": "string"``).
    """
    key = step.get("value") if isinstance(step, dict) else step
    if isinstance(key, dict):
        key = key.get("value")
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    if isinstance(key, str | int) and not isinstance(key, bool):
        return key
    return _UNREADABLE


def _redact_path(value: Any, steps: list[Any]) -> Any:
    """Redact the value at a state ``sensitive_attributes`` path (get_attr / index steps).

    A step this reader cannot follow redacts everything below it: when unsure, hide.
    """
    if not steps or value is None:
        return REDACTED if value is not None else None
    key, rest = _step_key(steps[0]), steps[1:]
    if key is _UNREADABLE:
        return REDACTED
    if isinstance(value, dict) and isinstance(key, str) and key in value:
        copy = dict(value)
        copy[key] = _redact_path(value[key], rest)
        return copy
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        items = list(value)
        items[key] = _redact_path(value[key], rest)
        return items
    return value


def _all_redacted(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if v is not None else None) for k, v in attributes.items()}


def redact(
    attributes: dict[str, Any],
    resource_type: str,
    *,
    sensitive_paths: Any = None,
    sensitive_marks: Any = None,
) -> dict[str, Any]:
    """Return ``attributes`` with every secret replaced by ``[REDACTED]``.

    ``sensitive_paths`` is a state v4 ``sensitive_attributes`` list; ``sensitive_marks`` a
    plan or show-json sensitivity mirror (``true``: the whole value is sensitive). Both are
    optional and combine with name and value rules. Raises :class:`ShapeError` for values
    nested deeper than :data:`MAX_DEPTH`.
    """
    result: Any = attributes
    if sensitive_marks is True:
        result = _all_redacted(result)
    elif isinstance(sensitive_marks, dict):
        result = _redact_marked(result, sensitive_marks)
    if isinstance(sensitive_paths, list):
        for path in sensitive_paths:
            steps = path if isinstance(path, list) else [path]
            redacted = _redact_path(result, steps)
            # A path to the whole object, or one that cannot be followed from its first
            # step: every value is hidden, the attribute names stay.
            result = redacted if isinstance(redacted, dict) else _all_redacted(result)
    type_secrets = _SECRET_TYPES.get(resource_type)
    if type_secrets:
        result = {
            k: (REDACTED if k in type_secrets and v not in (None, "") else v)
            for k, v in result.items()
        }
    scrubbed: dict[str, Any] = _scrub(result)
    return scrubbed


# -- redaction without the walk --------------------------------------------------------------
# ``redact`` walks every value of every instance, and most hold nothing it would change.
# ``redact_state_attributes`` proves, from the attributes' raw JSON bytes, that no text value
# needs a look (a conservative superset of what ``_scrub_text`` acts on), and then only
# redacts by key name; anything else gets the full ``redact``.
# tests/terraform/test_redaction_prefilter.py checks both give the same result.
#
# A text ``_scrub_text`` changes holds one of the hints of ``_has_hint`` (``=``, ``@``, ``: ``,
# ``-----``, ``AKIA``, ``ASIA``: every value pattern and ``NAME=value`` assignment needs one)
# or starts like JSON text or with a space. In the raw bytes a hint shows as itself unless a
# character of it is written ``\uXXXX`` (any such escape counts, but Go's of ``<``, ``>``,
# ``&``); a text's first character follows its opening quote (an escape or a non-ASCII
# character there counts: it may be a space). ``: `` also separates keys from values: only
# one after something other than a quote, after an escaped quote, or after a quote that
# opens a text (itself after ``:``, ``[``, ``,``, ``{`` or a space) counts. Names are
# checked on the decoded keys.
_ACCESS_KEY_HINT = re.compile(rb"A[KS]IA")
_ESCAPE = re.compile(rb"\\u(?!00(?:3[cCeE]|26))")  # Go's escapes of < > & change nothing
_TEXT_START = re.compile(rb'"(?:[\[{ \\\x80-\xff]|: (?<=[:\[,{ \t\r\n]": ))')
_INNER_COLON = re.compile(rb': (?<!": )')
# How deep the name walk goes before leaving it to ``redact`` (which refuses MAX_DEPTH).
_WALK_DEPTH = 150
_PLAIN_KEYS: set[str] = set()
_UNDECIDED = object()


def texts_may_need_redaction(raw: Any) -> bool:
    """False when no text value in the JSON bytes ``raw`` can be changed by redaction."""
    data = bytes(raw)
    # A backslash is looked for once (one byte: the fast search); both of its checks need one.
    escaped = b"\\" in data
    return (
        b"=" in data
        or b"@" in data
        or b"-----" in data
        or (escaped and b"\\u" in data and _ESCAPE.search(data) is not None)
        or _ACCESS_KEY_HINT.search(data) is not None
        or _TEXT_START.search(data) is not None
        or _INNER_COLON.search(data) is not None
        or (escaped and b'\\": ' in data)
    )


_CONTAINERS = frozenset((dict, list))


def _by_name(value: Any, depth: int) -> Any:
    """``_scrub`` of a value none of whose texts needs a look: secrets named by their key
    are redacted (the same object back when none is). ``_UNDECIDED`` for a ``{name, value}``
    pair or a deep nesting: the full walk decides."""
    if depth > _WALK_DEPTH:
        return _UNDECIDED
    if type(value) is list:
        if _CONTAINERS.isdisjoint(map(type, value)):
            return value
        items = [_by_name(item, depth + 1) if type(item) in _CONTAINERS else item for item in value]
        if any(item is _UNDECIDED for item in items):
            return _UNDECIDED
        return (
            items if any(new is not old for new, old in zip(items, value, strict=True)) else value
        )
    if "value" in value or "Value" in value:
        return _UNDECIDED
    changed: dict[str, Any] = {}
    # Only keys not yet known plain are judged (a plain one is then remembered, even when
    # its value is a flag); a key that may name a secret is the rare case.
    for key in () if value.keys() <= _PLAIN_KEYS else value.keys() - _PLAIN_KEYS:
        if not _plain_key(key) and _hidden_under_a_name(value[key]):
            changed[key] = REDACTED
    # Only nested values are walked (picked out in C): a secret-named one is redacted whole.
    nested = compress(value.items(), map(_CONTAINERS.__contains__, map(type, value.values())))
    for key, item in nested:
        if key not in changed:
            if (  # a flat mapping of plain names (tags): what the call would find, inlined
                type(item) is dict
                and depth < _WALK_DEPTH
                and item.keys() <= _PLAIN_KEYS
                and "value" not in item
                and "Value" not in item
                and _CONTAINERS.isdisjoint(map(type, item.values()))
            ):
                continue
            new = _by_name(item, depth + 1)
            if new is _UNDECIDED:
                return new
            if new is not item:
                changed[key] = new
    return {**value, **changed} if changed else value


def _hidden_under_a_name(item: Any) -> bool:
    """Whether the value under a secret's name is redacted by the name walk: whole, unless
    a flag, null or empty (nothing to hide, and the flag says what is configured)."""
    return not (item is None or item is True or item is False or item == "")


_PAIR_VALUE_KEYS = frozenset(_PAIR_VALUES)


def names_redacted_many(mappings: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """For each mapping, what the name walk returns, where it is sure of it: the mapping
    itself when no key at any depth names a secret; a copy with the values of the secrets
    named at its top redacted; ``None`` for the walk to decide (a ``{name, value}`` pair at
    the top leaves that mapping to it).

    Judged for the whole list at once, a level of nesting at a time (the keys of every
    mapping of a level in one set, their nested values picked out in C): a secret's name, a
    pair or nesting past the walk's depth anywhere below the top sends them all to the walk.
    """
    if not mappings:
        return []
    unsure = _unsure_keys(set(chain.from_iterable(mappings)))
    results: list[dict[str, Any] | None]
    if not unsure:
        results = list(mappings)
        below: list[Any] = list(map(dict.values, mappings))
    else:
        results, below = [], []
        for mapping in mappings:
            if unsure.isdisjoint(mapping):
                results.append(mapping)
                below.append(mapping.values())
                continue
            hidden = unsure.intersection(mapping)
            if not _PAIR_VALUE_KEYS.isdisjoint(hidden):
                results.append(None)
                continue
            changed = {key: REDACTED for key in hidden if _hidden_under_a_name(mapping[key])}
            results.append({**mapping, **changed} if changed else mapping)
            below.append([value for key, value in mapping.items() if key not in hidden])
    level = _containers(chain.from_iterable(below))
    depth = 1
    while level:
        dicts = [value for value in level if type(value) is dict]
        if depth > _WALK_DEPTH or _unsure_keys(set(chain.from_iterable(dicts))):
            return [None] * len(mappings)
        lists = chain.from_iterable(value for value in level if type(value) is list)
        level = _containers(chain(chain.from_iterable(map(dict.values, dicts)), lists))
        depth += 1
    return results


def _unsure_keys(keys: set[str]) -> set[str]:
    """Of ``keys``, those that may name a secret, and a pair's ``value`` key."""
    unsure = keys - _PLAIN_KEYS
    if unsure:
        unsure = {key for key in unsure if not _plain_key(key)}
    return unsure | (keys & _PAIR_VALUE_KEYS)


def _containers(values: Iterable[Any]) -> list[Any]:
    """The dicts and lists among ``values``."""
    items = list(values)
    return list(compress(items, map(_CONTAINERS.__contains__, map(type, items))))


def _plain_key(key: str) -> bool:
    """Not a secret's name (remembered: keys repeat across instances)."""
    if key in _PLAIN_KEYS:
        return True
    if is_secret_name(key):
        return False
    if len(_PLAIN_KEYS) < 100_000:
        _PLAIN_KEYS.add(key)
    return True


def redact_state_attributes(
    attributes: dict[str, Any],
    raw: Any,
    resource_type: str,
    sensitive_paths: Any = None,
    *,
    plain_texts: bool = False,
) -> dict[str, Any]:
    """``redact(attributes, resource_type, sensitive_paths=...)`` of a state instance,
    cheaply when ``raw`` (the attributes' JSON bytes; ``None`` when unknown) shows that no
    text value needs a look: then only keys naming a secret are redacted. ``plain_texts``:
    the caller has shown it already, on bytes that hold ``raw``
    (:func:`texts_may_need_redaction` false)."""
    if (
        raw is None
        or sensitive_paths
        or resource_type in _SECRET_TYPES
        or (not plain_texts and texts_may_need_redaction(raw))
    ):
        return redact(attributes, resource_type, sensitive_paths=sensitive_paths)
    scrubbed = _by_name(attributes, 0)
    if scrubbed is _UNDECIDED:
        return redact(attributes, resource_type, sensitive_paths=sensitive_paths)
    result: dict[str, Any] = scrubbed
    return result


def redacted_by_names(batch: list[tuple[dict[str, Any], str, Any]]) -> dict[int, dict[str, Any]]:
    """Of state instances ``(attributes, resource_type, sensitive_paths)`` whose attributes'
    bytes showed no text to redact (:func:`texts_may_need_redaction` false), what
    :func:`redact_state_attributes` returns, by id of the attributes, for those it is sure
    of: no sensitive path, not a secret's type, names judged at once
    (:func:`names_redacted_many`)."""
    mappings = [a for a, rtype, paths in batch if not paths and rtype not in _SECRET_TYPES]
    return {
        id(mapping): result
        for mapping, result in zip(mappings, names_redacted_many(mappings), strict=True)
        if result is not None
    }


def plain_text(value: str) -> bool:
    """A text :func:`redact` leaves as it is wherever it stands (no hint of a secret, not
    JSON text)."""
    first = value[:1]
    return bool(first) and first not in "{[" and not first.isspace() and not _has_hint(value)


_SCALARS = frozenset((str, int, float, bool, type(None)))


def redact_flat(attributes: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """:func:`redact` of a mapping of names to values, without the walk when every value is
    a number, a flag or a plain text and no name is a secret's."""
    if not _flat_plain_shape(attributes, resource_type) or not _plain_texts(
        [v for v in attributes.values() if type(v) is str]
    ):
        return redact(attributes, resource_type)
    return attributes


def redact_flat_many(batch: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    """:func:`redact_flat` of each ``(attributes, resource_type)``: the whole batch judged
    at once (types, names, kinds of value, and its texts in one look, not a thousand), each
    mapping on its own when the batch is not plain throughout."""
    mappings = [attributes for attributes, _ in batch]
    keys = set(chain.from_iterable(mappings))
    values = list(chain.from_iterable(map(dict.values, mappings)))
    if (
        _SECRET_TYPES.keys().isdisjoint([resource_type for _, resource_type in batch])
        and not _unsure_keys(keys)
        and _SCALARS.issuperset(map(type, values))
        and _plain_texts([v for v in values if type(v) is str])
    ):
        return mappings
    return [redact_flat(attributes, resource_type) for attributes, resource_type in batch]


def _flat_plain_shape(attributes: dict[str, Any], resource_type: str) -> bool:
    """Whether :func:`redact` leaves a flat mapping as it is, its texts being plain: no
    secret type, no ``{name, value}`` pair, no secret's name, no nested value."""
    return not (
        resource_type in _SECRET_TYPES
        or "value" in attributes
        or "Value" in attributes
        or not (attributes.keys() <= _PLAIN_KEYS or all(map(_plain_key, attributes)))
        or not _SCALARS.issuperset(map(type, attributes.values()))
    )


# A text that is empty, or starts like JSON text or with a space, after the first, in texts
# joined by "\n" (led by a line break: the engine looks for that character first).
_ODD_START = re.compile(r"\n(?:[\[{\s]|\Z)")


def _plain_texts(texts: list[str]) -> bool:
    """Every text is plain (see :func:`plain_text`), judged on them joined by a newline:
    no hint spans one (none holds a newline), and a newline inside a text is only a false
    alarm."""
    if not texts:
        return True
    joined = "\n".join(texts)
    first = joined[:1]
    return (
        first != ""
        and first not in "{["
        and not first.isspace()
        and not _has_hint(joined)
        and _ODD_START.search(joined) is None
    )


def safe_quote(value: Any, limit: int = 60) -> str:
    """``repr`` of a value a message must name (a key, a status), or ``[REDACTED]`` when it
    could be a secret; long values are cut."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if not isinstance(value, str):
        return kind_of(value)
    text = value
    if looks_secret(text) or _json_text(text) is not None:
        return REDACTED
    return repr(text if len(text) <= limit else text[:limit] + "...")


_URL_USERINFO = re.compile(r"(://)[^/\s:@]+:[^/\s@]+@")
_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*-----|$)", re.S
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_ASSIGNED_VALUE = re.compile(r"[^\s'\";&]+")
_MASKED_ASSIGNMENT = re.compile(
    r"[A-Za-z_][A-Za-z0-9_.-]*[ \t]*(?:=|:[ \t])[ \t]*['\"]?" + re.escape(REDACTED)
)


def scrub_message(text: str) -> str:
    """A message with the secrets it may carry masked, for every error that leaves the tool
    (an API's own words, an endpoint given with credentials in its URL): credentials in a
    URL, ``NAME=value`` where NAME is a secret's name, private key blocks and access key ids
    become ``[REDACTED]``; a message still shaped like a secret is withheld whole."""
    if not looks_secret(text):
        return text
    out = _URL_USERINFO.sub(r"\1" + REDACTED + "@", text)
    out = _KEY_BLOCK.sub(REDACTED, out)
    out = _ACCESS_KEY_ID.sub(REDACTED, out)
    pieces: list[str] = []
    last = 0
    for match in _ASSIGNMENT.finditer(out):
        if not _names_secret(match.group(1)):
            continue
        start = match.end() - 1  # the value's first character
        value = _ASSIGNED_VALUE.match(out, start)
        end = value.end() if value else start + 1
        pieces.append(out[last:start] + REDACTED)
        last = end
    out = "".join(pieces) + out[last:]
    rest = _MASKED_ASSIGNMENT.sub("", out)  # what is left once the masked values are gone
    return out if not looks_secret(rest) else "[message withheld: it looked like it held a secret]"
