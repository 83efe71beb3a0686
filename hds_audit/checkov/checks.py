"""The HDS pack as Checkov checks: each one *evaluates* an HDS policy, it does not copy it.

A :class:`HdsResourceCheck` turns Checkov's resource configuration into a
:class:`~hds_audit.collectors.terraform.documents.TfInstance`, runs our Terraform
:class:`~hds_audit.collectors.terraform.normalise.Normaliser` and our engine's
:func:`~hds_audit.engine.evaluate` for the one policy it stands for, and maps the verdict to
Checkov's ``PASSED`` / ``FAILED`` / ``UNKNOWN``. Region residency on HCL comes from the
``provider`` blocks (read from Checkov's graph, and judged by :class:`HdsProviderCheck`) and
from ``location`` on azurerm resources.

Checkov drops ``UNKNOWN`` results from its own report; a ``sink`` given to the checks
receives every :class:`~hds_audit.model.Finding`, unknowns included (that is how
``hds-audit scan --terraform-code`` folds them).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from hds_audit.checkov.hcl import instance_from_conf
from hds_audit.collectors.terraform.normalise import Normaliser, type_table
from hds_audit.engine import Policy, builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Finding, Source, SourceKind, Status

# The policy categories the pack carries: residency, replication, encryption and keys.
PACK_CATEGORIES = frozenset(
    {"residency", "replication_residency", "encryption_at_rest", "key_management"}
)
_CATEGORY = {
    "residency": CheckCategories.GENERAL_SECURITY,
    "replication_residency": CheckCategories.BACKUP_AND_RECOVERY,
    "encryption_at_rest": CheckCategories.ENCRYPTION,
    "key_management": CheckCategories.ENCRYPTION,
}
_VERDICT = {
    Status.PASS: CheckResult.PASSED,
    Status.FAIL: CheckResult.FAILED,
}


def _region_of(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value and "${" not in value else None


def provider_regions(graph: Any) -> dict[str, str]:
    """``{provider address: region}`` from the ``provider`` blocks of Checkov's graph."""
    regions: dict[str, str] = {}
    if graph is None or not hasattr(graph, "nodes"):
        return regions
    for node in graph.nodes():
        vertex = node[1] if isinstance(node, tuple) else node
        if not isinstance(vertex, Mapping) or vertex.get("block_type_") != "provider":
            continue
        region = _region_of(vertex.get("region"))
        name = str(vertex.get("block_name_") or "")
        if region and name:
            regions[name] = region
    return regions


def covered_types(policy: Policy) -> list[str]:
    """The Terraform types of ``data/types.yaml`` in the policy's scope."""
    table = type_table()
    scope = policy.scope
    types: list[str] = []
    for rtype, spec in table.specs.items():
        provider = table.provider(rtype.split("_", 1)[0])
        if scope.kinds is not None and spec.kind not in scope.kinds:
            continue
        if scope.types is not None and rtype not in scope.types:
            continue
        if scope.providers is not None and provider not in scope.providers:
            continue
        types.append(rtype)
    return sorted(types)


class _Judge:
    """Evaluates one policy on one Checkov entity; shared by the resource and provider checks."""

    def __init__(
        self,
        policy: Policy,
        area: AllowedArea,
        geo: GeoTables,
        sink: list[Finding] | None,
    ) -> None:
        self.policy = policy
        self.area = area
        self.geo = geo
        self.sink = sink
        self._regions: tuple[int, dict[str, str]] = (0, {})

    def regions(self, graph: Any) -> dict[str, str]:
        if graph is None:
            return {}
        if self._regions[0] != id(graph):
            self._regions = (id(graph), provider_regions(graph))
        return self._regions[1]

    def judge(
        self, resource_type: str, conf: Mapping[str, Any], entity_path: str, graph: Any
    ) -> tuple[CheckResult, list[str]]:
        instance = instance_from_conf(resource_type, conf, self.regions(graph))
        file = entity_path.rsplit(":", 2)[0] or None
        source = Source(kind=SourceKind.TERRAFORM_PLAN, file=file)
        lines = [int(conf.get("__start_line__") or 0), int(conf.get("__end_line__") or 0)]
        resources = [
            dataclasses.replace(r, attributes={**r.attributes, "file": file, "lines": lines})
            for r in Normaliser(self.geo, source, [instance]).resources()
            if r.id == instance.address
        ]
        findings = evaluate([self.policy], resources, self.area)
        if self.sink is not None:
            self.sink.extend(findings)
        if not findings:
            return CheckResult.UNKNOWN, []
        statuses = {f.status for f in findings}
        evaluated = sorted({e.path for f in findings for e in f.evidence})
        if Status.FAIL in statuses:
            return CheckResult.FAILED, evaluated
        if statuses <= {Status.PASS, Status.NOT_APPLICABLE} and Status.PASS in statuses:
            return CheckResult.PASSED, evaluated
        return CheckResult.UNKNOWN, evaluated


