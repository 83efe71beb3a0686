"""The settings sections of the live collectors in ``hds-audit.yaml``: the checks every one of
them makes, and the ``ovh:`` and ``outscale:`` sections, merged with their options.

``ovh: {projects: [...], endpoint_url: ...}``, ``outscale: {regions: [...], endpoint_url: ...}``;
``ovh: true`` is shorthand for ``ovh: {enabled: true}``. No SDK import here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hds_audit.errors import UsageError

#: Section -> the key listing what it reads (projects, regions).
TARGETS = {"ovh": "projects", "outscale": "regions"}


def open_section(
    name: str, value: Any, label: str, known: Collection[str]
) -> tuple[bool, Mapping[str, Any]]:
    """Whether the ``name:`` section turns its cloud on, and its settings (empty for the
    ``name: true`` / ``name: false`` / ``name:`` shorthands). A section that is not a mapping,
    names an unknown setting or a non-boolean ``enabled`` is one line, exit 2."""
    if value is None or isinstance(value, bool):
        return value is not False, {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{label}: '{name}' must be true/false or a mapping of settings")
    unknown = sorted(set(map(str, value)) - set(known))
    if unknown:
        raise UsageError(
            f"{label}: unknown {name} setting {', '.join(unknown)}; known: "
            f"{', '.join(sorted(known))}"
        )
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UsageError(f"{label}: {name}.enabled must be true or false")
    return enabled, value


def string_list(value: Any, error: str) -> list[str]:
    """A list of strings (one string stands for a list of it); else ``error``, exit 2."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(error)
    return value


def workers_setting(name: str, section: Mapping[str, Any], label: str) -> int:
    """``name.max_workers``: a number from 1 to 256 (default 16)."""
    workers = section.get("max_workers", 16)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 256:
        raise UsageError(f"{label}: {name}.max_workers must be a number from 1 to 256")
    return workers


def http_url(url: str, where: str) -> str:
    """An http:// or https:// URL without its trailing slash; else one line, exit 2."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{where}: {url!r} is not an http:// or https:// URL")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class ApiSettings:
    enabled: bool = False
    targets: tuple[str, ...] = ()
    endpoint_url: str | None = None


def parse_api_section(name: str, value: Any, label: str) -> ApiSettings:
    """Validate one ``ovh:`` / ``outscale:`` section; a bad one is one line, exit 2."""
    enabled, section = open_section(name, value, label, {"enabled", TARGETS[name], "endpoint_url"})
    targets = section.get(TARGETS[name]) or []
    targets = [targets] if isinstance(targets, str) else targets
    url = section.get("endpoint_url")
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
