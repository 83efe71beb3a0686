"""From command-line options and the ``aws:`` section of ``hds-audit.yaml`` to a collector.

The command line wins over the file, option by option.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

from hds_audit.collectors.aws.collector import AwsCollector
from hds_audit.collectors.aws.progress import LiveProgress, LogProgress, NoProgress, Progress
from hds_audit.collectors.aws.session import (
    DEFAULT_MAX_WORKERS,
    AwsSettings,
    CallRecord,
    Connector,
    SessionFactory,
    classify,
    credentials_problem,
    default_session_factory,
    is_credentials_error,
)
from hds_audit.collectors.aws.table import service_table
from hds_audit.config import AwsConfig
from hds_audit.errors import InputError, UsageError
from hds_audit.executors import Executor
from hds_audit.sharding import Shard

_ROLE_ARN = r"arn:aws[\w-]*:iam::\d{12}:role/"


@dataclass(frozen=True, slots=True)
class AwsOptions:
    """The ``--aws*`` options as given (``None``: not given)."""

    enabled: bool | None = None
    profile: str | None = None
    regions: str | None = None
    role_arns: tuple[str, ...] = ()
    org_role: str | None = None
    endpoint_url: str | None = None
    max_workers: int | None = None


def settings_from(options: AwsOptions, section: AwsConfig | None) -> AwsSettings | None:
    """The settings of the AWS scan, or ``None`` when AWS is not to be audited."""
    section = section or AwsConfig(enabled=False)
    given = bool(options.profile or options.regions or options.role_arns or options.org_role)
    enabled = options.enabled if options.enabled is not None else (section.enabled or given)
    if not enabled:
        return None
    role_arns = tuple(options.role_arns or section.role_arns)
    for arn in role_arns:
        if not re.match(_ROLE_ARN, arn):
            raise UsageError(f"--aws-role-arn: {arn!r} is not an IAM role ARN")
    endpoint = options.endpoint_url or section.endpoint_url
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise UsageError(f"--aws-endpoint-url: {endpoint!r} is not an http(s) URL")
    regions = options.regions if options.regions is not None else section.regions
    return AwsSettings(
        profile=options.profile or section.profile,
        regions=AwsSettings.parse_regions(regions),
        role_arns=role_arns,
        org_role=options.org_role or section.org_role,
        endpoint_url=endpoint,
        max_workers=options.max_workers or section.max_workers or DEFAULT_MAX_WORKERS,
    )


def progress_for(quiet: bool, stream: TextIO | None = None) -> Progress:
    """Live display on a terminal, log lines elsewhere, nothing with ``--quiet``."""
    if quiet:
        return NoProgress()
    stream = stream or sys.stderr
    return LiveProgress(stream) if stream.isatty() else LogProgress(stream)


def build_collector(
    settings: AwsSettings,
    quiet: bool,
    session_factory: SessionFactory = default_session_factory,
    observer: Callable[[CallRecord], None] | None = None,
    executor: Executor | None = None,
    shard: Shard | None = None,
) -> AwsCollector:
    """The collector, its credentials already checked (exit 2 before any scan otherwise)."""
    collector = AwsCollector(
        settings,
        session_factory,
        progress=progress_for(quiet),
        observer=observer,
        executor=executor,
        shard=shard,
    )
    collector.prepare()
    return collector


def s3_reader(
    settings: AwsSettings, session_factory: SessionFactory = default_session_factory
) -> Callable[[str], bytes]:
    """``s3://bucket/key`` -> bytes, through the same guarded session (for Terraform states)."""
    connector = Connector(settings, service_table())

    def read(url: str) -> bytes:
        parts = urlsplit(url)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        if parts.scheme != "s3" or not bucket or not key:
            raise InputError(url, "expected s3://bucket/key")
        session = session_factory(settings.profile)
        try:
            s3 = connector.new_client(session, connector.home_region(session), "s3")
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as error:
            if is_credentials_error(error):
                raise credentials_problem(error) from None
            raise InputError(url, f"cannot be read from S3: {classify(error)[1]}") from None
        return body

    return read


@dataclass(frozen=True, slots=True)
class AwsRuntime:
    """What tests (and embedders) inject through the click context object."""

    session_factory: SessionFactory = default_session_factory
    observer: Callable[[CallRecord], None] | None = None
    max_attempts: int | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None


def plan_aws(
    options: AwsOptions,
    section: AwsConfig | None,
    terraform_paths: list[str],
    quiet: bool,
    runtime: AwsRuntime | None = None,
    executor: Executor | None = None,
    shard: Shard | None = None,
) -> tuple[AwsCollector | None, Callable[[str], bytes] | None]:
    """The AWS collector (credentials checked) and the reader of ``s3://`` Terraform states."""
    from dataclasses import replace

    runtime = runtime or AwsRuntime()
    settings = settings_from(options, section)
    base = settings or settings_from(
        AwsOptions(enabled=True, profile=options.profile, endpoint_url=options.endpoint_url),
        section,
    )
    assert base is not None
    tuned = {
        name: value
        for name in ("max_attempts", "connect_timeout", "read_timeout")
        if (value := getattr(runtime, name)) is not None
    }
    base = replace(base, **tuned)
    remote = (
        s3_reader(base, runtime.session_factory)
        if any(p.startswith("s3://") for p in terraform_paths)
        else None
    )
    if settings is None:
        return None, remote
    collector = build_collector(
        replace(settings, **tuned),
        quiet,
        runtime.session_factory,
        runtime.observer,
        executor,
        shard,
    )
    return collector, remote
