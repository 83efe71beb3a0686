"""Azure collector: every subscription the identity can read, read-only (azure-identity, mgmt).

The SDK is imported only when a collection runs (the ``azure`` extra); the table, settings
and permissions work without it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from hds_audit.collectors.azure.clouds import CLOUDS, AzureCloud, cloud_named, custom_cloud
from hds_audit.collectors.azure.collect import AzureCollector, CollectStats
from hds_audit.collectors.azure.environment import DEFAULT_CREDENTIAL, AzureEnvSpec
from hds_audit.collectors.azure.progress import LiveProgress, LogProgress, NoProgress, Progress
from hds_audit.collectors.azure.settings import AzureSettings, merge_settings, parse_azure_section
from hds_audit.collectors.azure.table import azure_table

if TYPE_CHECKING:
    from hds_audit.executors.base import Executor
    from hds_audit.sharding import Shard

__all__ = [
    "CLOUDS",
    "AzureCloud",
    "AzureCollector",
    "AzureEnvSpec",
    "AzureRuntime",
    "AzureSettings",
    "CollectStats",
    "build_collector",
    "merge_settings",
    "parse_azure_section",
]


class AzureRuntime:
    """What a caller (tests, an embedding program) injects through ``click``'s ``obj``:
    a credential, a cloud (endpoints), TLS verification, a clock, a progress stream.

    ``credential`` is used by tasks run in this process; ``credential_spec`` tells remote
    workers how to get theirs (``default``, or ``import:module:callable``; never a secret).
    """

    def __init__(
        self,
        credential: Any = None,
        cloud: AzureCloud | None = None,
        connection_verify: bool | str = True,
        clock: Any = None,
        retry_total: int = 6,
        credential_spec: str | None = None,
    ) -> None:
        self.credential = credential
        self.cloud = cloud
        self.connection_verify = connection_verify
        self.clock = clock
        self.retry_total = retry_total
        self.credential_spec = credential_spec


def build_collector(
    settings: AzureSettings,
    runtime: AzureRuntime | None,
    quiet: bool,
    executor: Executor | None = None,
    shard: Shard | None = None,
) -> AzureCollector:
    """An :class:`AzureCollector` for the settings; its credential is checked here, before
    any scan, where its tasks will run (no credential: one-line UsageError, exit 2).

    ``executor``: where the tasks run (None: a local thread pool); ``shard``: the slice of
    the subscriptions to audit."""
    runtime = runtime or AzureRuntime()
    cloud = runtime.cloud or cloud_named(settings.cloud)
    if settings.endpoint_url is not None:  # a custom Resource Manager (Azure Stack Hub ...)
        cloud = custom_cloud(
            settings.endpoint_url, cloud, settings.authority_host, settings.credential_scope
        )
    services = 1 + len(azure_table().services)
    progress: Progress
    extra: dict[str, Any] = {"clock": runtime.clock} if runtime.clock is not None else {}
    if quiet:
        progress = NoProgress()
    elif sys.stderr.isatty():
        progress = LiveProgress(sys.stderr, services, **extra)
    else:
        progress = LogProgress(sys.stderr)
    collector = AzureCollector(
        cloud=cloud,
        subscriptions=settings.subscriptions,
        credential=runtime.credential,
        max_workers=settings.max_workers,
        connection_verify=runtime.connection_verify,
        progress=progress,
        retry_total=runtime.retry_total,
        executor=executor,
        shard=shard,
        credential_spec=runtime.credential_spec or DEFAULT_CREDENTIAL,
        **extra,
    )
    collector.preflight()
    return collector
