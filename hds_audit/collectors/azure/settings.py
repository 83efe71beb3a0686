"""The ``azure:`` section of ``hds-audit.yaml`` and the ``--azure*`` options, merged.

No Azure SDK import here: the configuration is validated before anything else runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hds_audit.errors import UsageError

CLOUD_NAMES = ("public", "china", "usgov")
_KEYS = frozenset({"enabled", "subscriptions", "cloud", "max_workers"})


@dataclass(frozen=True, slots=True)
class AzureSettings:
    enabled: bool = False
    subscriptions: tuple[str, ...] = ()
    cloud: str = "public"
    max_workers: int = 16


def parse_azure_section(value: Any, label: str) -> AzureSettings:
    """Validate the ``azure:`` mapping of a configuration file."""
    if value is None:
        return AzureSettings(enabled=True)
    if isinstance(value, bool):  # ``azure: true`` is shorthand for ``azure: {enabled: true}``
        return AzureSettings(enabled=value)
    if not isinstance(value, Mapping):
        raise UsageError(f"{label}: 'azure' must be true/false or a mapping of settings")
    unknown = sorted(set(map(str, value)) - _KEYS)
    if unknown:
        raise UsageError(
            f"{label}: unknown azure setting {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_KEYS))}"
        )
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UsageError(f"{label}: azure.enabled must be true or false")
    subscriptions = value.get("subscriptions", [])
    if isinstance(subscriptions, str):
        subscriptions = [subscriptions]
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        raise UsageError(f"{label}: azure.subscriptions must be a list of subscription ids")
    cloud = value.get("cloud", "public")
    if cloud not in CLOUD_NAMES:
        raise UsageError(f"{label}: azure.cloud must be one of {', '.join(CLOUD_NAMES)}")
    workers = value.get("max_workers", 16)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 256:
        raise UsageError(f"{label}: azure.max_workers must be a number from 1 to 256")
    return AzureSettings(enabled, tuple(subscriptions), str(cloud), workers)


def merge_settings(
    file: AzureSettings | None,
    flag: bool,
    subscriptions: Sequence[str],
    cloud: str | None,
    max_workers: int | None,
) -> AzureSettings | None:
    """Command line over file; ``None`` when Azure is not to be audited.

    ``--azure-subscription`` or ``--azure-cloud`` alone also turn the Azure audit on.
    """
    base = file or AzureSettings()
    enabled = flag or bool(subscriptions) or cloud is not None or base.enabled
    if not enabled:
        return None
    return AzureSettings(
        enabled=True,
        subscriptions=tuple(subscriptions) or base.subscriptions,
        cloud=cloud or base.cloud,
        max_workers=max_workers or base.max_workers,
    )
