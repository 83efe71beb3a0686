"""host.* paths: the registry and the audit date judged per resource, memoised, unknown kept."""

from __future__ import annotations

from datetime import date

from compliance_helpers import TEST_REGISTRIES

from hds_audit.engine import builtin_policies, evaluate
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.i18n import render
from hds_audit.model import Encryption, Kind, Resource, Source, SourceKind, Status
from hds_audit.providers.facts import HostFacts, certificate_verdict
from hds_audit.providers.registry import builtin_registry, load_registry
from hds_audit.reports.grouping import covered_ids

GEO = GeoTables.default()
STATE = Source(SourceKind.TERRAFORM_STATE, file="t.tfstate")
TEST = load_registry(TEST_REGISTRIES / "hosts.yaml")
CERT = [p for p in builtin_policies() if p.meta.category == "certified_provider"]


def _bucket(
    provider: str, region: str | None, number: int = 0, kind: Kind = Kind.OBJECT_STORAGE
) -> Resource:
    return Resource(
        id=f"{provider}-{number}",
        provider=provider,
        type="bucket",
        kind=kind,
        location=GEO.locate(provider, region),
        source=STATE,
        encryption=Encryption(at_rest=True),
    )


def test_certificate_status_on_the_audit_date() -> None:
    aws = TEST.by_provider["aws"]  # expires 2027-01-10
    assert certificate_verdict(aws, date(2026, 6, 1)) == ("valid", 223)
    assert certificate_verdict(aws, date(2026, 11, 29)) == ("expiring", 42)
    assert certificate_verdict(aws, date(2027, 1, 11)) == ("expired", -1)
    assert certificate_verdict(aws, date(2023, 1, 1))[0] == "not_yet_valid"
    assert certificate_verdict(None, date(2026, 1, 1)) == ("missing", None)
    assert certificate_verdict(builtin_registry().by_provider["aws"], date(2026, 1, 1)) == (
        "unknown",
        None,
    )


def test_unknown_evidence_names_the_source_checked() -> None:
    facts = HostFacts(builtin_registry(), date(2026, 11, 29))
    evidence = facts.evidence("host.certificate_status", _bucket("aws", "eu-west-3"))
    assert evidence.unknown and evidence.value is None
    assert "Amazon Web Services: certified [S01]" in str(evidence.note)
    assert "expiry date is unknown (source S01 checked)" in str(evidence.note)
    scope = HostFacts(builtin_registry(), date(2026, 11, 29)).evidence(
        "host.in_scope", _bucket("scaleway", "nl-ams")
    )
    # In the EU, but outside Scaleway's certified region: a fail naming the scope.
    assert not scope.unknown and scope.value is False
    assert "region nl-ams is outside the certificate's scope (fr-par) [S15]" in str(scope.note)
    database = HostFacts(builtin_registry(), date(2026, 11, 29)).evidence(
        "host.in_scope", _bucket("scaleway", "fr-par", kind=Kind.DATABASE)
    )
    assert database.value is False
    assert "database is outside the certificate's services (object storage, block storage)" in (
        str(database.note)
    )
    # The kinds in the reader's words, never as codes ("object_storage").
    assert "base de données : hors des services couverts par le certificat (stockage objet, " in (
        render(database.note, "fr")
    )
    # A scope the registry does not know stays unknown, even for a region far away.
    ovh = HostFacts(builtin_registry(), date(2026, 11, 29)).evidence(
        "host.in_scope", _bucket("ovh", "ca-east-bhs")
    )
    assert ovh.unknown and "regions covered not published (source S07 checked)" in str(ovh.note)
    inside = HostFacts(builtin_registry(), date(2026, 11, 29)).evidence(
        "host.in_scope", _bucket("scaleway", "fr-par")
    )
    assert inside.value is True and not inside.unknown


def test_default_audit_date_is_today_and_registry_builtin() -> None:
    facts = HostFacts()
    assert facts.registry is builtin_registry()
    assert facts.audit_date == date.today() or (date.today() - facts.audit_date).days <= 1


def test_never_pass_on_unknown_facts_with_the_builtin_registry() -> None:
    resources = [
        _bucket(p, r)
        for p, r in [("aws", "eu-west-3"), ("azure", "francecentral"), ("gcp", "europe-west9")]
    ]
    findings = evaluate(CERT, resources, AllowedArea.parse("eu"), audit_date=date(2026, 11, 29))
    assert {f.status for f in findings} <= {Status.UNKNOWN, Status.NOT_APPLICABLE}
    missing = evaluate(CERT[:1], [_bucket("alibaba", None)], AllowedArea.parse("eu"))
    assert [f.status for f in missing] == [Status.FAIL]


def test_host_policies_are_judged_once_per_host_scope() -> None:
    resources = [_bucket("aws", "eu-west-3" if i % 2 else "eu-central-1", i) for i in range(30_000)]
    outside = _bucket("aws", "us-east-1", 30_000)  # outside TEST's certified regions
    findings = evaluate(
        CERT,
        [*resources, outside],
        AllowedArea.parse("eu"),
        registry=TEST,
        audit_date=date(2026, 6, 1),
    )
    # Both regions are in the certificate's scope: one verdict for the host, per policy; the
    # region outside it is a scope of its own, for the one policy that reads the region.
    assert sorted((f.policy.id, f.resource_id, f.status.value) for f in findings) == [
        ("HDS_CERT_001", "hds-host:test-aws", "pass"),
        ("HDS_CERT_001", "hds-host:test-aws/us-east-1", "fail"),
        ("HDS_CERT_002", "hds-host:test-aws", "pass"),
        ("HDS_CERT_003", "hds-host:test-aws", "fail"),  # extra-EU law: true in TEST
    ]
    everything = sorted(r.id for r in [*resources, outside])
    for policy in CERT:  # every resource covered once, by exactly one scope of the policy
        covered = [i for f in findings if f.policy.id == policy.id for i in covered_ids(f)]
        assert sorted(covered) == everything
