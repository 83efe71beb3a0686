"""What the normaliser works out once and shares (per type and provider, per region, per join)
never mixes two providers' facts, and never hides a value the join would have refused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from hds_audit.collectors.terraform import collect_terraform
from hds_audit.geo import GeoTables
from hds_audit.model import Resource
from hds_audit.testing import Spec, state_document


def _collect(tmp_path: Path, geo: GeoTables, document: dict[str, Any]) -> list[Resource]:
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    assert collection.errors == []
    return collection.resources


def test_one_type_under_two_providers_is_located_by_each(tmp_path: Path, geo: GeoTables) -> None:
    document = state_document(
        [
            Spec("aws_vpc", "main", {"id": "vpc-1", "region": "eu-west-3"}),
            Spec("aws_vpc", "compat", {"id": "vpc-2", "region": "eu-west-3"}),
            Spec("linode_instance", "web", {"id": "1", "region": "eu-west-3"}),
        ]
    )
    # The same type, declared by another provider (a fork publishing aws_* types).
    document["resources"][1]["provider"] = 'provider["registry.terraform.io/acme/awscompat"]'
    found = {r.id: r for r in _collect(tmp_path, geo, document)}
    main, compat, linode = (
        found["aws_vpc.main"],
        found["aws_vpc.compat"],
        found["linode_instance.web"],
    )
    assert (main.provider, main.location.country) == ("aws", "FR")
    assert (compat.provider, compat.location.provider) == ("awscompat", "awscompat")
    assert compat.location.country is None
    assert (linode.provider, linode.location.provider, linode.location.country) == (
        "linode",
        "linode",
        None,
    )


def test_regions_of_one_type_are_not_mixed(tmp_path: Path, geo: GeoTables) -> None:
    specs = [
        Spec("aws_vpc", f"v{i}", {"id": f"vpc-{i}", "region": region})
        for i, region in enumerate(["eu-west-3", "us-east-1", "eu-west-3", "eu-central-1"])
    ]
    found = {r.id: r.location for r in _collect(tmp_path, geo, state_document(specs))}
    assert [found[f"aws_vpc.v{i}"].country for i in range(4)] == ["FR", "US", "FR", "DE"]


def test_replicas_in_one_region_keep_their_own_target(tmp_path: Path, geo: GeoTables) -> None:
    tables = [
        Spec(
            "aws_dynamodb_table",
            name,
            {
                "id": name,
                "arn": f"arn:aws:dynamodb:eu-west-3:1:table/{name}",
                "name": name,
                "replica": [{"region_name": region}],
            },
        )
        for name, region in (("a", "eu-central-1"), ("b", "us-east-1"), ("c", "eu-central-1"))
    ]
    found = {r.id: r for r in _collect(tmp_path, geo, state_document(tables))}
    replicas = {name: found[f"aws_dynamodb_table.{name}"].replicas for name in "abc"}
    assert replicas["a"] == replicas["c"]
    assert replicas["a"] is not None and replicas["b"] is not None
    assert [(r.target, r.location.country) for r in replicas["a"]] == [("eu-central-1", "DE")]
    assert [(r.target, r.location.country) for r in replicas["b"]] == [("us-east-1", "US")]


def test_a_join_skipped_for_want_of_partners_still_refuses_a_list_id(
    tmp_path: Path, geo: GeoTables
) -> None:
    # No instance could be a read replica of this database, so no join is looked up; its
    # identifiers are still checked as the join would have (a list is no identifier).
    document = state_document(
        [Spec("aws_db_instance", "records", {"arn": ["not", "an", "arn"], "identifier": "db"})]
    )
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(document), encoding="utf-8")
    collection = collect_terraform([str(path)], geo)
    assert collection.resources == []
    assert [e.message for e in collection.errors] == [
        "has an unexpected shape: a value is not of the type expected (TypeError)"
    ]


def test_resources_built_by_the_normaliser_are_whole_resources(
    tmp_path: Path, geo: GeoTables
) -> None:
    """The normaliser builds resources through a writable twin of ``Resource``: each one must
    have every field set and equal the same resource built by the dataclass itself."""
    document = state_document(
        [
            Spec("aws_s3_bucket", "records", {"id": "records", "bucket": "records"}),
            Spec("aws_subnet", "a", {"id": "subnet-1", "availability_zone": "eu-west-3a"}),
            Spec("aws_ebs_volume", "v", {"id": "vol-1", "availability_zone": "us-east-1a"}),
        ]
    )
    resources = _collect(tmp_path, geo, document)
    assert len(resources) == 3
    for resource in resources:
        assert type(resource) is Resource
        values = {f.name: getattr(resource, f.name) for f in dataclasses.fields(Resource)}
        rebuilt = Resource(**values)
        assert rebuilt == resource
        assert repr(rebuilt) == repr(resource)
