"""The scan keeps only the raw attributes some policy reads (no report shows the others)."""

from __future__ import annotations

from hds_audit.geo import GeoTables
from hds_audit.model import EMPTY_MAPPING, Kind, Resource, Source, SourceKind
from hds_audit.scan import keep_judged_attributes

ROOTS = frozenset({"versioning", "logging"})


def _bucket(n: int, attributes: dict[str, object]) -> Resource:
    return Resource(
        id=f"aws_s3_bucket.b{n}",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=GeoTables.default().locate("aws", "eu-west-3"),
        source=Source(SourceKind.AWS_API, account="111122223333"),
        attributes=attributes,
    )


def test_resources_holding_only_judged_attributes_are_kept_as_they_are() -> None:
    resources = [_bucket(0, {"versioning": [{"enabled": True}]}), _bucket(1, {})]
    kept = keep_judged_attributes(resources, ROOTS)
    assert kept == resources and all(a is b for a, b in zip(kept, resources, strict=True))


def test_unread_attributes_are_dropped() -> None:
    resources = [
        _bucket(0, {"versioning": [{"enabled": True}]}),
        _bucket(1, {"versioning": [], "tags": {"team": "x"}, "logging": []}),
        _bucket(2, {"tags": {"team": "x"}}),
    ]
    kept = keep_judged_attributes(resources, ROOTS)
    assert kept[0] is resources[0]
    assert dict(kept[1].attributes) == {"versioning": [], "logging": []}
    assert kept[2].attributes is EMPTY_MAPPING
    assert [r.id for r in kept] == [r.id for r in resources]
