"""Each policy against its fixture: resources are named for the verdict they must get.

``tests/fixtures/policies/<POLICY_ID>.yaml`` lists resources (state or plan shape); a name
starting ``pass_``, ``fail_``, ``unknown_`` or ``na_`` is the expected verdict of that policy.
The resources go through the real Terraform reader and normaliser, then the engine.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.engine import Policy, builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Finding, Kind, Resource, Source, SourceKind
from hds_audit.providers.registry import load_registry
from hds_audit.testing import Spec, plan_document, state_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policies"
EXPECTED = {"pass": "pass", "fail": "fail", "unknown": "unknown", "na": "not_applicable"}
_NAME = re.compile(r"[./](pass|fail|unknown|na)_[\w-]+(\[[^\]]*\])?$")


def _normalised(item: dict[str, Any], geo: GeoTables) -> Resource:
    return Resource(
        id=str(item["id"]),
        provider=str(item["provider"]),
        type=str(item["type"]),
        kind=Kind(str(item.get("kind", "other"))),
        location=geo.locate(str(item["provider"]), item.get("region")),
        source=Source(kind=SourceKind(str(item.get("source", "azure-api")))),
        attributes=dict(item.get("attributes") or {}),
        unknowns=dict(item.get("unknowns") or {}),
    )


def _fixture_findings(policy: Policy, tmp_path: Path, geo: GeoTables) -> dict[str, str]:
    data = yaml.safe_load((FIXTURES / f"{policy.id}.yaml").read_text(encoding="utf-8"))
    if "cases" in data:  # certified-provider policies: a registry and an audit date per case
        verdicts: dict[str, str] = {}
        for number, case in enumerate(data["cases"]):
            verdicts.update(_case_findings(policy, case, tmp_path / str(number), geo))
        return verdicts
    return _case_findings(policy, data, tmp_path, geo)


def _case_findings(
    policy: Policy, data: dict[str, Any], tmp_path: Path, geo: GeoTables
) -> dict[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    if data.get("format") == "normalised":
        # Resources only live collectors produce (a tenant setting): built as the model.
        resources = [_normalised(item, geo) for item in data["resources"]]
        found = evaluate([policy], resources, AllowedArea.parse("eu"))
        return _verdicts(found)
    specs = [Spec.from_mapping(item) for item in data["resources"]]
    if data.get("format") == "plan":
        document = plan_document(specs, data.get("provider_regions"))
    else:
        document = state_document(specs)
    path = tmp_path / f"{policy.id}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    assert collection.errors == []
    registry = load_registry(FIXTURES.parent / data["registry"]) if "registry" in data else None
    audit_date = date.fromisoformat(str(data["audit_date"])) if "audit_date" in data else None
    findings = evaluate(
        [policy],
        collection.resources,
        AllowedArea.parse("eu"),
        registry=registry,
        audit_date=audit_date,
    )
    return _verdicts(findings)


def _verdicts(findings: list[Finding]) -> dict[str, str]:
    """Each judged resource's verdict; a host-level finding gives its verdict to every
    resource it covers (and to no other)."""
    verdicts: dict[str, str] = {}
    for finding in findings:
        for resource_id in (
            [c.id for c in finding.covers] if finding.covers is not None else [finding.resource_id]
        ):
            assert resource_id not in verdicts, f"{resource_id} judged twice"
            verdicts[resource_id] = finding.status.value
    return verdicts


@pytest.mark.parametrize("policy", builtin_policies(), ids=lambda p: p.id)
def test_policy_verdicts_match_fixture_names(
    policy: Policy, tmp_path: Path, geo: GeoTables
) -> None:
    verdicts = _fixture_findings(policy, tmp_path, geo)
    expected = {
        address: EXPECTED[match.group(1)]
        for address in verdicts
        if (match := _NAME.search(address))
    }
    assert expected, f"no pass_/fail_/unknown_ resources judged by {policy.id}"
    wrong = {a: (verdicts[a], want) for a, want in expected.items() if verdicts[a] != want}
    assert wrong == {}, "address: (got, expected)"


@pytest.mark.parametrize("policy", builtin_policies(), ids=lambda p: p.id)
def test_every_policy_fixture_covers_pass_fail_unknown(policy: Policy) -> None:
    text = (FIXTURES / f"{policy.id}.yaml").read_text(encoding="utf-8")
    for prefix in ("pass_", "fail_", "unknown_"):
        assert re.search(rf"(name: |id: \S*/){prefix}", text), f"{policy.id}: no {prefix}*"
