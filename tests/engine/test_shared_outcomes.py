"""Outcomes shared between resources whose judged values are equal (engine/profiles.py).

The engine judges a policy once per profile of the values it reads and gives that outcome
to every resource of the profile. The referee: the same policies stripped of what they read
(``paths``), which the engine judges on each resource afresh, must give the same findings,
in the same order, with equal evidence and reasons.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hds_audit.engine import Policy, builtin_policies, evaluate, load_policy_text
from hds_audit.engine.keys import Tokens, Varying, inputs, key_function, varies
from hds_audit.engine.paths import KNOWN_PATHS
from hds_audit.engine.profiles import MEMO_LIMIT
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import (
    Covered,
    Encryption,
    Finding,
    KeyOwner,
    Kind,
    Replica,
    Resource,
    Source,
    SourceKind,
)
from hds_audit.providers.registry import load_registry

REGISTRY = Path(__file__).resolve().parents[2] / "terraform_fixtures" / "registry.yaml"

HEAD = """\
metadata:
  id: S_{n}
  name: shape {n}
  category: residency
  severity: low
  rationale: r
  remediation: m
  frameworks: {{x: ["1"]}}
"""
# Policy shapes: every kind of path, operators, and/or/not, scopes with ``when``.
SHAPES = [
    "definition: {attribute: id, operator: regex_match, value: '\\.r1\\d*$'}",
    "definition: {attribute: name, operator: equals, value: n1}",
    "definition: {attribute: attributes.x, operator: is_true}",
    "definition: {attribute: attributes.x, operator: equals, value: 1}",
    "definition: {attribute: attributes.x, operator: starting_with, value: '-'}",
    "definition: {attribute: attributes.tags.env, operator: within, value: [prod]}",
    "definition: {attribute: encryption.key_id, operator: starting_with, value: k}",
    "definition: {attribute: encryption.key_owner, operator: equals, value: customer}",
    "definition: {attribute: encryption.at_rest, operator: is_true}",
    "definition: {attribute: replicas.*.target, operator: exists}",
    "definition: {attribute: replicas.*.kind, operator: equals, value: replication}",
    "definition: {attribute: replicas.*.country, operator: within, value: [FR, DE]}",
    "definition: {attribute: replicas, operator: length_greater_than, value: 1}",
    "definition: {attribute: source.kind, operator: equals, value: terraform-plan}",
    "definition: {attribute: non_regional, operator: is_false}",
    "definition: {attribute: in_eea, operator: is_true}",
    "definition: {attribute: region, operator: not_starting_with, value: us-}",
    "definition: {attribute: stores_data, operator: is_true}",
    "definition: {and: [{attribute: in_area, operator: is_true},"
    " {or: [{attribute: encryption.at_rest, operator: is_true},"
    " {not: {attribute: replicas.*.in_area, operator: is_true}}]}]}",
    "scope: {when: {attribute: attributes.x, operator: exists}}\n"
    "definition: {attribute: encryption.key_owner, operator: equals, value: customer}",
    "scope: {kinds: [object_storage], when: {attribute: encryption.at_rest, operator: is_true},"
    " when_description: not encrypted}\n"
    "definition: {attribute: replicas.*.in_eu, operator: is_true}",
    "definition: {and: [{attribute: host.name, operator: exists},"
    " {attribute: encryption.at_rest, operator: is_true}]}",
    "scope: {stores_data: true}\ndefinition: {attribute: host.secnumcloud, operator: is_not_empty}",
    "scope: {providers: [aws], types: [aws_ebs_volume]}\n"
    "definition: {attribute: host.in_scope, operator: is_true}",
]
SOURCES = [
    Source(kind=SourceKind.TERRAFORM_STATE, file="one/terraform.tfstate"),
    Source(kind=SourceKind.TERRAFORM_PLAN, file="one/plan.json"),
    Source(kind=SourceKind.TERRAFORM_STATE, file="two/terraform.tfstate"),
]
TYPES = [
    ("aws", "aws_s3_bucket", Kind.OBJECT_STORAGE),
    ("aws", "aws_ebs_volume", Kind.BLOCK_STORAGE),
    ("aws", "aws_instance", Kind.COMPUTE),
    ("azure", "azurerm_storage_account", Kind.OBJECT_STORAGE),
    ("gcp", "google_storage_bucket", Kind.OBJECT_STORAGE),
    ("nowhere", "nowhere_disk", Kind.BLOCK_STORAGE),
]
REGIONS = {
    "aws": ["eu-west-3", "eu-central-1", "us-east-1", None, "mars-1"],
    "azure": ["francecentral", "norwayeast", "uksouth", None],
    "gcp": ["europe-west9", "EU", "us-central1"],
    "nowhere": ["x-1", None],
}
ENCRYPTIONS = [
    None,
    Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER, key_id="k1"),
    Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER),
    Encryption(at_rest=True),
    Encryption(at_rest=False),
    Encryption(at_rest=None),
]
ATTRIBUTES: list[dict[str, Any]] = [
    {},
    {"x": True},
    {"x": 1},
    {"x": 1.0},
    {"x": 0.0},
    {"x": -0.0},
    {"x": "true"},
    {"x": [1]},
    {"tags": {"env": "prod"}},
    {"tags": {"env": ["prod"]}},
]


def _policies() -> list[Policy]:
    shapes = [HEAD.format(n=n) + shape for n, shape in enumerate(SHAPES)]
    return [*builtin_policies(), *load_policy_text("\n---\n".join(shapes), "shapes.yaml")]


def _afresh(policies: Sequence[Policy]) -> list[Policy]:
    """The same policies, judged on each resource afresh (nothing says what they read)."""
    return [dataclasses.replace(p, paths=frozenset()) for p in policies]


def _estate(geo: GeoTables, count: int, seed: int) -> list[Resource]:
    pick = random.Random(seed).choice
    resources = []
    for i in range(count):
        provider, type_, kind = pick(TYPES)
        location = geo.locate(provider, pick(REGIONS[provider]))
        replicas = pick(
            [
                (),
                None,
                (Replica("replication", geo.locate("aws", "eu-central-1"), "t1"),),
                (
                    Replica("backup", geo.locate(provider, pick(REGIONS[provider]))),
                    Replica("replication", geo.locate("aws", "us-east-1"), f"t{i % 3}"),
                ),
            ]
        )
        unknowns = pick(
            [
                {},
                {},
                {"encryption.key_owner": "key k1 is not among the audited keys"},
                {"encryption.key_owner": f"key k{i} is not among the audited keys"},
                {"region": "known after apply"},
                {"replicas": "the copies could not be read"},
                {"encryption.at_rest": "known after apply", "attributes.x": "known after apply"},
            ]
        )
        resources.append(
            Resource(
                id=f"{type_}.r{i % 40}",  # ids repeat: a plan and a state of one resource
                provider=provider,
                type=type_,
                kind=kind,
                location=location,
                source=pick(SOURCES),
                encryption=pick(ENCRYPTIONS),
                replicas=replicas,
                name=pick(["n0", "n1", None]),
                attributes=pick(ATTRIBUTES),
                unknowns=unknowns,
                holds_data=pick([None, None, False, True]),
                notes=pick([{}, {"encryption.at_rest": "the service always encrypts at rest"}]),
            )
        )
    return resources


def _canonical(findings: list[Finding]) -> list[tuple[Any, ...]]:
    """Everything a finding says, values with their types (``1`` is not ``True``)."""
    return [
        (
            f.policy.id,
            id(f.resource) if f.covers is None else f.resource,
            f.status,
            [
                (e.path, type(e.value), repr(e.value), e.note, type(e.note), e.unknown, e.missing)
                for e in f.evidence
            ],
            f.reason,
            type(f.reason),
            f.covers,
        )
        for f in findings
    ]


@pytest.mark.parametrize(("area", "seed"), [("eu", 1), ("eea", 2), ("fr", 3)])
def test_shared_outcomes_equal_judging_each_resource_afresh(
    geo: GeoTables, area: str, seed: int
) -> None:
    resources = _estate(geo, 1500, seed)
    policies = _policies()
    registry = load_registry(REGISTRY)
    run = {"registry": registry, "audit_date": date(2026, 12, 1)}
    shared = evaluate(policies, resources, AllowedArea.parse(area), **run)  # type: ignore[arg-type]
    afresh = evaluate(_afresh(policies), resources, AllowedArea.parse(area), **run)  # type: ignore[arg-type]
    assert len(shared) > len(resources)
    assert _canonical(shared) == _canonical(afresh)


def _bucket(geo: GeoTables, number: int, **fields: Any) -> Resource:
    return Resource(
        id=f"aws_s3_bucket.b{number}",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=geo.locate("aws", "eu-west-3"),
        source=SOURCES[0],
        **fields,
    )


def test_equal_values_share_one_outcome_each_finding_its_own_resource(geo: GeoTables) -> None:
    first, second = _bucket(geo, 1), _bucket(geo, 2)
    [encryption] = [p for p in builtin_policies() if p.id == "HDS_ENC_001"]
    findings = evaluate([encryption], [first, second], AllowedArea.parse("eu"))
    assert [f.resource for f in findings] == [first, second]
    assert [f.resource_id for f in findings] == ["aws_s3_bucket.b1", "aws_s3_bucket.b2"]
    assert findings[0].evidence is findings[1].evidence  # one outcome, not two copies


def _one(body: str) -> Policy:
    [policy] = load_policy_text(HEAD.format(n=0) + body, "t.yaml")
    return policy


def test_a_condition_on_the_id_or_the_name_is_judged_on_each_resource(geo: GeoTables) -> None:
    resources = [_bucket(geo, n, name=f"n{n}") for n in (1, 2, 11)]
    by_id = _one("definition: {attribute: id, operator: regex_match, value: 'b1$'}")
    by_name = _one("definition: {attribute: name, operator: equals, value: n2}")
    findings = evaluate([by_id, by_name], resources, AllowedArea.parse("eu"))
    verdicts = [f.status.value for f in findings]  # per resource: by id, by name
    assert verdicts == ["pass", "fail", "fail", "pass", "fail", "fail"]
    assert [f.evidence[0].value for f in findings[::2]] == [r.id for r in resources]


@pytest.mark.parametrize("order", [(True, 1), (1, True)])
def test_a_raw_value_is_judged_as_itself_not_as_an_equal_value(
    geo: GeoTables, order: tuple[Any, Any]
) -> None:
    """``1 == True`` in Python: neither may borrow the other's verdict or evidence."""
    resources = [_bucket(geo, n, attributes={"x": value}) for n, value in enumerate(order)]
    findings = evaluate(
        [_one("definition: {attribute: attributes.x, operator: is_true}")],
        resources,
        AllowedArea.parse("eu"),
    )
    got = [(type(f.evidence[0].value), f.status.value) for f in findings]
    assert got == [(bool, "pass") if v is True else (int, "fail") for v in order]


