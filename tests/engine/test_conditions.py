"""Three-valued logic and operators, on normalised resources built directly."""

from __future__ import annotations

from hds_audit.engine import evaluate, load_policy_text
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.model import Encryption, KeyOwner, Kind, Replica, Resource, Source, SourceKind

HEAD = """\
metadata:
  id: T_{n}
  name: test
  category: residency
  severity: low
  rationale: r
  remediation: m
  frameworks: {{x: ["1"]}}
definition:
{body}
"""
SOURCE = Source(kind=SourceKind.TERRAFORM_STATE, file="t.tfstate")


def _resource(geo: GeoTables, region: str | None, **kwargs: object) -> Resource:
    return Resource(
        id=f"r.{region}",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=geo.locate("aws", region),
        source=SOURCE,
        **kwargs,  # type: ignore[arg-type]
    )


def _verdict(body: str, resource: Resource, area: str = "eu") -> str:
    [policy] = load_policy_text(HEAD.format(n=1, body=body), "t.yaml")
    [finding] = evaluate([policy], [resource], AllowedArea.parse(area))
    return finding.status.value


IN_AREA = "  attribute: in_area\n  operator: is_true\n"


def test_in_area_by_mode(geo: GeoTables) -> None:
    oslo = _resource(geo, "eu-north-1")  # Stockholm: EU
    assert _verdict(IN_AREA, oslo) == "pass"
    london = _resource(geo, "eu-west-2")
    assert _verdict(IN_AREA, london) == "fail"
    assert _verdict(IN_AREA, london, "eea") == "fail"
    paris = _resource(geo, "eu-west-3")
    assert _verdict(IN_AREA, paris, "fr") == "pass"
    assert _verdict(IN_AREA, _resource(geo, "eu-central-1"), "fr") == "fail"
    assert _verdict(IN_AREA, _resource(geo, None)) == "unknown"
    assert _verdict(IN_AREA, _resource(geo, "eu-central-1"), "DE,FR") == "pass"


def test_and_or_not_with_unknown(geo: GeoTables) -> None:
    unknown_key = _resource(geo, "eu-west-3", encryption=Encryption(at_rest=True, key_owner=None))
    customer = _resource(
        geo, "eu-west-3", encryption=Encryption(at_rest=True, key_owner=KeyOwner.CUSTOMER)
    )
    key = "{attribute: encryption.key_owner, operator: equals, value: customer}"
    at_rest = "{attribute: encryption.at_rest, operator: is_true}"
    region_us = "{attribute: region, operator: starting_with, value: us-}"
    assert _verdict(f"  and: [{at_rest}, {key}]", unknown_key) == "unknown"
    assert _verdict(f"  and: [{at_rest}, {key}]", customer) == "pass"
    assert _verdict(f"  and: [{region_us}, {key}]", unknown_key) == "fail"  # fail beats unknown
    assert _verdict(f"  or: [{at_rest}, {key}]", unknown_key) == "pass"  # pass beats unknown
    assert _verdict(f"  or: [{region_us}, {key}]", unknown_key) == "unknown"
    assert _verdict(f"  not: {key}", unknown_key) == "unknown"
    assert _verdict(f"  not: {key}", customer) == "fail"


def test_replica_wildcard_all_must_pass(geo: GeoTables) -> None:
    body = "  attribute: replicas.*.in_area\n  operator: is_true\n"
    eu = Replica("replication", geo.locate("aws", "eu-central-1"))
    us = Replica("replication", geo.locate("aws", "us-east-1"))
    nowhere = Replica("replication", geo.locate("aws", None))
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=(eu,))) == "pass"
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=(eu, us))) == "fail"
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=(eu, nowhere))) == "unknown"
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=(us, nowhere))) == "fail"
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=())) == "pass"
    assert _verdict(body, _resource(geo, "eu-west-3", replicas=None)) == "unknown"


def test_raw_attribute_operators(geo: GeoTables) -> None:
    bucket = _resource(geo, "eu-west-3", attributes={"tags": {"env": "prod"}, "size": 12})
    assert (
        _verdict("  attribute: attributes.tags.env\n  operator: equals\n  value: prod\n", bucket)
        == "pass"
    )
    assert _verdict("  attribute: attributes.tags.team\n  operator: exists\n", bucket) == "fail"
    assert _verdict("  attribute: attributes.tags.team\n  operator: not_exists\n", bucket) == "pass"
    assert (
        _verdict("  attribute: attributes.size\n  operator: greater_than\n  value: 10\n", bucket)
        == "pass"
    )
    assert (
        _verdict("  attribute: attributes.size\n  operator: within\n  value: [1, 2]\n", bucket)
        == "fail"
    )
    assert (
        _verdict("  attribute: type\n  operator: regex_match\n  value: '^aws_s3'\n", bucket)
        == "pass"
    )


def test_eea_note_in_eu_mode(geo: GeoTables) -> None:
    norway = Resource(
        id="sa",
        provider="azure",
        type="azurerm_storage_account",
        kind=Kind.OBJECT_STORAGE,
        location=geo.locate("azure", "norwayeast"),
        source=SOURCE,
    )
    [policy] = load_policy_text(HEAD.format(n=2, body=IN_AREA), "t.yaml")
    [finding] = evaluate([policy], [norway], AllowedArea.parse("eu"))
    assert finding.status.value == "fail"
    assert "EXI 28 (EEA)" in (finding.evidence[0].note or "")
    [finding] = evaluate([policy], [norway], AllowedArea.parse("eea"))
    assert finding.status.value == "pass"
