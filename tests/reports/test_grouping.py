"""One resource, one row (issue 12): a plan and a state of one address in one project are one
resource with two sources; two projects with the same address stay two resources; sources
that disagree give one row each, with their source."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable

import pytest
from report_helpers import Page

from hds_audit.geo import GeoTables
from hds_audit.model import (
    Evidence,
    Finding,
    Kind,
    PolicyMeta,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports.grouping import (
    ResourceKey,
    blocking_units,
    count_distinct,
    distinct_resources,
    group_findings,
    in_key_order,
    message_key,
    resource_key,
    source_scope,
)
from hds_audit.reports.html_report import render_html
from hds_audit.reports.messages import finding_message
from hds_audit.reports.model import Report

_GEO = GeoTables.default()
PLAN_A = Source(SourceKind.TERRAFORM_PLAN, file="projects/a/plan.json")
STATE_A = Source(SourceKind.TERRAFORM_STATE, file="projects/a/terraform.tfstate")
STATE_B = Source(SourceKind.TERRAFORM_STATE, file="projects/b/terraform.tfstate")


def _bucket(source: Source, region: str = "us-east-1") -> Resource:
    return Resource(
        id="aws_s3_bucket.records",
        provider="aws",
        type="aws_s3_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=_GEO.locate("aws", region),
        source=source,
        replicas=(),
        name="records",
    )


# id, name, category, severity, rationale, remediation
RESIDENCY = PolicyMeta(
    "HDS_RES_001", "In the allowed area", "residency", Severity.CRITICAL, "EXI 28.", "Move it."
)


def _fail(resource: Resource) -> Finding:
    region = resource.location.region
    return Finding(RESIDENCY, resource, Status.FAIL, (Evidence("in_area", False, region),))


@pytest.fixture
def grouped(make_report: Callable[..., Report]) -> Callable[..., Report]:
    """A report of ``resources``, each failing residency, built on the suite's report."""

    def build(*resources: Resource) -> Report:
        base = make_report(errors=False)
        return dataclasses.replace(
            base,
            resources=list(resources),
            findings=[_fail(r) for r in resources],
            policies=[RESIDENCY],
        )

    return build


def test_scope_is_the_project_directory_or_the_account() -> None:
    assert source_scope(PLAN_A) == source_scope(STATE_A) == "projects/a"
    assert source_scope(STATE_B) == "projects/b"
    api = Source(SourceKind.AWS_API, account="111122223333", region="eu-west-3")
    assert source_scope(api) == "aws-api:111122223333"
    assert resource_key(_bucket(PLAN_A)) == ResourceKey("projects/a", "aws_s3_bucket.records")


def test_the_distinct_count_is_the_number_of_distinct_resources() -> None:
    """``count_distinct`` takes a source's records a run at a time: whatever the runs (one
    source, sources interleaved, equal sources that are not one object, one address in two
    projects or two accounts), it counts what ``distinct_resources`` builds."""
    api = Source(SourceKind.AWS_API, account="111122223333", region="eu-west-3")
    other_account = Source(SourceKind.AWS_API, account="444455556666", region="eu-west-3")
    sources = [PLAN_A, STATE_A, STATE_B, dataclasses.replace(STATE_A), api, other_account]
    for seed in range(200):
        rng = random.Random(seed)
        records: list[Resource] = []
        for _ in range(rng.randrange(0, 12)):  # runs of one source, of any length
            source = rng.choice(sources)
            records += [
                dataclasses.replace(_bucket(source), id=f"aws_s3_bucket.b{rng.randrange(5)}")
                for _ in range(rng.randrange(1, 6))
            ]
        assert count_distinct(records) == len(distinct_resources(records)), seed
        assert count_distinct(iter(records)) == len(distinct_resources(records)), seed


def test_plan_and_state_of_one_address_are_one_resource_with_two_sources(
    grouped: Callable[..., Report],
) -> None:
    plan, state = _bucket(PLAN_A), _bucket(STATE_A)
    [item] = distinct_resources([plan, state])
    assert item.sources == (PLAN_A, STATE_A)
    assert len(item.variants()) == 1  # they agree: one row
    [group] = group_findings([_fail(plan), _fail(state)], lambda f: finding_message(f))
    assert group.count == 1 and len(group.findings) == 2
    assert group.members[0].sources == (PLAN_A, STATE_A)
    assert blocking_units([_fail(plan), _fail(state)]) == (1, 1)

    html = render_html(grouped(plan, state))
    page = Page(html)
    residency = page.text("cat-residency")
    assert residency.count("aws_s3_bucket.records") == 1  # one row ...
    assert "projects/a : plan Terraform + état Terraform" in residency  # ... with both sources
    places = page.text("places")
    assert places.count("aws_s3_bucket.records") == 1
    assert "1 ressource stocke des données" in places
    assert "1 problème atteint le seuil d'échec" in page.text("top")


def test_two_projects_with_one_address_stay_two_resources(grouped: Callable[..., Report]) -> None:
    a, b = _bucket(STATE_A), _bucket(STATE_B, region="eu-west-3")
    assert len(distinct_resources([a, b])) == 2
    page = Page(render_html(grouped(a, b)))
    places = page.text("places")
    assert places.count("aws_s3_bucket.records") == 2
    assert "projects/a : état Terraform" in places and "projects/b : état Terraform" in places
    # Each under its own country: the source tells them apart.
    assert (
        places.index("projects/a") < places.index("France (FR) · UE") < places.index("projects/b")
    )
    assert "2 ressources stockent des données" in places


def test_plan_and_state_that_disagree_are_two_rows_with_their_source(
    grouped: Callable[..., Report],
) -> None:
    plan, state = _bucket(PLAN_A, region="us-east-1"), _bucket(STATE_A, region="eu-west-3")
    [item] = distinct_resources([plan, state])
    assert [sources for _, sources in item.variants()] == [(PLAN_A,), (STATE_A,)]
    page = Page(render_html(grouped(plan, state)))
    residency = page.text("cat-residency")
    assert residency.count("aws_s3_bucket.records") == 2
    assert "projects/a : plan Terraform" in residency
    assert "projects/a : état Terraform" in residency
    assert "1 ressource stocke des données" in page.text("places")  # still one resource


def test_reasons_naming_one_key_each_are_one_row() -> None:
    def unknown(i: int) -> Finding:
        resource = dataclasses.replace(_bucket(STATE_A), id=f"aws_s3_bucket.b{i}")
        reason = f"key arn:aws:kms:eu-west-3:1:key/{i:04d} is not among the audited keys"
        return Finding(RESIDENCY, resource, Status.UNKNOWN, (), reason=reason)

    findings = [unknown(i) for i in range(30)]
    keys = {message_key(f, finding_message(f)) for f in findings}
    assert len(keys) == 1
    [group] = group_findings(findings, finding_message)
    assert group.count == 30
    assert re.search(r"key/0000 is not among", group.message)


def test_key_order_is_the_order_of_the_keys() -> None:
    """``in_key_order`` sorts by id then by scope: the same order as comparing the keys,
    including scopes that are prefixes of one another and ids shared across scopes."""
    rng = random.Random(7)
    scopes = ["a", "ab", "a/b", "", "b", "terraform-state:"]
    ids = ["x", "x.y", "module.a.x", "X", "aws_s3_bucket.b[0]", "é"]
    keys = list({ResourceKey(rng.choice(scopes), rng.choice(ids)) for _ in range(200)})
    rng.shuffle(keys)
    items = [(key, index) for index, key in enumerate(keys)]
    assert in_key_order(items, lambda item: item[0]) == sorted(items)
