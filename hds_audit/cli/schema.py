"""``hds-audit schema``: the JSON Schema of report.json."""

from __future__ import annotations

import click


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of report.json."""
    from hds_audit.reports.json_report import schema_text

    click.echo(schema_text(), nl=False)
