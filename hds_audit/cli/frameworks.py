"""``hds-audit frameworks``: HDS v2, GDPR, FEIMA, PGSSI-S requirements and their policies."""

from __future__ import annotations

import click

from hds_audit.cli.common import _fail
from hds_audit.config import LANGS
from hds_audit.errors import HdsAuditError, UsageError


@click.group("frameworks")
def frameworks() -> None:
    """Framework mappings: HDS v2, GDPR, FEIMA charter, PGSSI-S requirements and policies."""


@frameworks.command("list")
def frameworks_list() -> None:
    """Every framework and its requirements: id, mode (automated / partial / manual), title."""
    from hds_audit.frameworks import builtin_frameworks

    try:
        loaded = builtin_frameworks()
    except HdsAuditError as error:
        _fail(error)
        return
    width = max((len(f.id) for f in loaded), default=8)
    for framework in loaded:
        modes = {
            m: sum(r.mode == m for r in framework.requirements)
            for m in ("automated", "partial", "manual")
        }
        click.echo(
            f"{framework.id:{width}} {framework.text('name', 'en')}  "
            f"({len(framework.requirements)} requirements: "
            + ", ".join(f"{n} {m}" for m, n in modes.items())
            + ")"
        )


@frameworks.command("show")
@click.argument("framework_id")
@click.option("--lang", type=click.Choice(LANGS), default="en", help="Language of the titles.")
def frameworks_show(framework_id: str, lang: str) -> None:
    """One framework: each requirement, its mode, policies and what must be attested."""
    from hds_audit.frameworks import builtin_frameworks
    from hds_audit.i18n import text

    try:
        loaded = builtin_frameworks()
        chosen = next((f for f in loaded if f.id == framework_id), None)
        if chosen is None:
            raise UsageError(
                f"no framework {framework_id!r} (known: {', '.join(f.id for f in loaded)})"
            )
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(f"{chosen.text('name', lang)} [{chosen.id}]")
    if chosen.source:
        click.echo(chosen.text("source", lang))
    for requirement in chosen.requirements:
        mode = text(f"frameworks.mode.{requirement.mode}", lang)
        click.echo(f"\n{requirement.ref}  ({mode})")
        click.echo(f"  {requirement.text('title', lang)}")
        if requirement.policies:
            policies = ", ".join(requirement.policies)
            click.echo(f"  {text('frameworks.policies', lang, policies=policies)}")
        if requirement.attestation:
            attestation = text(
                "frameworks.attestation",
                lang,
                days=requirement.validity_days,
                text=requirement.text("attestation", lang),
            )
            click.echo(f"  {attestation}")
