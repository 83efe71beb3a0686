"""Secrets never leave the collector: redact them before anything else sees the attributes.

Three signals, any one suffices: Terraform marked the value sensitive (state
``sensitive_attributes``, plan ``after_sensitive``, ``sensitive_values``); the attribute's
name says it is a secret (``password``, ``primary_access_key``, ``connection_string``...);
or the value looks like one (a PEM private key, a connection string carrying a key).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|secret|token|connection_string|access_key|private_key|"
    r"primary_key|secondary_key|master_key|account_key|shared_key|api_key|auth_key|"
    r"sas_url|sas_token|credential|_pem$|^key_material)"
)
# Names that contain a secret word but hold a reference or a flag, not the secret itself.
_REFERENCE_NAME = re.compile(r"(_id|_ids|_arn|_arns|_type|_enabled|_version|_name|_names|_length)$")
_SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|AccountKey=|SharedAccessKey=|SharedAccessSignature=|"
    r"Password=|Pwd=|://[^/\s:@]+:[^/\s@]+@)",
    re.IGNORECASE,
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


_NAME_VERDICTS: dict[str, bool] = {}


def is_secret_name(name: str) -> bool:
    """True when an attribute name says it holds a secret (``kms_key_id`` does not)."""
    verdict = _NAME_VERDICTS.get(name)
    if verdict is None:
        lowered = name.lower()
        verdict = not (lowered in _TYPE_ONLY_NAMES or _REFERENCE_NAME.search(lowered)) and bool(
            _SECRET_NAME.search(lowered)
        )
        if len(_NAME_VERDICTS) < 100_000:
            _NAME_VERDICTS[name] = verdict
    return verdict


def _suspicious(value: str) -> bool:
    return ("=" in value or "-----" in value or "@" in value) and bool(_SECRET_VALUE.search(value))


def _scrub(value: Any) -> Any:
    """Redact by name and by value, recursively; returns the same object when nothing changes."""
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for key, item in value.items():
            if item is None or item is True or item is False:
                continue
            if is_secret_name(key) and item != "":
                new: Any = REDACTED
            elif isinstance(item, str):
                new = REDACTED if _suspicious(item) else item
            elif isinstance(item, dict | list):
                new = _scrub(item)
            else:
                continue
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = [_scrub(item) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    if isinstance(value, str) and _suspicious(value):
        return REDACTED
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


def _redact_path(value: Any, steps: list[Any]) -> Any:
    """Redact the value at a state ``sensitive_attributes`` path (get_attr / index steps)."""
    if not steps:
        return REDACTED if value is not None else None
    step, rest = steps[0], steps[1:]
    key = step.get("value") if isinstance(step, dict) else step
    if isinstance(key, dict):  # an index step: {"value": 0, "type": "number"} (cty JSON)
        key = key.get("value")
    if isinstance(value, dict) and key in value:
        copy = dict(value)
        copy[key] = _redact_path(value[key], rest)
        return copy
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        items = list(value)
        items[key] = _redact_path(value[key], rest)
        return items
    return value


def redact(
    attributes: dict[str, Any],
    resource_type: str,
    *,
    sensitive_paths: Any = None,
    sensitive_marks: Any = None,
) -> dict[str, Any]:
    """Return ``attributes`` with every secret replaced by ``[REDACTED]``.

    ``sensitive_paths`` is a state v4 ``sensitive_attributes`` list; ``sensitive_marks`` a
    plan or show-json sensitivity mirror. Both are optional and combine with name rules.
    """
    result: Any = attributes
    if isinstance(sensitive_marks, dict):
        result = _redact_marked(result, sensitive_marks)
    if isinstance(sensitive_paths, list):
        for path in sensitive_paths:
            steps = path if isinstance(path, list) else [path]
            result = _redact_path(result, steps)
    type_secrets = _SECRET_TYPES.get(resource_type)
    if type_secrets:
        result = {
            k: (REDACTED if k in type_secrets and v not in (None, "") else v)
            for k, v in result.items()
        }
    scrubbed: dict[str, Any] = _scrub(result)
    return scrubbed
