"""``hds-audit merge``: one report from the reports of a sharded run (see :mod:`hds_audit.merge`).

The output options, writers and exit codes are scan's (:mod:`hds_audit.cli.common`).
"""

from __future__ import annotations

import sys

import click

from hds_audit.cli.common import (
    CONFIG_OPTION,
    EXIT_HELP,
    FORMAT_OPTION,
    OUTPUT_OPTION,
    QUIET_OPTION,
    REPORT_URL_OPTION,
    SIGN_KEY_OPTION,
    _compliance_inputs,
    _fail,
    _formats,
    _print_errors,
    _print_summary,
    _write_all,
    open_run,
    shared_option,
)
from hds_audit.errors import HdsAuditError


@click.command("merge", epilog=EXIT_HELP)
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@CONFIG_OPTION
@FORMAT_OPTION
@OUTPUT_OPTION
@shared_option("--fail-on", "Lowest severity that fails the run (default: the shards' threshold).")
@shared_option(
    "--fail-on-unknown", "Whether unknown verdicts fail the run (default: as the shards did)."
)
@shared_option("--lang", "Language of the HTML report (default: the shards').")
@REPORT_URL_OPTION
@shared_option(
    "--audit-date",
    "Date the compliance views judge attestations and certificates on (default: the "
    "shards' audit date; findings keep the shards' verdicts).",
)
@shared_option(
    "--attestations", "Attestations file answering the manual requirements (as given to scan)."
)
@shared_option(
    "--registry", "Certified-host registry file (as given to scan; default: the built-in one)."
)
@SIGN_KEY_OPTION
@QUIET_OPTION
def merge(
    inputs: tuple[str, ...],
    config_path: str | None,
    formats: str | None,
    output: str | None,
    fail_on: str | None,
    fail_on_unknown: bool | None,
    lang: str | None,
    report_url: str | None,
    audit_date: str | None,
    attestations_path: str | None,
    registry_path: str | None,
    quiet: bool,
    sign_key: str | None = None,
) -> None:
    """Merge the reports of a sharded run (scan --shard I/N) into one report.

    INPUTS are report.json files or the folders holding them. Refused (exit 2): reports of
    different policy sets, allowed areas, audit dates or shard counts, a shard given twice
    or missing, a whole run mixed with shards.
    """
    from hds_audit.merge import merge_reports
    from hds_audit.scan import ScanOptions

    try:
        config, signer, out = open_run(config_path, sign_key, output)
        chosen = _formats(formats, config)
        compliance = ScanOptions()  # carries the registry, frameworks, attestations, date
        _compliance_inputs(compliance, audit_date, attestations_path, registry_path, chosen)
        report = merge_reports(
            inputs,
            fail_on=fail_on or config.fail_on,
            fail_on_unknown=fail_on_unknown
            if fail_on_unknown is not None
            else config.fail_on_unknown,
            lang=lang or config.lang,
            audit_date=compliance.audit_date,
            registry=compliance.registry,
            frameworks=compliance.frameworks,
            attestations=compliance.attestations,
            config_input=config.input,
        )
        written = _write_all(
            report, chosen, out, report.run.lang, report_url or config.report_url, signer
        )
    except HdsAuditError as error:
        _fail(error)
        return
    _print_errors(report)
    if not quiet:
        merged = report.run.merged_from or []
        shards = [m.shard.label for m in merged if m.shard is not None]
        click.echo(
            f"Merged {len(merged)} report(s)"
            + (f" (shards {', '.join(shards)})." if shards else ".")
        )
        _print_summary(report, written)
    sys.exit(report.exit_code)