def test_a_reason_naming_each_resource_stays_its_own(geo: GeoTables) -> None:
    """Texts a collector writes per resource are keyed apart, past any memo's size."""
    count = MEMO_LIMIT + 50
    resources = [
        _bucket(
            geo,
            n,
            encryption=Encryption(at_rest=True, key_id=f"k{n}"),
            unknowns={"encryption.key_owner": f"key k{n} is not among the audited keys"},
        )
        for n in range(count)
    ]
    findings = evaluate(builtin_policies(), resources, AllowedArea.parse("eu"))
    keys = [f for f in findings if f.policy.id == "HDS_KEY_001"]
    assert [f.reason for f in keys] == [
        f"key k{n} is not among the audited keys" for n in range(count)
    ]
    assert all(f.status.value == "unknown" for f in keys)
    encrypted = [f for f in findings if f.policy.id == "HDS_ENC_001"]
    assert len({id(f.evidence) for f in encrypted}) == 1  # the other policies still share


def test_one_resource_in_two_host_scopes_is_covered_once_in_each(geo: GeoTables) -> None:
    """A plan and a state of one resource, in two regions: each host scope lists it once."""
    registry = load_registry(REGISTRY)
    paris = _bucket(geo, 1)
    virginia = dataclasses.replace(paris, location=geo.locate("aws", "us-east-1"))
    other = dataclasses.replace(_bucket(geo, 2), location=geo.locate("aws", "us-east-1"))
    [certificate] = [p for p in builtin_policies() if p.id == "HDS_CERT_001"]
    findings = evaluate(
        [certificate],
        [paris, virginia, paris, other, virginia],
        AllowedArea.parse("eu"),
        registry=registry,
        audit_date=date(2026, 12, 1),
    )
    covers = {f.resource_id: [c.id for c in f.covers or ()] for f in findings}
    assert covers == {
        "hds-host:aws": ["aws_s3_bucket.b1"],
        "hds-host:aws/us-east-1": ["aws_s3_bucket.b1", "aws_s3_bucket.b2"],
    }


