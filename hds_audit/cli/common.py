"""What the commands share: exit help, the one-line failure, report writing, the summary."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hds_audit._gc import paused_gc
from hds_audit.config import FORMATS, LANGS, SEVERITIES, FileConfig, load_config, parse_formats
from hds_audit.errors import HdsAuditError, UsageError
from hds_audit.model import Status
from hds_audit.reports.grouping import count_distinct
from hds_audit.reports.model import Report
from hds_audit.reports.ranking import problem_lines
from hds_audit.secrets import scrub_message
from hds_audit.terminal import printable, printable_lines

if TYPE_CHECKING:
    from hds_audit.evidence.keys import Signer

EXIT_HELP = (
    "Exit codes: 0 nothing at or above the threshold; 1 findings at or above it; "
    "2 usage or input error; 3 the audit could not complete."
)


# Options scan and merge (and history, for --config) share.
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Settings file (default: ./hds-audit.yaml when present).",
)
FORMAT_OPTION = click.option(
    "--format", "formats", help=f"Report formats, comma-separated ({', '.join(FORMATS)})."
)
OUTPUT_OPTION = click.option(
    "--output", "-o", type=click.Path(file_okay=False), help="Report folder (default: reports)."
)
REPORT_URL_OPTION = click.option(
    "--report-url",
    metavar="URL",
    help="Link to the HTML report in the Markdown summary (e.g. the CI artifact URL).",
)
QUIET_OPTION = click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
SIGN_KEY_OPTION = click.option(
    "--sign-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 private key (PEM; `hds-audit keygen`): sign the reports with a manifest "
    "(manifest.json, manifest.sig) that `hds-audit verify` checks. Implies json.",
)

F = TypeVar("F", bound=Callable[..., Any])

#: Options scan and merge both take, under the same name and type; each command gives its
#: own help (merge's defaults come from the shards).
_SHARED: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "--fail-on": (("--fail-on",), {"type": click.Choice(SEVERITIES, case_sensitive=False)}),
    "--fail-on-unknown": (("--fail-on-unknown/--no-fail-on-unknown",), {"default": None}),
    "--lang": (("--lang",), {"type": click.Choice(LANGS)}),
    "--audit-date": (("--audit-date",), {"metavar": "YYYY-MM-DD"}),
    "--attestations": (
        ("--attestations", "attestations_path"),
        {"type": click.Path(dir_okay=False)},
    ),
    "--registry": (("--registry", "registry_path"), {"type": click.Path(dir_okay=False)}),
}


def shared_option(name: str, help: str) -> Callable[[F], F]:
    """The ``name`` option (``--fail-on``, ``--attestations`` ...) as scan and merge declare it,
    with this command's ``help``."""
    declared, settings = _SHARED[name]
    return click.option(*declared, help=help, **settings)


def open_run(
    config_path: str | None, sign_key: str | None, output: str | None
) -> tuple[FileConfig, Signer | None, Path]:
    """The settings file, the signer (a bad key stops the command here) and the report folder
    of a scan or a merge."""
    from hds_audit.evidence import open_signer

    config = load_config(config_path)
    signer = open_signer(sign_key or config.sign_key)
    return config, signer, Path(output or config.output or "reports")


def add_options(command: F, options: Iterable[Callable[[F], F]]) -> F:
    """``command`` with ``options`` (``click.option`` decorators), listed in the order
    ``--help`` shows them."""
    for option in reversed(tuple(options)):
        command = option(command)
    return command


def require_extra(module: str, message: str) -> None:
    """Import ``module`` (a cloud's SDK) now; when it is not installed, ``message`` (which
    names the extra to install) is one line, exit 2."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(message) from None


def _fail(error: HdsAuditError) -> None:
    click.echo(printable_lines(scrub_message(f"hds-audit: error: {error}")), err=True)
    sys.exit(error.exit_code)


def _formats(formats: str | None, config: Any) -> list[str]:
    """The ``--format`` list, else the configuration's, else JSON and HTML."""
    return parse_formats(formats, "--format") if formats else (config.formats or ["json", "html"])


def _print_errors(report: Report) -> None:
    for problem in report.errors:
        line = scrub_message(f"hds-audit: error: {problem.source}: {problem.message}")
        click.echo(printable(line), err=True)


