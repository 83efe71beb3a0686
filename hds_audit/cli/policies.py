"""``hds-audit policies``: list and validate the policy catalogue."""

from __future__ import annotations

import click

from hds_audit.cli.common import _fail
from hds_audit.errors import HdsAuditError


@click.group("policies")
def policies() -> None:
    """Inspect the policy catalogue."""


@policies.command("list")
@click.option(
    "--policies",
    "policy_dirs",
    multiple=True,
    type=click.Path(exists=True),
    help="Extra policy folder or file to include.",
)
def policies_list(policy_dirs: tuple[str, ...]) -> None:
    """Print every policy: id, severity, category, name and framework references."""
    from hds_audit.engine import load_policies

    try:
        loaded = load_policies(policy_dirs)
    except HdsAuditError as error:
        _fail(error)
        return
    for policy in loaded:
        meta = policy.meta
        refs = "; ".join(f"{k}: {', '.join(v)}" for k, v in meta.frameworks.items())
        click.echo(f"{meta.id:12} {meta.severity.value:8} {meta.category:22} {meta.name}  [{refs}]")


@policies.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def policies_validate(paths: tuple[str, ...]) -> None:
    """Validate the policies in these files or folders, without running anything: exit 2 on
    the first error, on a folder holding no policy, or on an id a built-in policy has."""
    from hds_audit.engine.policies import validate_policy_paths

    try:
        loaded = validate_policy_paths(paths)
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(f"{len(loaded)} policies valid.")