def test_every_path_says_what_it_reads_or_is_judged_afresh() -> None:
    """A path the key readers do not cover would share outcomes wrongly: each known path has
    inputs the readers accept, or (the resource's own id and name) none."""
    paths = [p.replace("<path>", "tags.env") for p in KNOWN_PATHS]
    unkeyed = [p for p in paths if inputs(p) is None]
    assert sorted(unkeyed) == ["id", "name"]
    for path in paths:
        names = inputs(path) or ()
        key_function(names, Tokens())  # raises KeyError on an input it cannot read
        assert all(varies(n) for n in Varying(names).names)
    assert inputs("a.path.no.resolver.knows") is None


def test_host_level_findings_with_equal_covers_share_one_tuple(geo: GeoTables) -> None:
    """Equal covers are one object (report.json encodes a list once); unequal ones stay
    apart."""
    registry = load_registry(REGISTRY)
    paris = _bucket(geo, 1)
    virginia = dataclasses.replace(_bucket(geo, 2), location=geo.locate("aws", "us-east-1"))
    findings = evaluate(
        [p for p in builtin_policies() if p.id.startswith("HDS_CERT_")],
        [paris, virginia],
        AllowedArea.parse("eu"),
        registry=registry,
        audit_date=date(2026, 12, 1),
    )
    by_value: dict[tuple[Covered, ...], set[int]] = {}
    for finding in findings:
        if finding.covers is not None:
            by_value.setdefault(finding.covers, set()).add(id(finding.covers))
    hosts = [f for f in findings if f.covers is not None]
    assert len(by_value) >= 2 and len(hosts) > len(by_value)  # some lists are equal
    assert all(len(ids) == 1 for ids in by_value.values())
