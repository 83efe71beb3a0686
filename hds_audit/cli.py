"""The ``hds-audit`` command. Thin: parse, call the pipeline, write reports, exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import click

from hds_audit import __version__
from hds_audit._gc import paused_gc
from hds_audit.config import FORMATS, LANGS, SEVERITIES, load_config, parse_formats
from hds_audit.errors import HdsAuditError, UsageError
from hds_audit.geo import AllowedArea
from hds_audit.model import Severity, Status
from hds_audit.reports.model import Gate, Report

EXIT_HELP = (
    "Exit codes: 0 nothing at or above the threshold; 1 findings at or above it; "
    "2 usage or input error; 3 the audit could not complete."
)


def _fail(error: HdsAuditError) -> None:
    click.echo(f"hds-audit: error: {error}", err=True)
    sys.exit(error.exit_code)


#: File name of each format in the output folder.
REPORT_FILES = {
    "json": "report.json",
    "html": "report.html",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "csv": "report.csv",
    "markdown": "report.md",
}


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


class _Group(click.Group):
    """Turns an unexpected exception into one line and exit code 3, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except HdsAuditError as error:
            _fail(error)
        except Exception as error:  # the last line of defence: report, never crash
            if os.environ.get("HDS_AUDIT_DEBUG"):
                raise
            click.echo(
                f"hds-audit: internal error: {type(error).__name__}: {error} "
                "(set HDS_AUDIT_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(3)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="hds-audit")
def main() -> None:
    """Prove that infrastructure holding French health data stays HDS-compliant."""


@main.command(epilog=EXIT_HELP)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--terraform",
    "terraform",
    multiple=True,
    type=click.Path(),
    help="State file, plan JSON (terraform show -json) or working directory. Repeatable; "
    "extra PATHS after the options are read the same way.",
)
@click.option(
    "--terraform-code",
    "terraform_code",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Directory of Terraform code (HCL): audited by Checkov with the HDS pack and its "
    "encryption, key and logging checks, offline (pip install hds-audit[checkov]). Repeatable.",
)
@click.option(
    "--with-checkov",
    is_flag=True,
    default=False,
    help="Also run Checkov's encryption, key and logging checks on the plan JSON files given.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Settings file (default: ./hds-audit.yaml when present).",
)
@click.option(
    "--allowed",
    help="Allowed area: eu (default), eea (HDS v2 EXI 28), fr, or a "
    "comma-separated list of countries and regions (FR,DE,eu-west-3).",
)
@click.option(
    "--format", "formats", help=f"Report formats, comma-separated ({', '.join(FORMATS)})."
)
@click.option(
    "--output", "-o", type=click.Path(file_okay=False), help="Report folder (default: reports)."
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Lowest severity that fails the run (default: low).",
)
@click.option(
    "--fail-on-unknown/--no-fail-on-unknown",
    default=None,
    help="Whether unknown verdicts fail the run (default: they do).",
)
@click.option("--lang", type=click.Choice(LANGS), help="Language of the HTML report (default: fr).")
@click.option(
    "--policies",
    "policy_dirs",
    multiple=True,
    type=click.Path(exists=True),
    help="Extra policy folder or file, added to the built-in policies. Repeatable.",
)
@click.option(
    "--azure",
    "azure_flag",
    is_flag=True,
    help="Audit every Azure subscription the identity can read (DefaultAzureCredential).",
)
@click.option(
    "--azure-subscription",
    "azure_subscriptions",
    multiple=True,
    metavar="ID",
    help="Audit only this Azure subscription. Repeatable; implies --azure.",
)
@click.option(
    "--azure-cloud",
    type=click.Choice(["public", "china", "usgov"]),
    help="Azure cloud (default: public); implies --azure.",
)
@click.option(
    "--azure-workers",
    type=click.IntRange(1, 256),
    help="Parallel Azure calls (default: 16).",
)
@click.option(
    "--aws/--no-aws",
    "aws_flag",
    default=None,
    help="Audit the AWS account of the current credentials in every enabled region.",
)
@click.option("--aws-profile", metavar="NAME", help="AWS profile to use; implies --aws.")
@click.option(
    "--aws-regions",
    metavar="all|REGION,...",
    help="Regions to audit (default: all enabled regions); implies --aws.",
)
@click.option(
    "--aws-role-arn",
    "aws_role_arns",
    multiple=True,
    metavar="ARN",
    help="Role to assume, one per account. Repeatable; implies --aws.",
)
@click.option(
    "--aws-org-role",
    metavar="NAME",
    help="List the organisation's accounts and assume role NAME in each; implies --aws.",
)
@click.option(
    "--aws-endpoint-url",
    metavar="URL",
    help="AWS-compatible endpoint for every call (e.g. a local emulator).",
)
@click.option(
    "--aws-workers",
    type=click.IntRange(1, 256),
    help="Parallel AWS tasks (account x region x service; default: 16).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="A previous report.json: findings are marked new / unchanged, fixed ones listed, "
    "and only new findings fail the run.",
)
@click.option(
    "--waivers",
    "waivers_path",
    type=click.Path(dir_okay=False),
    help="Waivers file (accepted risks with a reason, an approver and an expiry date).",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    help="History database (default: OUTPUT/history.sqlite, i.e. reports/history.sqlite).",
)
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
@click.option(
    "--report-url",
    metavar="URL",
    help="Link to the HTML report in the Markdown summary (e.g. the CI artifact URL).",
)
@click.option(
    "--audit-date",
    metavar="YYYY-MM-DD",
    help="Date certificates and attestations are judged on (default: today). "
    "Set it for a reproducible audit.",
)
@click.option(
    "--attestations",
    "attestations_path",
    type=click.Path(dir_okay=False),
    help="Attestations file answering the manual requirements (see terraform_fixtures/).",
)
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(dir_okay=False),
    help="Certified-host registry file (default: the built-in one; see `providers list`).",
)
@click.option(
    "--executor",
    "executor_kind",
    type=click.Choice(["local", "dask"]),
    help="Where collection tasks run: local (a thread pool, the default) or dask "
    "(--dask-scheduler, or a LocalCluster on this machine).",
)
@click.option(
    "--dask-scheduler",
    metavar="ADDRESS",
    help="Dask scheduler to run the collection on (tcp://scheduler:8786); implies --executor dask.",
)
@click.option(
    "--shard",
    "shard_text",
    metavar="I/N",
    help="Audit only slice I of N of the accounts, subscriptions and files (stable); "
    "combine the slices' reports with `hds-audit merge`.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
def scan(
    paths: tuple[str, ...],
    terraform: tuple[str, ...],
    config_path: str | None,
    allowed: str | None,
    formats: str | None,
    output: str | None,
    fail_on: str | None,
    fail_on_unknown: bool | None,
    lang: str | None,
    policy_dirs: tuple[str, ...],
    quiet: bool,
    azure_flag: bool = False,
    azure_subscriptions: tuple[str, ...] = (),
    azure_cloud: str | None = None,
    azure_workers: int | None = None,
    aws_flag: bool | None = None,
    aws_profile: str | None = None,
    aws_regions: str | None = None,
    aws_role_arns: tuple[str, ...] = (),
    aws_org_role: str | None = None,
    aws_endpoint_url: str | None = None,
    aws_workers: int | None = None,
    baseline: str | None = None,
    waivers_path: str | None = None,
    history_path: str | None = None,
    no_history: bool = False,
    report_url: str | None = None,
    audit_date: str | None = None,
    attestations_path: str | None = None,
    registry_path: str | None = None,
    terraform_code: tuple[str, ...] = (),
    with_checkov: bool = False,
    executor_kind: str | None = None,
    dask_scheduler: str | None = None,
    shard_text: str | None = None,
) -> None:
    """Audit Terraform states and plans; write reports; exit with a meaningful code."""
    from hds_audit.collectors.azure.settings import merge_settings
    from hds_audit.collectors.base import Collector
    from hds_audit.collectors.terraform import TerraformCollector
    from hds_audit.scan import ScanOptions, run_scan

    try:
        config = load_config(config_path)
        out = Path(output or config.output or "reports")
        # waivers, baseline and history are checked first: a bad file stops the run here
        ci = _ci_inputs(config, baseline, waivers_path, history_path, no_history, out)
        threshold = (fail_on or config.fail_on or "low").lower()
        try:
            area = AllowedArea.parse(allowed or config.allowed or "eu")
        except ValueError as error:
            raise UsageError(f"--allowed: {error}") from None
        collectors: list[Collector] = []
        shard, executor = _distribution(config, executor_kind, dask_scheduler, shard_text)
        terraform_paths = [*terraform, *paths] or config.terraform
        aws_collector, remote = _aws(
            (aws_flag, aws_profile, aws_regions, aws_role_arns, aws_org_role),
            (aws_endpoint_url, aws_workers),
            config,
            terraform_paths,
            quiet,
            (executor, shard),
        )
        if aws_collector is not None:
            collectors.append(aws_collector)
        if shard is not None:  # files are sliced like accounts: by a stable hash of the path
            terraform_paths = [p for p in terraform_paths if shard.owns(f"terraform:{p}")]
            terraform_code = tuple(d for d in terraform_code if shard.owns(f"terraform-code:{d}"))
        if terraform_paths:
            collectors.append(TerraformCollector(tuple(terraform_paths), remote=remote))
        collectors.extend(_checkov(terraform_code, terraform_paths if with_checkov else [], area))
        azure = merge_settings(
            config.azure, azure_flag, azure_subscriptions, azure_cloud, azure_workers
        )
        if azure is not None:
            from hds_audit.collectors.azure import AzureRuntime, build_collector

            runtime = click.get_current_context().find_object(AzureRuntime)
            collectors.append(build_collector(azure, runtime, quiet, executor, shard))
        options = ScanOptions(
            collectors=collectors,
            shard=shard,
            area=area,
            policy_dirs=[*config.policies, *policy_dirs],
            gate=Gate(
                fail_on=None if threshold == "none" else Severity(threshold),
                fail_on_unknown=fail_on_unknown
                if fail_on_unknown is not None
                else (config.fail_on_unknown if config.fail_on_unknown is not None else True),
            ),
            lang=lang or config.lang or "fr",
            config_file=config.path,
        )
        chosen = (
            parse_formats(formats, "--format") if formats else (config.formats or ["json", "html"])
        )
        options.waivers, options.baseline = ci.waivers, ci.baseline
        _compliance_inputs(options, audit_date, attestations_path, registry_path, chosen)
        report = run_scan(options)
        if ci.history is not None:
            from hds_audit.history import drift_for

            report.drift = drift_for(report, ci.history)
        html_url = report_url or config.report_url
        if html_url is None and "html" in chosen:
            html_url = REPORT_FILES["html"]
        with paused_gc():
            written = [_write(name, report, out, options.lang, html_url) for name in chosen]
        run_id = ci.history.record(report) if ci.history is not None else None
    except HdsAuditError as error:
        _fail(error)
        return
    for problem in report.errors:
        click.echo(f"hds-audit: error: {problem.source}: {problem.message}", err=True)
    for line in report.waivers.warnings() if report.waivers is not None else ():
        click.echo(f"hds-audit: warning: {line}", err=True)
    if not quiet:
        _print_ci_summary(report, run_id, ci.history)
        _print_summary(report, written)
    sys.exit(report.exit_code)


def _checkov(code_dirs: Sequence[str], plans: Sequence[str], area: AllowedArea) -> list[Any]:
    """The Checkov collectors for ``--terraform-code`` and ``--with-checkov`` (plan files)."""
    if not code_dirs and not plans:
        return []
    import importlib.util

    if importlib.util.find_spec("checkov") is None:  # pragma: no cover - depends on extras
        raise UsageError(
            "--terraform-code / --with-checkov need Checkov: pip install 'hds-audit[checkov]'"
        )
    from hds_audit.checkov.runner import CheckovCollector

    collectors: list[Any] = []
    if code_dirs:
        collectors.append(CheckovCollector(tuple(code_dirs), plan=False, area=area))
    plan_files = [p for p in plans if Path(p).is_file() and p.endswith(".json")]
    if plans and not plan_files:
        raise UsageError("--with-checkov: give the plan JSON files (terraform show -json) to scan")
    if plan_files:
        collectors.append(CheckovCollector(tuple(plan_files), plan=True, area=area))
    return collectors


@main.command("checkov-pack")
def checkov_pack() -> None:
    """Print the directory to give `checkov --external-checks-dir` (the HDS pack)."""
    from hds_audit.checkov.runner import pack_directory

    click.echo(str(pack_directory()))


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


def _distribution(
    config: Any, kind: str | None, scheduler: str | None, shard_text: str | None
) -> tuple[Any, Any]:
    """This run's shard and executor (a Dask cluster is reached now: exit 2 if it cannot be).

    The executor is closed with the command; ``None`` means each collector's own thread pool.
    """
    from hds_audit.executors.settings import merge_executor, open_executor
    from hds_audit.sharding import Shard

    shard = Shard.parse(shard_text) if shard_text else config.shard
    executor = open_executor(merge_executor(config.executor, kind, scheduler))
    if executor is not None:
        click.get_current_context().call_on_close(executor.close)
    return shard, executor


def _aws(
    scope: tuple[bool | None, str | None, str | None, tuple[str, ...], str | None],
    tuning: tuple[str | None, int | None],
    config: Any,
    terraform_paths: list[str],
    quiet: bool,
    distribution: tuple[Any, Any] = (None, None),
) -> tuple[Any, Any]:
    """The AWS collector (credentials checked: exit 2 before any scan) and s3:// reader."""
    flag, profile, regions, role_arns, org_role = scope
    endpoint_url, workers = tuning
    wanted = flag or profile or regions or role_arns or org_role or endpoint_url or workers
    remote = any(p.startswith("s3://") for p in terraform_paths)
    if flag is False or not (wanted or config.aws is not None or remote):
        return None, None
    try:
        from hds_audit.collectors.aws.options import AwsOptions, AwsRuntime, plan_aws
    except ImportError as error:
        raise UsageError(
            f"AWS support is not installed ({error}): pip install 'hds-audit[aws]'"
        ) from None
    options = AwsOptions(flag, profile, regions, role_arns, org_role, endpoint_url, workers)
    runtime = click.get_current_context().find_object(AwsRuntime)
    executor, shard = distribution
    return plan_aws(options, config.aws, terraform_paths, quiet, runtime, executor, shard)


def _print_summary(report: Report, written: list[Path]) -> None:
    counts = report.by_status
    parts = [f"{counts[s.value]} {s.value.replace('_', ' ')}" for s in Status if counts[s.value]]
    click.echo(
        f"Audited {len(report.resources)} resources from {len(report.run.sources)} source(s) "
        f"against the {report.run.area.label} area: " + (", ".join(parts) or "no findings") + "."
    )
    for finding in report.blocking[:10]:
        click.echo(
            f"  {finding.status.value.upper():8} {finding.policy.severity.value:8} "
            f"{finding.policy.id}  {finding.resource.id}"
        )
    if len(report.blocking) > 10:
        click.echo(f"  ... and {len(report.blocking) - 10} more (see the reports)")
    for path in written:
        click.echo(f"Report: {path}")
    verdict = {
        0: "nothing at or above the threshold",
        1: f"{len(report.blocking)} finding(s) at or above '{report.gate.label}'"
        + (" (unknown counts)" if report.gate.fail_on_unknown else ""),
        2: f"{len(report.errors)} input(s) could not be read; the rest was audited",
    }[report.exit_code]
    click.echo(f"Exit {report.exit_code}: {verdict}.")


@main.group()
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
    """Validate policy files or folders without running anything (exit 2 on the first error)."""
    from hds_audit.engine import load_policies

    try:
        loaded = load_policies(paths)
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(f"{len(loaded)} policies valid.")


@main.group()
def permissions() -> None:
    """Print the read-only permissions hds-audit needs."""


@permissions.command("azure")
@click.option(
    "--azure-subscription",
    "subscriptions",
    multiple=True,
    metavar="ID",
    help="Subscription the role is assignable to. Repeatable (default: a placeholder).",
)
def permissions_azure(subscriptions: tuple[str, ...]) -> None:
    """Print an Azure custom role definition (JSON) with exactly the read actions needed."""
    from hds_audit.collectors.azure.permissions import role_definition_json

    click.echo(role_definition_json(subscriptions), nl=False)


@permissions.command("aws")
def permissions_aws() -> None:
    """Print the least-privilege read-only IAM policy (JSON) that `scan --aws` needs."""
    from hds_audit.collectors.aws.table import iam_policy_json

    click.echo(iam_policy_json())


class _CiInputs(NamedTuple):
    waivers: Any
    baseline: Any
    history: Any


def _ci_inputs(
    config: Any,
    baseline: str | None,
    waivers_path: str | None,
    history_path: str | None,
    no_history: bool,
    out: Path,
) -> _CiInputs:
    """Waivers, baseline and history, each validated before any scan (exit 2 on a problem)."""
    from hds_audit.baseline import load_baseline
    from hds_audit.history import HistoryStore
    from hds_audit.waivers import load_waivers

    waivers_file = waivers_path or config.waivers
    baseline_file = baseline or config.baseline
    waivers = load_waivers(waivers_file) if waivers_file else None
    earlier = load_baseline(baseline_file) if baseline_file else None
    history = None
    if not no_history and config.history is not False:
        configured = config.history if isinstance(config.history, str) else None
        history = HistoryStore(history_path or configured or out / "history.sqlite")
        history.check()
    return _CiInputs(waivers, earlier, history)


def _print_ci_summary(report: Report, run_id: int | None, history: Any) -> None:
    """Baseline, waivers and history lines; expired and stale waivers go to stderr."""
    if report.waivers is not None:
        click.echo(
            f"Waivers: {report.waivers.waived} finding(s) waived; "
            f"{len(report.waivers.expired)} expired, {len(report.waivers.stale)} stale."
        )
    if report.baseline is not None:
        counts = report.baseline_counts
        click.echo(
            f"Baseline {report.baseline.label}: {counts['new']} new, {counts['unchanged']} "
            f"unchanged, {len(report.fixed)} fixed; only new findings gate."
        )
    drift = report.drift
    if drift is not None and drift.previous is not None:
        click.echo(
            f"Since {drift.previous}: {len(drift.new)} new problem(s), {len(drift.fixed)} fixed."
        )
    if run_id is not None:
        click.echo(f"History: run {run_id} recorded in {history.path}")


@main.group()
def history() -> None:
    """The run history: list the runs, compare two of them."""


_HISTORY_OPTION = click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    help="History database (default: the 'history' setting, else reports/history.sqlite).",
)
_CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Settings file (default: ./hds-audit.yaml when present).",
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
@_CONFIG_OPTION
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
@_CONFIG_OPTION
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


