"""``load_report``: a report.json read back into the model writes the same report.json."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from merge_helpers import (
    ALL_FILES,
    AUDIT_DATE,
    FIXTURES,
    RECORDS_STATE,
    changed,
    read,
    scan,
    tenant_resource,
    with_tenant,
    write,
)

from hds_audit.attestations import load_attestations
from hds_audit.errors import InputError
from hds_audit.frameworks import builtin_frameworks
from hds_audit.geo import GeoTables
from hds_audit.model import (
    CollectionError,
    Encryption,
    Evidence,
    Finding,
    Kind,
    Replica,
    Resource,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports.html_report import write_html
from hds_audit.reports.json_report import write_json
from hds_audit.reports.loader import load_report
from hds_audit.reports.model import Report
from hds_audit.sharding import Shard

GEO = GeoTables.default()


def _round_trip(report: Report, tmp_path: Path, **loader: Any) -> tuple[Any, Any, Report]:
    first = write_json(report, tmp_path / "first.json")
    loaded = load_report(first, **loader)
    second = write_json(loaded, tmp_path / "second.json")
    return read(first), read(second), loaded


def test_a_scan_round_trips_to_the_same_report_json(tmp_path: Path) -> None:
    """The whole report.json is the same, nothing excluded.

    What a report.json cannot carry is not compared because a plain scan has none of it:
    the baseline comparison (``--baseline``), the waivers outcome (``--waivers``) and the
    history drift; raw resource attributes and evidence flags are not written at all.
    """
    report = scan(ALL_FILES, shard=Shard(2, 7))
    before, after, loaded = _round_trip(report, tmp_path)
    assert after == before
    assert before["errors"] and before["resources"] and before["findings"]  # all exercised
    assert loaded.run.shard == Shard(2, 7)
    assert loaded.run.policy_digest == report.run.policy_digest
    assert loaded.exit_code == report.exit_code == 2

    # The model, not only its JSON: the same resources but for their raw attributes (never
    # written) and the provider of a location with no infrastructure (Terraform's own
    # resources: "terraform" in the scan, the resource's provider when read back).
    def comparable(resource: Resource) -> Resource:
        location = resource.location
        if location.non_regional and location.region is None:
            location = replace(location, provider="")
        return replace(resource, attributes={}, location=location)

    assert list(map(comparable, loaded.resources)) == list(map(comparable, report.resources))
    assert [(f.policy.id, f.resource.id, f.status) for f in loaded.findings] == [
        (f.policy.id, f.resource.id, f.status) for f in report.findings
    ]


def test_cloud_resources_multi_regions_and_french_texts_survive(tmp_path: Path) -> None:
    """An AWS backup plan that holds no data, a GCP multi-region, an unknown region, an error
    with its unknown findings, a mapping as evidence and the policies' French texts."""
    base = with_tenant(scan([RECORDS_STATE]))
    plan = Resource(
        id="arn:aws:backup:eu-west-3:123456789012:backup-plan:p",
        provider="aws",
        type="aws_backup_plan",
        kind=Kind.BACKUP,
        location=GEO.locate("aws", "eu-west-3"),
        source=Source(SourceKind.AWS_API, account="123456789012", region="eu-west-3"),
        holds_data=False,
        replicas=(Replica("backup_copy", GEO.locate("aws", "us-east-1"), "arn:vault"),),
    )
    bucket = Resource(
        id="projects/p/buckets/eu-data",
        provider="gcp",
        type="google_storage_bucket",
        kind=Kind.OBJECT_STORAGE,
        location=GEO.locate("gcp", "EU"),
        source=Source(SourceKind.TERRAFORM_STATE, file="gcp.tfstate"),
        encryption=Encryption(at_rest=True),
        replicas=None,
        unknowns={"encryption.key_owner": "not in the state"},
    )
    lost = Resource(
        id="aws_ebs_volume.lost",
        provider="aws",
        type="aws_ebs_volume",
        kind=Kind.BLOCK_STORAGE,
        location=GEO.locate("aws", "mars-1"),
        source=Source(SourceKind.TERRAFORM_PLAN, file="plan.json"),
    )
    policy = base.policies[0]
    error = CollectionError(
        "aws:123456789012",
        "aws:123456789012/eu-west-1/s3",
        "AccessDenied",
        kind="access_denied",
        details={"provider": "aws", "source_kind": "aws-api", "account": "123456789012"},
    )
    from hds_audit.engine.evaluate import scope_placeholder

    hidden = scope_placeholder(error, GEO)
    report = changed(
        base,
        resources=[*base.resources, plan, bucket, lost],
        findings=[
            *base.findings,
            Finding(policy, plan, Status.PASS, (Evidence("region", "eu-west-3"),)),
            Finding(policy, bucket, Status.UNKNOWN, (Evidence("x", [1, {"a": None}]),), "why"),
            Finding(policy, lost, Status.UNKNOWN, (Evidence("region", None, "unknown"),)),
            Finding(policy, hidden, Status.UNKNOWN, (), "not audited: AccessDenied"),
        ],
        errors=[*base.errors, error],
    )
    before, after, loaded = _round_trip(report, tmp_path)
    assert after == before
    by_id = {r.id: r for r in loaded.resources}
    assert by_id[plan.id].stores_data is False and by_id[plan.id].holds_data is False
    assert by_id[bucket.id].location == bucket.location  # members and name from the tables
    assert by_id[bucket.id].location.members
    assert by_id[tenant_resource().id].source == tenant_resource().source
    placeholder = next(f.resource for f in loaded.findings if f.resource.id == error.scope)
    assert placeholder == hidden  # provider and source kind of the scope, as the scan made it
    html = write_html(loaded, tmp_path / "report.html", "fr")
    french = policy.translations["fr"]["name"]
    assert french != policy.name
    assert str(escape(french)) in html.read_text(encoding="utf-8")


