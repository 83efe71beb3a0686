"""``hds-audit.yaml``: the same settings as the command line, validated before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hds_audit import inputs
from hds_audit.datafile import safe_load
from hds_audit.errors import UsageError
from hds_audit.evidence.inputs import InputFile, read_input

if TYPE_CHECKING:
    from hds_audit.collectors.azure.settings import AzureSettings
    from hds_audit.collectors.gcp.settings import GcpSettings
    from hds_audit.collectors.scaleway.settings import ScalewaySettings
    from hds_audit.executors.settings import ExecutorSettings
    from hds_audit.sharding import Shard

DEFAULT_CONFIG = "hds-audit.yaml"
FORMATS = ("json", "html", "sarif", "junit", "csv", "markdown", "pdf")
LANGS = ("fr", "en")
SEVERITIES = ("critical", "high", "medium", "low", "info", "none")


@dataclass(slots=True)
class FileConfig:
    """Settings read from the configuration file; ``None`` means "not set there"."""

    path: str | None = None
    terraform: list[str] = field(default_factory=list)
    allowed: str | list[str] | None = None
    formats: list[str] | None = None
    output: str | None = None
    fail_on: str | None = None
    fail_on_unknown: bool | None = None
    lang: str | None = None
    policies: list[str] = field(default_factory=list)
    aws: AwsConfig | None = None
    azure: AzureSettings | None = None
    gcp: GcpSettings | None = None
    scaleway: ScalewaySettings | None = None
    waivers: str | None = None
    baseline: str | None = None
    history: str | bool | None = None  # a path, or False for no history
    report_url: str | None = None
    executor: ExecutorSettings | None = None  # where collection tasks run (local, dask)
    shard: Shard | None = None  # this run's slice of the accounts / subscriptions / files
    sign_key: str | None = None  # Ed25519 private key (PEM) signing the report's manifest
    input: InputFile | None = None  # the configuration file read, for the report's run.inputs


@dataclass(slots=True)
class AwsConfig:
    """The ``aws:`` section: the same settings as the ``--aws*`` options."""

    enabled: bool = True
    profile: str | None = None
    regions: list[str] | None = None
    role_arns: list[str] = field(default_factory=list)
    org_role: str | None = None
    endpoint_url: str | None = None
    max_workers: int | None = None


_AWS_KEYS = {
    "enabled",
    "profile",
    "regions",
    "role_arns",
    "org_role",
    "endpoint_url",
    "max_workers",
}


def _aws_section(value: Any, path: str) -> AwsConfig:
    """Validate ``aws:`` (``aws: true`` is shorthand for ``aws: {enabled: true}``)."""
    if isinstance(value, bool):
        return AwsConfig(enabled=value)
    if value is None:
        return AwsConfig()
    if not isinstance(value, dict):
        raise UsageError(f"{path}: 'aws' must be true/false or a mapping of settings")
    unknown = sorted(set(map(str, value)) - _AWS_KEYS)
    if unknown:
        raise UsageError(
            f"{path}: unknown aws setting {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_AWS_KEYS))}"
        )
    section = AwsConfig()
    if "enabled" in value:
        if not isinstance(value["enabled"], bool):
            raise UsageError(f"{path}: aws.enabled must be true or false")
        section.enabled = value["enabled"]
    for key in ("profile", "org_role", "endpoint_url"):
        if key in value:
            if not isinstance(value[key], str) or not value[key]:
                raise UsageError(f"{path}: aws.{key} must be a text")
            setattr(section, key, value[key])
    if "regions" in value:
        section.regions = _strings(value["regions"], "aws.regions", path)
    if "role_arns" in value:
        section.role_arns = _strings(value["role_arns"], "aws.role_arns", path)
    if "max_workers" in value:
        workers = value["max_workers"]
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
            raise UsageError(f"{path}: aws.max_workers must be a whole number from 1 to 256")
        section.max_workers = workers
    return section


_KEYS = {
    "terraform",
    "allowed",
    "format",
    "output",
    "fail_on",
    "fail_on_unknown",
    "lang",
    "policies",
    "aws",
    "azure",
    "gcp",
    "scaleway",
    "waivers",
    "baseline",
    "history",
    "report_url",
    "executor",
    "shard",
    "sign_key",
}


def _strings(value: Any, key: str, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"{path}: '{key}' must be a text or a list of texts")


def parse_formats(value: str | list[str], where: str) -> list[str]:
    """``json,html`` -> ``["json", "html"]``, rejecting unknown formats."""
    items = value.split(",") if isinstance(value, str) else value
    formats = [item.strip().lower() for item in items if item.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"{where}: unknown format {', '.join(unknown) or '(none)'}; use {', '.join(FORMATS)}"
        )
    return formats


def _ci_settings(data: dict[str, Any], config: FileConfig, base: Path, label: str) -> None:
    """``waivers``, ``baseline``, ``sign_key``, ``history`` (a path or false), ``report_url``."""
    for key in ("waivers", "baseline", "sign_key"):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not value:
                raise UsageError(f"{label}: '{key}' must be a file path")
            setattr(config, key, str(base / value))
    if "history" in data:
        value = data["history"]
        if value is False:
            config.history = False
        elif isinstance(value, str) and value:
            config.history = str(base / value)
        else:
            raise UsageError(f"{label}: 'history' must be a file path, or false for no history")
    if "report_url" in data:
        if not isinstance(data["report_url"], str) or not data["report_url"]:
            raise UsageError(f"{label}: 'report_url' must be a URL")
        config.report_url = data["report_url"]


def load_config(explicit: str | None, cwd: Path | None = None) -> FileConfig:
    """Read ``explicit`` or ``./hds-audit.yaml`` when present; paths resolve from its folder."""
    cwd = cwd or Path.cwd()
    if explicit is None:
        candidate = cwd / DEFAULT_CONFIG
        if not candidate.is_file():
            return FileConfig()
        path = candidate
    else:
        path = Path(explicit)
    label = str(path)
    try:
        raw, record = read_input(path, "config")
        data = safe_load(inputs.utf8(raw))
    except inputs.FileProblem as problem:
        raise UsageError(f"{label}: {problem.problem}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(
            f"{label}{line}: invalid YAML: {getattr(error, 'problem', error)}"
        ) from None
    if data is None:
        return FileConfig(path=label, input=record)
    if not isinstance(data, dict):
        raise UsageError(f"{label}: must be a mapping of settings")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UsageError(
            f"{label}: unknown setting {', '.join(map(str, unknown))}; "
            f"known: {', '.join(sorted(_KEYS))}"
        )
    base = path.parent
    config = FileConfig(path=label, input=record)
    if "terraform" in data:
        config.terraform = [
            str(base / p) if not Path(p).is_absolute() and "://" not in p else p
            for p in _strings(data["terraform"], "terraform", label)
        ]
    if "policies" in data:
        config.policies = [str(base / p) for p in _strings(data["policies"], "policies", label)]
    if "allowed" in data:
        allowed = data["allowed"]
        config.allowed = (
            allowed if isinstance(allowed, str) else _strings(allowed, "allowed", label)
        )
    if "format" in data:
        config.formats = parse_formats(data["format"], label)
    if "output" in data:
        if not isinstance(data["output"], str) or not data["output"]:
            raise UsageError(f"{label}: 'output' must be a folder path")
        config.output = str(base / data["output"])
    if "fail_on" in data:
        value = str(data["fail_on"]).lower()
        if value not in SEVERITIES:
            raise UsageError(f"{label}: fail_on must be one of {', '.join(SEVERITIES)}")
        config.fail_on = value
    if "fail_on_unknown" in data:
        if not isinstance(data["fail_on_unknown"], bool):
            raise UsageError(f"{label}: fail_on_unknown must be true or false")
        config.fail_on_unknown = data["fail_on_unknown"]
    if "lang" in data:
        if data["lang"] not in LANGS:
            raise UsageError(f"{label}: lang must be one of {', '.join(LANGS)}")
        config.lang = data["lang"]
    _ci_settings(data, config, base, label)
    if "aws" in data:
        config.aws = _aws_section(data["aws"], label)
    if "azure" in data:
        from hds_audit.collectors.azure.settings import parse_azure_section

        config.azure = parse_azure_section(data["azure"], label)
    if "gcp" in data:
        from hds_audit.collectors.gcp.settings import parse_gcp_section

        config.gcp = parse_gcp_section(data["gcp"], label)
    if "scaleway" in data:
        from hds_audit.collectors.scaleway.settings import parse_scaleway_section

        config.scaleway = parse_scaleway_section(data["scaleway"], label)
    if "executor" in data:
        from hds_audit.executors.settings import parse_executor_section

        config.executor = parse_executor_section(data["executor"], label)
    if "shard" in data:
        from hds_audit.sharding import Shard

        config.shard = Shard.parse(str(data["shard"]), f"{label}: shard")
    return config
