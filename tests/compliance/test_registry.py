"""The certified-host registry: sourced data, nothing invented, validated with file:line."""

from __future__ import annotations

from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pytest
from compliance_helpers import FIXTURES

from hds_audit.datafile import DataFileError, line_of, load_yaml
from hds_audit.providers.registry import (
    CERTIFICATE_STATUSES,
    FACTS,
    builtin_registry,
    builtin_registry_text,
    parse_registry,
)
from hds_audit.testing import run_cli


def test_every_fact_has_a_known_source() -> None:
    registry = builtin_registry()
    assert {"aws", "azure", "gcp", "ovh", "scaleway", "outscale"} <= set(registry.by_provider)
    for host in registry.hosts:
        assert set(host.facts) == set(FACTS), host.key
        for name, fact in host.facts.items():
            assert fact.source in registry.sources, (host.key, name)
            assert registry.source(fact.source).url, (host.key, name)
        assert host.fact("certificate_status").value in CERTIFICATE_STATUSES


def test_unknowns_stay_unknown() -> None:
    """Spot checks against the reference (hds-hosts.md): what no source gives is unknown."""
    registry = builtin_registry()
    aws, azure = registry.by_provider["aws"], registry.by_provider["azure"]
    assert aws.fact("certificate_status").value == "certified"  # S01: HDS v2.0
    for name in ("certificate_number", "certifying_body", "issued", "expires", "scope_regions"):
        assert not aws.fact(name).known, name
    assert not azure.fact("certificate_status").known  # listed in 2019, v2 not found
    # No certificate in the registry has a known expiry date: nothing was found publicly.
    assert all(not h.fact("expires").known for h in registry.hosts)
    scaleway = registry.by_provider["scaleway"]
    assert scaleway.fact("scope_regions").value == ("fr-par",)


BROKEN = [
    (
        "    facts:\n      legal_entity: {value: unknown, source: S01",
        "source: S99",
        "unknown source 'S99'",
    ),
    (
        "expires: {value: unknown, source: S01}",
        'expires: {value: "31/12/2027", source: S01}',
        "not a date",
    ),
    (
        "certificate_status: {value: certified, source: S01,",
        "certificate_status: {value: yes, source: S01,",
        "certificate_status must be one of",
    ),
    (
        "      extra_eu_law: {value: unknown, source: S01, note:",
        "      extra_eu_lw: {value: unknown, source: S01, note:",
        "unknown key 'extra_eu_lw'",
    ),
    (
        "    providers: [azure]",
        "    providers: [aws]",
        "provider 'aws' already belongs to host 'aws'",
    ),
    ("hosts:\n", "hosts:\n  - key: [\n", "invalid YAML"),
]


@pytest.mark.parametrize(("old", "new", "problem"), BROKEN, ids=[b[2][:24] for b in BROKEN])
def test_malformed_registry_names_file_line_and_problem(old: str, new: str, problem: str) -> None:
    text = builtin_registry_text()
    assert old in text
    if old.startswith("    facts:"):
        broken = text.replace(
            "legal_entity: {value: unknown, source: S01",
            "legal_entity: {value: unknown, source: S99",
            1,
        )
    else:
        broken = text.replace(old, new, 1)
    with pytest.raises(DataFileError) as caught:
        parse_registry(broken, "hosts.yaml")
    message = str(caught.value)
    assert message.startswith("hosts.yaml:"), message
    assert caught.value.line is not None and caught.value.line > 1
    assert problem in message


def test_missing_fact_is_refused() -> None:
    broken = builtin_registry_text().replace(
        "      transfer_map_url: {value: unknown, source: S01}\n", "", 1
    )
    with pytest.raises(DataFileError, match=r"hosts\.yaml:\d+: missing fact 'transfer_map_url'"):
        parse_registry(broken, "hosts.yaml")


def test_scan_with_malformed_registry_exits_2_before_scanning(tmp_path: Path) -> None:
    bad = tmp_path / "hosts.yaml"
    bad.write_text(
        builtin_registry_text().replace("value: certified", "value: maybe", 1), encoding="utf-8"
    )
    out = tmp_path / "out"
    result = run_cli(["scan", str(FIXTURES / "compliant"), "--registry", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"hds-audit: error: {bad}:")
    assert "certificate_status must be one of" in lines[0]
    assert not list(out.glob("report.*"))  # nothing scanned, nothing written


def test_providers_list_and_show() -> None:
    listing = run_cli(["providers", "list"])
    assert listing.exit_code == 0
    assert "aws" in listing.output and "scaleway" in listing.output
    shown = run_cli(["providers", "show", "scaleway"])
    assert shown.exit_code == 0
    assert "fr-par" in shown.output
    assert "source: S15" in shown.output
    assert "https://" in shown.output
    missing = run_cli(["providers", "show", "nobody"])
    assert missing.exit_code == 2


def _nodes_and_lines(value: Any) -> Any:
    """A parsed YAML value with the line of every mapping and key, to compare two parses."""
    if isinstance(value, dict):
        lines = (line_of(value), tuple(line_of(value, str(k)) for k in value))
        return ("map", lines, [(k, _nodes_and_lines(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [_nodes_and_lines(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    "text",
    [
        builtin_registry_text(),
        *(
            entry.read_text(encoding="utf-8")
            for entry in (package_files.files("hds_audit.frameworks") / "data").iterdir()
            if entry.name.endswith(".yaml")
        ),
    ],
)
def test_bundled_files_read_by_libyaml_as_by_the_python_parser(text: str) -> None:
    """The files shipped in the package are read by libyaml's parser (faster): the same
    values, types and lines as the Python parser gives for user files."""
    assert _nodes_and_lines(load_yaml(text, "f", bundled=True)) == _nodes_and_lines(
        load_yaml(text, "f")
    )


def test_a_bundled_file_libyaml_refuses_is_told_as_the_python_parser_tells_it() -> None:
    text = "hosts:\n  a: [1,\n"
    with pytest.raises(DataFileError) as bundled:
        load_yaml(text, "f.yaml", bundled=True)
    with pytest.raises(DataFileError) as plain:
        load_yaml(text, "f.yaml")
    assert str(bundled.value) == str(plain.value)
