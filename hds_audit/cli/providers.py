"""``hds-audit providers``: the certified-host registry (list, show, import from the ANS)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hds_audit.cli.common import _fail
from hds_audit.config import LANGS
from hds_audit.errors import HdsAuditError, UsageError


@click.group("providers")
def providers() -> None:
    """The certified-host registry: HDS certificates of cloud hosts, with their sources."""


_REGISTRY_OPTION = click.option(
    "--registry",
    "registry_path",
    type=click.Path(dir_okay=False),
    help="Registry file (default: the built-in one).",
)


@providers.command("list")
@_REGISTRY_OPTION
def providers_list(registry_path: str | None) -> None:
    """One line per host: key, provider keys, certificate status, expiry, SecNumCloud."""
    from hds_audit.providers.registry import load_registry

    try:
        registry = load_registry(registry_path)
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(
        f"Registry {registry.file} (version {registry.version}, recorded {registry.recorded})"
    )
    click.echo(f"{'HOST':16} {'PROVIDERS':16} {'CERTIFICATE':12} {'EXPIRES':10}  SECNUMCLOUD")
    for host in registry.hosts:
        offers = host.fact("secnumcloud")
        snc = ("; ".join(offers.value) or "none found") if offers.known else "unknown"
        click.echo(
            f"{host.key:16} {','.join(host.providers) or '-':16} "
            f"{host.fact('certificate_status').value:12} {host.fact('expires').value:10}  {snc}"
        )


@providers.command("show")
@click.argument("name")
@_REGISTRY_OPTION
@click.option("--lang", type=click.Choice(LANGS), default="en", help="Language of the labels.")
def providers_show(name: str, registry_path: str | None, lang: str) -> None:
    """Every fact about one host (key, provider key or name), with its source and date."""
    from hds_audit.i18n import load_catalogue, text
    from hds_audit.providers.registry import FACTS, load_registry

    try:
        registry = load_registry(registry_path)
        host = registry.host(name)
        if host is None:
            known = ", ".join(h.key for h in registry.hosts)
            raise UsageError(f"no host {name!r} in {registry.file} (known: {known})")
    except HdsAuditError as error:
        _fail(error)
        return
    # Fact labels: the report's (Entité titulaire ...); in English the registry's own names.
    labels = load_catalogue("hds_audit.reports", f"i18n/{lang}.yaml") if lang != "en" else {}

    def label(fact_name: str) -> str:
        if lang == "en":
            return fact_name
        found = labels.get(f"compliance.hosts.fact.{fact_name}")
        return found or text(f"providers.fact.{fact_name}", lang)

    width = max(19, *(len(label(f)) for f in FACTS))
    keys = ", ".join(host.providers) or "-"
    click.echo(f"{host.name} [{host.key}]  {text('providers.keys', lang, keys=keys)}")
    for fact_name in FACTS:
        fact = host.fact(fact_name)
        value = fact.value
        shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        if isinstance(value, tuple) and not value:
            shown = text("providers.none_found", lang)
        elif not fact.known:
            shown = text("providers.unknown", lang)
        elif fact_name == "certificate_status":
            shown = text(f"providers.status.{value}", lang)
        source = registry.source(fact.source)
        when = f", {fact.date}" if fact.date else (f", {source.date}" if source.date else "")
        click.echo(f"  {label(fact_name):{width}} {shown}")
        if fact.note:
            click.echo(f"  {'':{width}} {text('providers.note', lang, note=fact.note)}")
        where = text("providers.source", lang, source=fact.source, when=when, url=source.url)
        click.echo(f"  {'':{width}} {where}")


@providers.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@_REGISTRY_OPTION
@click.option(
    "--column",
    "column_map",
    multiple=True,
    metavar="HEADER=FIELD",
    help="Map a CSV column to a registry field (host, certificate_number, certifying_body, "
    "activities, issued, expires, referential, legal_entity, transfer_map_url). Repeatable.",
)
@click.option("--yes", "-y", is_flag=True, help="Write without asking.")
@click.option("--dry-run", is_flag=True, help="Show the diff, write nothing.")
def providers_import(
    csv_file: str,
    registry_path: str | None,
    column_map: tuple[str, ...],
    yes: bool,
    dry_run: bool,
) -> None:
    """Refresh the registry from the ANS list of certified hosts saved as CSV.

    Shows what changes before writing; a malformed row stops the import naming its line.
    """
    from hds_audit.providers.ans_import import dump_registry, import_csv, leading_comments
    from hds_audit.providers.registry import BUILTIN_FILE, builtin_registry_text, load_registry

    try:
        columns: dict[str, str] = {}
        for item in column_map:
            header, sep, field_name = item.partition("=")
            if not sep:
                raise UsageError(f"--column {item!r}: write HEADER=FIELD")
            columns[header.strip()] = field_name.strip()
        registry = load_registry(registry_path)
        target = (
            Path(registry_path)
            if registry_path
            else Path(__file__).parents[1] / "providers" / "data" / "hosts.yaml"
        )
        result = import_csv(registry, Path(csv_file), columns=columns)
        original = (
            target.read_text(encoding="utf-8") if target.exists() else builtin_registry_text()
        )
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(f"{csv_file}: {result.rows} row(s) read.")
    lines = result.diff_lines()
    if not lines:
        click.echo("No change.")
        return
    click.echo(f"Changes to {registry_path or BUILTIN_FILE}:")
    for line in lines:
        click.echo(line)
    if result.not_in_list:
        click.echo(f"Not in the list (unchanged): {', '.join(result.not_in_list)}")
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    if not yes and not click.confirm("Write these changes?", default=False):
        click.echo("Nothing written.")
        sys.exit(1)
    target.write_text(dump_registry(result.registry, leading_comments(original)), encoding="utf-8")
    click.echo(f"Written: {target}")
