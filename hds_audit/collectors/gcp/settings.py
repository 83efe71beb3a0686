"""The ``gcp:`` section of ``hds-audit.yaml`` and the ``--gcp*`` options, merged.

No Google library import here: the configuration is validated before anything else runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hds_audit.collectors.api_settings import http_url, open_section, string_list, workers_setting
from hds_audit.errors import UsageError

_KEYS = frozenset({"enabled", "scopes", "endpoint_url", "max_workers"})
_SCOPE = re.compile(r"^(organizations|folders|projects)/[A-Za-z0-9._:-]+$")


@dataclass(frozen=True, slots=True)
class GcpSettings:
    enabled: bool = False
    scopes: tuple[str, ...] = ()
    endpoint_url: str | None = None
    max_workers: int = 16


def check_scope(scope: str, where: str) -> str:
    """``organizations/ID``, ``folders/ID`` or ``projects/ID``; one-line UsageError otherwise."""
    if not _SCOPE.match(scope):
        raise UsageError(
            f"{where}: {scope!r} is not a scope; use organizations/ID, folders/ID or projects/ID"
        )
    return scope


def parse_gcp_section(value: Any, label: str) -> GcpSettings:
    """Validate the ``gcp:`` mapping of a configuration file (``gcp: true`` is shorthand for
    ``gcp: {enabled: true}``)."""
    enabled, section = open_section("gcp", value, label, _KEYS)
    scopes = string_list(
        section.get("scopes", []),
        f"{label}: gcp.scopes must be a list of organizations/ID, folders/ID or projects/ID",
    )
    for scope in scopes:
        check_scope(scope, f"{label}: gcp.scopes")
    endpoint = section.get("endpoint_url")
    if endpoint is not None and not isinstance(endpoint, str):
        raise UsageError(f"{label}: gcp.endpoint_url must be a URL")
    workers = workers_setting("gcp", section, label)
    return GcpSettings(
        enabled,
        tuple(scopes),
        http_url(endpoint, f"{label}: gcp.endpoint_url") if endpoint else None,
        workers,
    )


def merge_settings(
    file: GcpSettings | None,
    flag: bool,
    scopes: Sequence[str],
    endpoint_url: str | None,
    max_workers: int | None = None,
) -> GcpSettings | None:
    """Command line over file; ``None`` when Google Cloud is not to be audited.

    ``--gcp-scope`` or ``--gcp-endpoint-url`` alone also turn the Google Cloud audit on.
    """
    base = file or GcpSettings()
    if not (flag or scopes or endpoint_url or base.enabled):
        return None
    for scope in scopes:
        check_scope(scope, "--gcp-scope")
    return GcpSettings(
        enabled=True,
        scopes=tuple(scopes) or base.scopes,
        endpoint_url=http_url(endpoint_url, "--gcp-endpoint-url")
        if endpoint_url
        else base.endpoint_url,
        max_workers=max_workers or base.max_workers,
    )
