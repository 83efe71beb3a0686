"""The ``--ovh*`` and ``--outscale*`` options of ``hds-audit scan`` and the collectors they
build."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hds_audit.cli.common import F, add_options, require_extra

if TYPE_CHECKING:
    from hds_audit.collectors.api_settings import ApiSettings
    from hds_audit.executors.base import Executor


def ovh_options(command: F) -> F:
    """Add ``--ovh``, ``--ovh-project`` (repeatable) and ``--ovh-endpoint-url``."""
    return add_options(
        command,
        (
            click.option(
                "--ovh",
                "ovh_flag",
                is_flag=True,
                help="Audit OVHcloud Public Cloud projects through the OVH API (credentials "
                "from OVH_* or ovh.conf; default: every project they can read).",
            ),
            click.option(
                "--ovh-project",
                "ovh_projects",
                multiple=True,
                metavar="ID",
                help="Audit this Public Cloud project only. Repeatable; implies --ovh.",
            ),
            click.option(
                "--ovh-endpoint-url",
                metavar="URL",
                help="OVH API root (a loopback or private API); implies --ovh.",
            ),
        ),
    )


def _settings(name: str, file: ApiSettings | None, args: dict[str, Any]) -> ApiSettings | None:
    """The ``name:`` section merged with the options (popped from ``args``)."""
    from hds_audit.collectors.api_settings import TARGETS, merge_api_settings

    targets = tuple(args.pop(f"{name}_{TARGETS[name]}", None) or ())
    endpoint = args.pop(f"{name}_endpoint_url", None)
    return merge_api_settings(file, bool(args.pop(f"{name}_flag", False)), targets, endpoint)


def ovh_collectors(
    file: ApiSettings | None, args: dict[str, Any], quiet: bool, executor: Executor | None
) -> list[Any]:
    """The OVHcloud collector the options and file ask for (none, or one)."""
    settings = _settings("ovh", file, args)
    if settings is None:
        return []
    require_extra("ovh", "OVHcloud: the ovh SDK is not installed; pip install 'hds-audit[ovh]'")
    from hds_audit.collectors.ovh import OvhCollector
    from hds_audit.collectors.runs import stderr_stream

    collector = OvhCollector(
        projects=settings.targets,
        endpoint_url=settings.endpoint_url,
        executor=executor,
        progress=stderr_stream(quiet),
    )
    collector.preflight()
    return [collector]


def outscale_options(command: F) -> F:
    """Add ``--outscale``, ``--outscale-region`` (repeatable) and ``--outscale-endpoint-url``."""
    return add_options(
        command,
        (
            click.option(
                "--outscale",
                "outscale_flag",
                is_flag=True,
                help="Audit a 3DS Outscale account through the OSC API (keys from OSC_* or "
                "~/.osc/config.json; default region: the profile's).",
            ),
            click.option(
                "--outscale-region",
                "outscale_regions",
                multiple=True,
                metavar="REGION",
                help="Audit the account of this region (eu-west-2, cloudgouv-eu-west-1 ...). "
                "Repeatable; implies --outscale.",
            ),
            click.option(
                "--outscale-endpoint-url",
                metavar="URL",
                help="OSC API root, {region} replaced (a loopback or private API); implies "
                "--outscale.",
            ),
            click.option(
                "--outscale-oos-endpoint-url",
                metavar="URL",
                help="OOS (S3-compatible) endpoint, {region} replaced; default: the public one "
                "unless --outscale-endpoint-url is given.",
            ),
        ),
    )


def outscale_collectors(
    file: ApiSettings | None, args: dict[str, Any], quiet: bool, executor: Executor | None
) -> list[Any]:
    """The Outscale collector the options and file ask for (none, or one)."""
    oos = args.pop("outscale_oos_endpoint_url", None)
    settings = _settings("outscale", file, args)
    if settings is None:
        return []
    require_extra(
        "osc_sdk_python",
        "Outscale: osc-sdk-python is not installed; pip install 'hds-audit[outscale]'",
    )
    from hds_audit.collectors.outscale.collect import OutscaleCollector
    from hds_audit.collectors.runs import stderr_stream

    collector = OutscaleCollector(
        regions=settings.targets,
        endpoint_url=settings.endpoint_url,
        oos_endpoint_url=oos,
        executor=executor,
        progress=stderr_stream(quiet),
    )
    collector.preflight()
    return [collector]
