"""The ``azure:`` section of ``hds-audit.yaml`` and the ``--azure*`` options, merged.

No Azure SDK import here: the configuration is validated before anything else runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hds_audit.collectors.api_settings import open_section, string_list, workers_setting
from hds_audit.errors import UsageError

CLOUD_NAMES = ("public", "china", "usgov")
_KEYS = frozenset(
    {
        "enabled",
        "subscriptions",
        "cloud",
        "max_workers",
        "endpoint_url",
        "authority_host",
        "credential_scope",
    }
)


@dataclass(frozen=True, slots=True)
class AzureSettings:
    """``cloud`` names a known cloud; ``endpoint_url`` (with ``authority_host`` and
    ``credential_scope`` where that cloud needs them) points at a custom Resource Manager
    instead: Azure Stack Hub, a sovereign or private ARM endpoint."""

    enabled: bool = False
    subscriptions: tuple[str, ...] = ()
    cloud: str = "public"
    max_workers: int = 16
    endpoint_url: str | None = None
    authority_host: str | None = None
    credential_scope: str | None = None


def _endpoint(value: Any, where: str) -> str:
    """An http(s) URL, else a one-line UsageError naming ``where``."""
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise UsageError(f"{where}: {value!r} is not an http(s) URL")
    if not urlsplit(value).netloc:
        raise UsageError(f"{where}: {value!r} has no host")
    return value.rstrip("/")


def _custom_endpoint(value: Mapping[str, Any], label: str) -> dict[str, str | None]:
    """``endpoint_url``, ``authority_host`` and ``credential_scope`` of the section."""
    found: dict[str, str | None] = dict.fromkeys(
        ("endpoint_url", "authority_host", "credential_scope")
    )
    if "endpoint_url" in value:
        found["endpoint_url"] = _endpoint(value["endpoint_url"], f"{label}: azure.endpoint_url")
    for key in ("authority_host", "credential_scope"):
        if key in value:
            if not isinstance(value[key], str) or not value[key]:
                raise UsageError(f"{label}: azure.{key} must be a text")
            if found["endpoint_url"] is None:
                raise UsageError(f"{label}: azure.{key} needs azure.endpoint_url")
            found[key] = value[key]
    return found


def parse_azure_section(value: Any, label: str) -> AzureSettings:
    """Validate the ``azure:`` mapping of a configuration file (``azure: true`` is shorthand
    for ``azure: {enabled: true}``)."""
    enabled, section = open_section("azure", value, label, _KEYS)
    subscriptions = string_list(
        section.get("subscriptions", []),
        f"{label}: azure.subscriptions must be a list of subscription ids",
    )
    cloud = section.get("cloud", "public")
    if cloud not in CLOUD_NAMES:
        raise UsageError(f"{label}: azure.cloud must be one of {', '.join(CLOUD_NAMES)}")
    workers = workers_setting("azure", section, label)
    return AzureSettings(
        enabled, tuple(subscriptions), str(cloud), workers, **_custom_endpoint(section, label)
    )


def merge_settings(
    file: AzureSettings | None,
    flag: bool,
    subscriptions: Sequence[str],
    cloud: str | None,
    max_workers: int | None,
    endpoint_url: str | None = None,
) -> AzureSettings | None:
    """Command line over file; ``None`` when Azure is not to be audited.

    ``--azure-subscription``, ``--azure-cloud`` or ``--azure-endpoint-url`` alone also turn
    the Azure audit on. An endpoint given on the command line keeps the file's authority and
    scope only when it is the file's own endpoint.
    """
    base = file or AzureSettings()
    enabled = flag or bool(subscriptions) or cloud is not None or endpoint_url or base.enabled
    if not enabled:
        return None
    custom = {
        "endpoint_url": base.endpoint_url,
        "authority_host": base.authority_host,
        "credential_scope": base.credential_scope,
    }
    if endpoint_url is not None:
        url = _endpoint(endpoint_url, "--azure-endpoint-url")
        if url != base.endpoint_url:
            custom = {"endpoint_url": url, "authority_host": None, "credential_scope": None}
    return AzureSettings(
        enabled=True,
        subscriptions=tuple(subscriptions) or base.subscriptions,
        cloud=cloud or base.cloud,
        max_workers=max_workers or base.max_workers,
        **custom,
    )
