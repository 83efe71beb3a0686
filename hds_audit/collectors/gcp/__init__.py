"""Google Cloud collector: every project of an organisation, folder or project scope, through
Cloud Asset Inventory (``google-cloud-asset``, REST transport), read-only.

The client library is imported only when a collection runs (the ``gcp`` extra); the table,
settings and permissions work without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hds_audit.collectors.gcp.collect import GcpCollector
from hds_audit.collectors.gcp.environment import ADC, ANONYMOUS
from hds_audit.collectors.gcp.settings import GcpSettings, merge_settings, parse_gcp_section
from hds_audit.collectors.gcp.table import custom_role_yaml, gcp_table
from hds_audit.collectors.runs import CollectStats, ScopeProgress, stderr_stream

if TYPE_CHECKING:
    from hds_audit.executors.base import Executor
    from hds_audit.sharding import Shard

__all__ = [
    "CollectStats",
    "GcpCollector",
    "GcpRuntime",
    "GcpSettings",
    "build_collector",
    "custom_role_yaml",
    "gcp_table",
    "merge_settings",
    "parse_gcp_section",
]


class GcpRuntime:
    """What a caller (tests, an embedding program) injects through ``click``'s ``obj``:
    credentials used in this process (never serialised)."""

    def __init__(self, credentials: Any = None) -> None:
        self.credentials = credentials


def build_collector(
    settings: GcpSettings,
    runtime: GcpRuntime | None,
    quiet: bool,
    executor: Executor | None = None,
    shard: Shard | None = None,
) -> GcpCollector:
    """A :class:`GcpCollector` for the settings; credentials and the default scope are
    resolved here, before any scan (none: one-line UsageError, exit 2).

    With an endpoint URL (a loopback or emulated Cloud Asset API) the credentials are
    anonymous; without one, Application Default Credentials."""
    collector = GcpCollector(
        scopes=settings.scopes,
        endpoint_url=settings.endpoint_url,
        credentials=runtime.credentials if runtime is not None else None,
        credential_spec=ANONYMOUS if settings.endpoint_url else ADC,
        max_workers=settings.max_workers,
        executor=executor,
        shard=shard,
        progress=ScopeProgress(stderr_stream(quiet)),
    )
    collector.preflight()
    return collector
