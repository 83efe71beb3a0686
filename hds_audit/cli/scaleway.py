"""The ``--scaleway*`` options of ``hds-audit scan`` and the collector they build."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hds_audit.cli.common import F, add_options, require_extra

if TYPE_CHECKING:
    from hds_audit.collectors.scaleway import ScalewaySettings
    from hds_audit.executors.base import Executor
    from hds_audit.sharding import Shard


def scaleway_options(command: F) -> F:
    """Add ``--scaleway``, ``--scaleway-project`` (repeatable), ``--scaleway-organization``,
    ``--scaleway-api-url``, ``--scaleway-s3-endpoint-url``, ``--scaleway-workers``."""
    return add_options(
        command,
        (
            click.option(
                "--scaleway",
                "scaleway_flag",
                is_flag=True,
                help="Audit Scaleway (SCW_* variables or the Scaleway config profile): every "
                "project of the default organisation, in every zone and region.",
            ),
            click.option(
                "--scaleway-project",
                "scaleway_projects",
                multiple=True,
                metavar="ID",
                help="Audit this project only. Repeatable; implies --scaleway.",
            ),
            click.option(
                "--scaleway-organization",
                metavar="ID",
                help="Audit every project of this organisation; implies --scaleway.",
            ),
            click.option(
                "--scaleway-api-url",
                metavar="URL",
                help="Scaleway API endpoint (default: SCW_API_URL or https://api.scaleway.com); "
                "implies --scaleway.",
            ),
            click.option(
                "--scaleway-s3-endpoint-url",
                metavar="URL",
                help="Object Storage endpoint for every region (default: "
                "https://s3.REGION.scw.cloud).",
            ),
            click.option(
                "--scaleway-workers",
                type=click.IntRange(1, 256),
                help="Zones and regions read in parallel (default: 16).",
            ),
        ),
    )


def scaleway_settings(
    file: ScalewaySettings | None, args: dict[str, Any]
) -> ScalewaySettings | None:
    """The ``scaleway:`` section merged with the options; ``None`` when not audited."""
    from hds_audit.collectors.scaleway.settings import merge_settings

    return merge_settings(
        file,
        bool(args.get("scaleway_flag")),
        tuple(args.get("scaleway_projects") or ()),
        args.get("scaleway_organization"),
        (args.get("scaleway_api_url"), args.get("scaleway_s3_endpoint_url")),
        args.get("scaleway_workers"),
    )


def scaleway_collectors(
    file: ScalewaySettings | None,
    args: dict[str, Any],
    quiet: bool,
    executor: Executor | None,
    shard: Shard | None,
) -> list[Any]:
    """The Scaleway collector the options and file ask for (none, or one)."""
    settings = scaleway_settings(file, args)
    if settings is None:
        return []
    require_extra(
        "scaleway_core", "Scaleway: the SDK is not installed; pip install 'hds-audit[scaleway]'"
    )
    from hds_audit.collectors.scaleway import build_collector

    return [build_collector(settings, quiet, executor, shard)]