class HdsResourceCheck(BaseResourceCheck):  # type: ignore[misc,unused-ignore]
    """One HDS policy on the resources of its scope."""

    def __init__(self, judge: _Judge) -> None:
        meta = judge.policy.meta
        self.judge = judge
        super().__init__(
            name=f"[HDS] {meta.name}",
            id=meta.id,
            categories=[_CATEGORY.get(meta.category, CheckCategories.GENERAL_SECURITY)],
            supported_resources=covered_types(judge.policy),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # Checkov sets entity_path to "FILE:TYPE:NAME" before each call (FILE may hold ':').
        rtype = self.entity_path.rsplit(":", 2)[-2] if self.entity_path.count(":") >= 2 else ""
        result, keys = self.judge.judge(rtype, conf, self.entity_path, self.graph)
        self.evaluated_keys = keys
        return result


class HdsProviderCheck(BaseProviderCheck):  # type: ignore[misc,unused-ignore]
    """A residency policy on an ``aws`` provider block: the region it sends resources to."""

    def __init__(self, judge: _Judge) -> None:
        meta = judge.policy.meta
        self.judge = judge
        super().__init__(
            name=f"[HDS] {meta.name} (provider region)",
            id=meta.id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_provider=["aws"],
        )

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        region = _region_of(conf.get("region"))
        if region is None:
            return CheckResult.UNKNOWN
        location = self.judge.geo.locate("aws", region)
        allowed = self.judge.area.allows(location)
        self.evaluated_keys = ["region"]
        if allowed is None:
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if allowed else CheckResult.FAILED


def pack_policies(policies: Iterable[Policy] | None = None) -> list[Policy]:
    """The policies the pack carries (default: the built-in ones)."""
    chosen = builtin_policies() if policies is None else list(policies)
    return [p for p in chosen if p.meta.category in PACK_CATEGORIES and covered_types(p)]


def build_checks(
    policies: Sequence[Policy] | None = None,
    area: AllowedArea | None = None,
    geo: GeoTables | None = None,
    sink: list[Finding] | None = None,
) -> tuple[list[HdsResourceCheck], list[HdsProviderCheck]]:
    """One Checkov check per pack policy (plus the provider-region residency check).

    Checkov's base classes register a check in its global registries as they build it
    (keeping the first check of each id): call :func:`unregister` first to replace them.
    """
    area = area or AllowedArea.parse(os.environ.get("HDS_AUDIT_ALLOWED", "eu"))
    geo = geo or GeoTables.default()
    resource_checks: list[HdsResourceCheck] = []
    provider_checks: list[HdsProviderCheck] = []
    for policy in pack_policies(policies):
        judge = _Judge(policy, area, geo, sink)
        resource_checks.append(HdsResourceCheck(judge))
        if policy.meta.id == "HDS_RES_001":
            provider_checks.append(HdsProviderCheck(_Judge(policy, area, geo, None)))
    return resource_checks, provider_checks


def unregister(ids: Iterable[str]) -> None:
    """Remove the checks of these ids from Checkov's resource and provider registries."""
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    wanted = frozenset(ids)
    for registry in (resource_registry, provider_registry):
        for table in (registry.checks, registry.wildcard_checks):
            for entity, checks in table.items():
                table[entity] = [c for c in checks if c.id not in wanted]
