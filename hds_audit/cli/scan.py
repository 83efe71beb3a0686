"""``hds-audit scan``: collect, evaluate, write the reports, exit with a meaningful code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import click

from hds_audit._gc import paused_gc
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
from hds_audit.cli.gcp import gcp_collectors, gcp_options
from hds_audit.cli.scaleway import scaleway_collectors, scaleway_options
from hds_audit.cli.sovereign import (
    outscale_collectors,
    outscale_options,
    ovh_collectors,
    ovh_options,
)
from hds_audit.errors import HdsAuditError, UsageError
from hds_audit.geo import AllowedArea
from hds_audit.model import Severity
from hds_audit.reports.model import Gate, Report
from hds_audit.terminal import printable


@click.command("scan", epilog=EXIT_HELP)
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
@CONFIG_OPTION
@click.option(
    "--allowed",
    help="Allowed area: eu (default), eea (HDS v2 EXI 28), fr, or a "
    "comma-separated list of countries and regions (FR,DE,eu-west-3).",
)
@FORMAT_OPTION
@OUTPUT_OPTION
@shared_option("--fail-on", "Lowest severity that fails the run (default: low).")
@shared_option("--fail-on-unknown", "Whether unknown verdicts fail the run (default: they do).")
@shared_option("--lang", "Language of the HTML report (default: fr).")
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
    "--azure-endpoint-url",
    metavar="URL",
    help="Custom Azure Resource Manager endpoint (Azure Stack Hub, a private ARM); implies "
    "--azure. Its sign-in host and token scope: azure.authority_host and "
    "azure.credential_scope in hds-audit.yaml.",
)
@gcp_options
@ovh_options
@outscale_options
@scaleway_options
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
@REPORT_URL_OPTION
@shared_option(
    "--audit-date",
    "Date certificates and attestations are judged on (default: today). "
    "Set it for a reproducible audit.",
)
@shared_option(
    "--attestations",
    "Attestations file answering the manual requirements (see terraform_fixtures/).",
)
@shared_option(
    "--registry",
    "Certified-host registry file (default: the built-in one; see `providers list`).",
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
@click.option(
    "--progress/--no-progress",
    "progress_flag",
    default=None,
    help="Show what a long scan is doing on stderr (default: only when it is a terminal).",
)
@SIGN_KEY_OPTION
@QUIET_OPTION
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
    azure_endpoint_url: str | None = None,
    progress_flag: bool | None = None,
    sign_key: str | None = None,
    **gcp_args: Any,
) -> None:
    """Audit Terraform states and plans; write reports; exit with a meaningful code."""
    from hds_audit.collectors.azure.settings import merge_settings
    from hds_audit.collectors.base import Collector
    from hds_audit.collectors.terraform import TerraformCollector
    from hds_audit.progress import progress_for
    from hds_audit.scan import ScanOptions, run_scan

    progress = progress_for(progress_flag, quiet)
    try:
        config, signer, out = open_run(config_path, sign_key, output)
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
            collectors.append(
                TerraformCollector(tuple(terraform_paths), remote=remote, progress=progress)
            )
        collectors.extend(_checkov(terraform_code, terraform_paths if with_checkov else [], area))
        azure = merge_settings(
            config.azure,
            azure_flag,
            azure_subscriptions,
            azure_cloud,
            azure_workers,
            azure_endpoint_url,
        )
        if azure is not None:
            from hds_audit.collectors.azure import AzureRuntime, build_collector

            runtime = click.get_current_context().find_object(AzureRuntime)
            collectors.append(build_collector(azure, runtime, quiet, executor, shard))
        # The cloud options of cli/sovereign.py, cli/scaleway.py and cli/gcp.py arrive together
        # in gcp_args (the first two pop theirs). What a cloud lacks (credentials) is one line
        # per cloud, all of them before the run stops.
        missing: list[str] = []
        builds: tuple[Callable[[], list[Any]], ...] = (
            lambda: ovh_collectors(config.ovh, gcp_args, quiet, executor),
            lambda: outscale_collectors(config.outscale, gcp_args, quiet, executor),
            lambda: scaleway_collectors(config.scaleway, gcp_args, quiet, executor, shard),
            lambda: gcp_collectors(config.gcp, gcp_args, quiet, executor, shard),
        )
        for build in builds:
            try:
                collectors.extend(build())
            except UsageError as error:
                missing.append(str(error))
        if missing:
            raise UsageError("\n".join(missing))
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
            config_input=config.input,
            progress=progress,
        )
        chosen = _formats(formats, config)
        options.waivers, options.baseline = ci.waivers, ci.baseline
        _compliance_inputs(options, audit_date, attestations_path, registry_path, chosen)
        report = run_scan(options)
        # What follows the run reads it whole and builds more beside it: the cyclic
        # collector, walking every object the run built, would take as long as the work.
        with paused_gc():
            if ci.history is not None:
                from hds_audit.history import drift_for

                report.drift = drift_for(report, ci.history)
            progress.stage("writing the reports")
            written = _write_all(
                report, chosen, out, options.lang, report_url or config.report_url, signer
            )
            run_id = ci.history.record(report) if ci.history is not None else None
    except HdsAuditError as error:
        progress.close()
        _fail(error)
        return
    finally:
        progress.close()
    with paused_gc():
        _print_errors(report)
        for line in report.waivers.warnings() if report.waivers is not None else ():
            click.echo(printable(f"hds-audit: warning: {line}"), err=True)
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