#: File name of each format in the output folder.
REPORT_FILES = {
    "json": "report.json",
    "html": "report.html",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "csv": "report.csv",
    "markdown": "report.md",
}


def _write_all(
    report: Report,
    chosen: list[str],
    out: Path,
    lang: str,
    html_url: str | None,
    signer: Signer | None = None,
) -> list[Path]:
    """Write every chosen format; the Markdown summary links the HTML report when written.

    With ``signer`` (``--sign-key``): report.json first, then the others, then the signed
    manifest (:mod:`hds_audit.evidence.pack`).
    """
    from hds_audit.evidence.pack import write_reports

    if html_url is None and "html" in chosen:
        html_url = REPORT_FILES["html"]
    with paused_gc():
        return write_reports(
            report, out, chosen, lambda name: _write(name, report, out, lang, html_url), signer
        )


def _write(name: str, report: Report, out: Path, lang: str, html_url: str | None = None) -> Path:
    """Write one report format into ``out``."""
    if name in ("sarif", "junit", "csv", "markdown"):
        from hds_audit.reports.ci_writers import write_ci_format

        return write_ci_format(name, report, out / REPORT_FILES[name], html_url)
    if name == "pdf":
        from hds_audit.reports.pdf_report import write_pdf

        return write_pdf(report, out / "report.pdf", lang)
    if name == "json":
        from hds_audit.reports.json_report import write_json

        return write_json(report, out / "report.json")
    from hds_audit.reports.html_report import write_html

    written: Path = write_html(report, out / "report.html", lang)
    return written


def _compliance_inputs(
    options: Any,
    audit_date: str | None,
    attestations_path: str | None,
    registry_path: str | None,
    formats: list[str],
) -> None:
    """Load and validate the registry, frameworks and attestations (exit 2 before any scan)."""
    from datetime import date

    from hds_audit.attestations import load_attestations
    from hds_audit.engine import load_policies
    from hds_audit.frameworks import builtin_frameworks, check_policies
    from hds_audit.providers.registry import load_registry

    if audit_date is not None:
        try:
            options.audit_date = date.fromisoformat(audit_date)
        except ValueError:
            raise UsageError(f"--audit-date: {audit_date!r} is not a date (YYYY-MM-DD)") from None
    options.registry = load_registry(registry_path)
    frameworks = builtin_frameworks()
    check_policies(frameworks, [p.id for p in load_policies(options.policy_dirs)])
    options.frameworks = frameworks
    options.attestations = load_attestations(attestations_path, frameworks)
    if "pdf" in formats:
        from hds_audit.reports.pdf_report import find_chromium

        find_chromium()


def _print_summary(report: Report, written: list[Path]) -> None:
    counts = report.by_status
    parts = [f"{counts[s.value]} {s.value.replace('_', ' ')}" for s in Status if counts[s.value]]
    distinct = count_distinct(report.resources)
    records = f" ({len(report.resources)} records)" if distinct != len(report.resources) else ""
    click.echo(
        f"Audited {distinct} resources{records} from {len(report.run.sources)} source(s) "
        f"against the {report.run.area.label} area: " + (", ".join(parts) or "no findings") + "."
    )
    # One line per problem on a distinct resource: a plan and a state of it are one line.
    shown, lines = problem_lines(report.blocking, 10)
    for findings in shown:
        finding = findings[0]
        subject = finding.resource.id
        if finding.covers is not None:  # a host scope: how many resources it stands for
            subject += f" (host: {len(finding.covers)} resources)"
        elif len(findings) > 1:
            subject += " [" + ", ".join(f.resource.source.kind.value for f in findings) + "]"
        click.echo(
            f"  {finding.status.value.upper():8} {finding.policy.severity.value:8} "
            + printable(f"{finding.policy.id}  {subject}")
        )
    if lines > 10:
        click.echo(f"  ... and {lines - 10} more (see the reports)")
    for path in written:
        click.echo(printable(f"Report: {path}"))
    verdict = {
        0: "nothing at or above the threshold",
        1: f"{len(report.blocking)} finding(s) at or above '{report.gate.label}'"
        + (" (unknown counts)" if report.gate.fail_on_unknown else ""),
        2: f"{len(report.errors)} input(s) could not be read; the rest was audited",
    }[report.exit_code]
    click.echo(f"Exit {report.exit_code}: {verdict}.")
