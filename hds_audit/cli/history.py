"""``hds-audit history``: list the recorded runs, compare two of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hds_audit.cli.common import CONFIG_OPTION, _fail
from hds_audit.config import load_config
from hds_audit.errors import HdsAuditError, UsageError


@click.group("history")
def history() -> None:
    """The run history: list the runs, compare two of them."""


_HISTORY_OPTION = click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    help="History database (default: the 'history' setting, else reports/history.sqlite).",
)


def _history_store(history_path: str | None, config_path: str | None) -> Any:
    from hds_audit.history import HistoryStore

    config = load_config(config_path)
    if history_path is None and config.history is False:
        raise UsageError("history is turned off in the configuration ('history: false')")
    default = Path(config.output or "reports") / "history.sqlite"
    configured = config.history if isinstance(config.history, str) else None
    return HistoryStore(history_path or configured or default)


@history.command("list")
@_HISTORY_OPTION
@CONFIG_OPTION
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Runs shown.")
def history_list(history_path: str | None, config_path: str | None, limit: int) -> None:
    """List the recorded runs, oldest first: id, date, exit code, counts, sources."""
    from hds_audit.history.cli_text import runs_table

    try:
        rows = _history_store(history_path, config_path).runs(limit=limit)
    except HdsAuditError as error:
        _fail(error)
        return
    for line in runs_table(rows):
        click.echo(line)


@history.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@_HISTORY_OPTION
@CONFIG_OPTION
def history_diff(run_a: int, run_b: int, history_path: str | None, config_path: str | None) -> None:
    """What changed from RUN_A to RUN_B: new problems, fixed ones, changed statuses."""
    from hds_audit.history.cli_text import diff_lines

    try:
        store = _history_store(history_path, config_path)
        lines = diff_lines(store, run_a, run_b)
    except HdsAuditError as error:
        _fail(error)
        return
    for line in lines:
        click.echo(line)