@main.command()
def schema() -> None:
    """Print the JSON Schema of report.json."""
    from hds_audit.reports.json_report import schema_text

    click.echo(schema_text(), nl=False)


# --------------------------------------------------------------------------- providers


@main.group()
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
def providers_show(name: str, registry_path: str | None) -> None:
    """Every fact about one host (key, provider key or name), with its source and date."""
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
    click.echo(f"{host.name} [{host.key}]  provider keys: {', '.join(host.providers) or '-'}")
    for fact_name in FACTS:
        fact = host.fact(fact_name)
        value = fact.value
        shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        if isinstance(value, tuple) and not value:
            shown = "none found"
        source = registry.source(fact.source)
        when = f", {fact.date}" if fact.date else (f", {source.date}" if source.date else "")
        click.echo(f"  {fact_name:19} {shown}")
        if fact.note:
            click.echo(f"  {'':19} note: {fact.note}")
        click.echo(f"  {'':19} source: {fact.source}{when} — {source.url}")


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
            else Path(__file__).parent / "providers" / "data" / "hosts.yaml"
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


# --------------------------------------------------------------------------- frameworks


@main.group()
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
    for framework in loaded:
        modes = {
            m: sum(r.mode == m for r in framework.requirements)
            for m in ("automated", "partial", "manual")
        }
        click.echo(
            f"{framework.id:8} {framework.text('name', 'en')}  "
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


# `hds-audit merge` (sharded runs) lives in its own module; importing it registers it on main.
import hds_audit.cli_merge  # noqa: E402, F401
