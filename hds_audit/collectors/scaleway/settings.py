"""The ``scaleway:`` section of ``hds-audit.yaml`` and the ``--scaleway*`` options, merged.

No Scaleway library import here: the configuration is validated before anything else runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hds_audit.collectors.api_settings import http_url, open_section, string_list, workers_setting
from hds_audit.errors import UsageError

_KEYS = frozenset(
    {
        "enabled",
        "projects",
        "organization",
        "regions",
        "api_url",
        "s3_endpoint_url",
        "profile",
        "max_workers",
    }
)
_REGION = re.compile(r"^[a-z]{2}-[a-z]{3}$")


@dataclass(frozen=True, slots=True)
class ScalewaySettings:
    enabled: bool = False
    projects: tuple[str, ...] = ()
    organization: str | None = None
    regions: tuple[str, ...] = ()  # empty: every verified region of the geo table
    api_url: str | None = None
    s3_endpoint_url: str | None = None
    profile: str | None = None
    max_workers: int = 16


def check_id(value: str, where: str) -> str:
    """A Scaleway project or organisation id is a UUID; one-line UsageError otherwise."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise UsageError(f"{where}: {value!r} is not a Scaleway id (a UUID)") from None
    return value


def check_region(value: str, where: str) -> str:
    if not _REGION.match(value):
        raise UsageError(f"{where}: {value!r} is not a Scaleway region (such as fr-par)")
    return value


def _strings(value: Any, label: str, key: str) -> list[str]:
    return string_list(value, f"{label}: scaleway.{key} must be a list of strings")


def parse_scaleway_section(value: Any, label: str) -> ScalewaySettings:
    """Validate the ``scaleway:`` mapping of a configuration file (``scaleway: true`` is
    ``scaleway: {enabled: true}``)."""
    enabled, section = open_section("scaleway", value, label, _KEYS)
    projects = [
        check_id(p, f"{label}: scaleway.projects")
        for p in _strings(section.get("projects", []), label, "projects")
    ]
    regions = [
        check_region(r, f"{label}: scaleway.regions")
        for r in _strings(section.get("regions", []), label, "regions")
    ]
    texts: dict[str, str | None] = {}
    for key in ("organization", "api_url", "s3_endpoint_url", "profile"):
        text = section.get(key)
        if text is not None and not isinstance(text, str):
            raise UsageError(f"{label}: scaleway.{key} must be a string")
        texts[key] = text
    workers = workers_setting("scaleway", section, label)
    organization = texts["organization"]
    api_url, s3_url = texts["api_url"], texts["s3_endpoint_url"]
    return ScalewaySettings(
        enabled=enabled,
        projects=tuple(projects),
        organization=check_id(organization, f"{label}: scaleway.organization")
        if organization
        else None,
        regions=tuple(regions),
        api_url=http_url(api_url, f"{label}: scaleway.api_url") if api_url else None,
        s3_endpoint_url=http_url(s3_url, f"{label}: scaleway.s3_endpoint_url") if s3_url else None,
        profile=texts["profile"],
        max_workers=workers,
    )


def merge_settings(
    file: ScalewaySettings | None,
    flag: bool,
    projects: Sequence[str],
    organization: str | None,
    urls: tuple[str | None, str | None],
    max_workers: int | None = None,
) -> ScalewaySettings | None:
    """Command line over file; ``None`` when Scaleway is not to be audited.

    ``--scaleway-project``, ``--scaleway-organization`` or ``--scaleway-api-url`` alone also
    turn the Scaleway audit on.
    """
    base = file or ScalewaySettings()
    api_url, s3_url = urls
    if not (flag or projects or organization or api_url or base.enabled):
        return None
    for project in projects:
        check_id(project, "--scaleway-project")
    return ScalewaySettings(
        enabled=True,
        projects=tuple(projects) or base.projects,
        organization=check_id(organization, "--scaleway-organization")
        if organization
        else base.organization,
        regions=base.regions,
        api_url=http_url(api_url, "--scaleway-api-url") if api_url else base.api_url,
        s3_endpoint_url=http_url(s3_url, "--scaleway-s3-endpoint-url")
        if s3_url
        else base.s3_endpoint_url,
        profile=base.profile,
        max_workers=max_workers or base.max_workers,
    )