def test_compliance_round_trips_with_the_attestations_given(tmp_path: Path) -> None:
    """Attestations are not in report.json: given again, the compliance section is the same."""
    attestations = load_attestations(
        str(FIXTURES / "attestations.yaml"), list(builtin_frameworks())
    )
    from hds_audit.collectors.terraform import TerraformCollector
    from hds_audit.scan import ScanOptions, run_scan

    options = ScanOptions(
        collectors=[TerraformCollector((str(RECORDS_STATE),))],
        audit_date=AUDIT_DATE,
        attestations=attestations,
    )
    report = run_scan(options)
    before, after, _ = _round_trip(report, tmp_path, attestations=attestations)
    assert after == before
    assert before["compliance"]["attestations_file"]
    _, without, _ = _round_trip(report, tmp_path)
    assert without["compliance"] != before["compliance"]  # the check can fail


def _corrupt(tmp_path: Path, change: Any) -> Path:
    folder = write(scan([RECORDS_STATE]), tmp_path / "r")
    file = folder / "report.json"
    data = read(file)
    change(data)
    file.write_text(json.dumps(data), encoding="utf-8")
    return file


def _set(path: str, value: Any) -> Any:
    def change(data: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]
        if value is _DELETE:
            del data[last]
        else:
            data[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_set("schema_version", "2.0"), "schema_version '2.0'; this hds-audit reads 1.x"),
        (_set("findings", _DELETE), "has no 'findings'"),
        (_set("run.started_at", _DELETE), "run has no 'started_at'"),
        (_set("findings.3.status", "maybe"), "finding 3: 'maybe' is not a valid Status"),
        (_set("resources.0.kind", "planet"), "resource 0: 'planet' is not a valid Kind"),
        (_set("findings.0.evidence", _DELETE), "finding 0: missing 'evidence'"),
        (_set("run.shard", {"index": 4, "count": 3}), "shard 4/3 is not a slice"),
    ],
)
def test_a_broken_report_is_one_line_naming_the_file(
    tmp_path: Path, change: Any, problem: str
) -> None:
    file = _corrupt(tmp_path, change)
    with pytest.raises(InputError) as caught:
        load_report(file)
    message = str(caught.value)
    assert message.startswith(str(file)), message
    assert problem in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "report not found"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"schema_version": 1}', "schema_version 1; this hds-audit reads 1.x"),
    ],
)
def test_an_unreadable_file_is_an_input_error(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    file = tmp_path / "report.json"
    if content is not None:
        file.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_report(file)
    assert str(file) in str(caught.value) and problem in str(caught.value)
    assert caught.value.exit_code == 2
