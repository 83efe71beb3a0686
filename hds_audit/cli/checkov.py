"""``hds-audit checkov-pack``: where the HDS pack for Checkov lives."""

from __future__ import annotations

import click


@click.command("checkov-pack")
def checkov_pack() -> None:
    """Print the directory to give `checkov --external-checks-dir` (the HDS pack)."""
    from hds_audit.checkov.runner import pack_directory

    click.echo(str(pack_directory()))
