"""The ``ovh:`` and ``outscale:`` sections of ``hds-audit.yaml``, merged with their options.

``ovh: {projects: [...], endpoint_url: ...}``, ``outscale: {regions: [...], endpoint_url: ...}``;
``ovh: true`` is shorthand for ``ovh: {enabled: true}``. No SDK import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hds_audit.errors import UsageError

#: Section -> the key listing what it reads (projects, regions).
TARGETS = {"ovh": "projects", "outscale": "regions"}


@dataclass(frozen=True, slots=True)
class ApiSettings:
    enabled: bool = False
    targets: tuple[str, ...] = ()
    endpoint_url: str | None = None


def parse_api_section(name: str, value: Any, label: str) -> ApiSettings:
    """Validate one ``ovh:`` / ``outscale:`` section; a bad one is one line, exit 2."""
    if value is None or isinstance(value, bool):
        return ApiSettings(enabled=value is not False)
    if not isinstance(value, Mapping):
        raise UsageError(f"{label}: '{name}' must be true/false or a mapping of settings")
    known = {"enabled", TARGETS[name], "endpoint_url"}
    unknown = sorted(set(map(str, value)) - known)
    if unknown:
        raise UsageError(
            f"{label}: unknown {name} setting {', '.join(unknown)}; known: "
            f"{', '.join(sorted(known))}"
        )
    enabled = value.get("enabled", True)
    targets = value.get(TARGETS[name]) or []
    targets = [targets] if isinstance(targets, str) else targets
    url = value.get("endpoint_url")
    if not isinstance(enabled, bool):
        raise UsageError(f"{label}: {name}.enabled must be true or false")
    if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
        raise UsageError(f"{label}: {name}.{TARGETS[name]} must be a list of names")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise UsageError(f"{label}: {name}.endpoint_url must be an http:// or https:// URL")
    return ApiSettings(enabled, tuple(targets), url)


def merge_api_settings(
    file: ApiSettings | None, flag: bool, targets: tuple[str, ...], endpoint_url: str | None
) -> ApiSettings | None:
    """The options over the file's section; ``None`` when the cloud is not audited."""
    if not (flag or targets or endpoint_url or (file is not None and file.enabled)):
        return None
    base = file or ApiSettings()
    return ApiSettings(True, targets or base.targets, endpoint_url or base.endpoint_url)
