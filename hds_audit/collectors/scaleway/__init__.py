"""Scaleway collector: every project of an organisation (or the projects given), in every
zone and region, through Scaleway's own SDK (``scaleway``), and Object Storage through its
S3-compatible endpoint (boto3); read-only.

The SDK is imported only when a collection runs (the ``scaleway`` extra); the table, settings
and permissions work without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hds_audit.collectors.runs import CollectStats, ScopeProgress, stderr_stream
from hds_audit.collectors.scaleway.collect import ScalewayCollector
from hds_audit.collectors.scaleway.settings import (
    ScalewaySettings,
    merge_settings,
    parse_scaleway_section,
)
from hds_audit.collectors.scaleway.table import iam_policy_json, scaleway_table

if TYPE_CHECKING:
    from hds_audit.executors.base import Executor
    from hds_audit.sharding import Shard

__all__ = [
    "CollectStats",
    "ScalewayCollector",
    "ScalewaySettings",
    "build_collector",
    "iam_policy_json",
    "merge_settings",
    "parse_scaleway_section",
    "scaleway_table",
]


def build_collector(
    settings: ScalewaySettings,
    quiet: bool,
    executor: Executor | None = None,
    shard: Shard | None = None,
) -> ScalewayCollector:
    """A :class:`ScalewayCollector` for the settings; credentials and projects are resolved
    here, before any scan (none: one-line UsageError, exit 2)."""
    collector = ScalewayCollector(
        projects=settings.projects,
        organization=settings.organization,
        regions=settings.regions,
        api_url=settings.api_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        profile=settings.profile,
        max_workers=settings.max_workers,
        executor=executor,
        shard=shard,
        progress=ScopeProgress(stderr_stream(quiet)),
    )
    collector.preflight()
    return collector
