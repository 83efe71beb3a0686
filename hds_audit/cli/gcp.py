"""The ``--gcp*`` options of ``hds-audit scan`` and the collector they build."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hds_audit.cli.common import F, add_options, require_extra

if TYPE_CHECKING:
    from hds_audit.collectors.gcp import GcpSettings
    from hds_audit.executors.base import Executor
    from hds_audit.sharding import Shard


def gcp_options(command: F) -> F:
    """Add ``--gcp``, ``--gcp-scope`` (repeatable), ``--gcp-endpoint-url``, ``--gcp-workers``."""
    return add_options(
        command,
        (
            click.option(
                "--gcp",
                "gcp_flag",
                is_flag=True,
                help="Audit Google Cloud through Cloud Asset Inventory (Application Default "
                "Credentials; default scope: their project).",
            ),
            click.option(
                "--gcp-scope",
                "gcp_scopes",
                multiple=True,
                metavar="organizations/ID|folders/ID|projects/ID",
                help="Audit every project of this scope. Repeatable; implies --gcp.",
            ),
            click.option(
                "--gcp-endpoint-url",
                metavar="URL",
                help="Cloud Asset API endpoint (a loopback or emulated API: anonymous "
                "credentials); implies --gcp.",
            ),
            click.option(
                "--gcp-workers",
                type=click.IntRange(1, 256),
                help="Projects searched in parallel (default: 16).",
            ),
        ),
    )


def gcp_settings(file: GcpSettings | None, args: dict[str, Any]) -> GcpSettings | None:
    """The ``gcp:`` section merged with the options; ``None`` when GCP is not audited."""
    from hds_audit.collectors.gcp.settings import merge_settings

    return merge_settings(
        file,
        bool(args.get("gcp_flag")),
        tuple(args.get("gcp_scopes") or ()),
        args.get("gcp_endpoint_url"),
        args.get("gcp_workers"),
    )


def gcp_collectors(
    file: GcpSettings | None,
    args: dict[str, Any],
    quiet: bool,
    executor: Executor | None,
    shard: Shard | None,
) -> list[Any]:
    """The Google Cloud collector the options and file ask for (none, or one)."""
    settings = gcp_settings(file, args)
    if settings is None:
        return []
    require_extra(
        "google.cloud.asset_v1",
        "Google Cloud: the client library is not installed; pip install 'hds-audit[gcp]'",
    )
    from hds_audit.collectors.gcp import GcpRuntime, build_collector

    runtime = click.get_current_context().find_object(GcpRuntime)
    return [build_collector(settings, runtime, quiet, executor, shard)]
