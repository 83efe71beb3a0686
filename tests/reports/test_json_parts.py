"""report.json's resource and finding lines, built from cached parts, are the reference
encoding of ``resource_dict`` / ``finding_dict`` for every shape a resource or a finding
can take: odd values, shared and reused objects, host-level findings, baseline states.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator

from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import Msg, to_data
from hds_audit.model import (
    Covered,
    Encryption,
    Evidence,
    Finding,
    KeyOwner,
    Kind,
    PolicyMeta,
    Replica,
    Resource,
    Severity,
    Source,
    SourceKind,
    Status,
)
from hds_audit.reports import json_lines
from hds_audit.reports.json_report import finding_dict, resource_dict
from hds_audit.reports.strict_json import strict_encoder

ENCODE = strict_encoder()  # what report.json wrote before the cached parts: the reference
GEO = GeoTables.default()
PARIS = GEO.locate("aws", "eu-west-3")
STATE = Source(SourceKind.TERRAFORM_STATE, file="states/prod.tfstate")
LIVE = Source(SourceKind.AWS_API, account="111122223333", region="eu-west-3")


def _resource(n: int, **fields: object) -> Resource:
    values: dict[str, object] = {
        "id": f"aws_ebs_volume.v{n}",
        "provider": "aws",
        "type": "aws_ebs_volume",
        "kind": Kind.BLOCK_STORAGE,
        "location": PARIS,
        "source": STATE,
        "name": f"volume-{n}",
    }
    values.update(fields)
    return Resource(**values)  # type: ignore[arg-type]


def _resource_lines(resources: object) -> list[str]:
    return [line for batch in json_lines.resource_lines(resources) for line in batch]  # type: ignore[arg-type]


def test_every_shape_of_resource_is_its_reference_line() -> None:
    nowhere = Location("aws", None, None, None, None, non_regional=True)
    resources = [
        _resource(0),
        _resource(1, encryption=Encryption(True, KeyOwner.CUSTOMER, "arn:aws:kms:k/1")),
        _resource(2, encryption=Encryption(None), replicas=None, location=nowhere),
        _resource(
            3,
            replicas=(
                Replica("replication", GEO.locate("aws", "us-east-1"), "arn:aws:s3:::dr"),
                Replica("backup", PARIS),
            ),
        ),
        _resource(4, unknowns={"encryption.at_rest": "known after apply"}),
        _resource(5, unknowns={"a": "x", "b": Msg("area.non_regional")}, notes={"n": "why"}),
        _resource(6, unknowns={"size": 7, "ratio": math.inf, "when": None}),  # not texts
        _resource(7, source=LIVE, name='quote " backslash \\ \x1b é ’ 😀'),
        _resource(8, id="", name=None),  # no address for an empty id
        _resource(9, source=Source(SourceKind.REGISTRY), holds_data=False),
        _resource(10, encryption=Encryption(math.nan, None, None)),  # type: ignore[arg-type]
    ]
    assert _resource_lines(resources) == [ENCODE(resource_dict(r)) for r in resources]


def test_one_is_written_one_though_it_equals_true() -> None:
    # A badly typed flag: 1 == True and hash(1) == hash(True), but JSON writes them apart.
    resources = [
        _resource(0, holds_data=True, encryption=Encryption(True)),
        _resource(1, holds_data=1, encryption=Encryption(1)),  # type: ignore[arg-type]
        _resource(2, location=Location("aws", "eu-west-3", "FR", 1, 1)),  # type: ignore[arg-type]
    ]
    lines = _resource_lines(resources)
    assert lines == [ENCODE(resource_dict(r)) for r in resources]
    assert '"stores_data": 1,' in lines[1] and '"at_rest": 1,' in lines[1]


def test_an_object_freed_and_its_address_reused_is_encoded_anew() -> None:
    # Resources made one at a time and dropped after their line: a new encryption object
    # may take the address of the previous one, yet it is encoded from its own values.
    def lazily() -> Iterator[Resource]:
        for n in range(3000):
            yield _resource(n, encryption=Encryption(True, None, f"arn:aws:kms:k/{n}"))

    lines = _resource_lines(lazily())
    assert lines == [ENCODE(resource_dict(r)) for r in lazily()]


def test_shared_objects_past_the_cache_size_keep_their_own_text() -> None:
    count = json_lines.CACHE_SIZE + 100
    locations = [Location("aws", f"region-{n}", "FR", True, True) for n in range(count)]
    resources = [_resource(n, location=locations[n % count]) for n in range(2 * count)]
    assert _resource_lines(resources) == [ENCODE(resource_dict(r)) for r in resources]


POLICY = PolicyMeta(
    "HDS_CERT_001", "Host is certified", "certified_provider", Severity.HIGH, "", ""
)
OTHER = PolicyMeta(
    "HDS_CERT_002", "Host scope covered", "certified_provider", Severity.INFO, "", ""
)


def _host(name: str, covers: tuple[Covered, ...], policy: PolicyMeta = POLICY) -> Finding:
    subject = Resource(
        id=f"hds-host:{name}",
        provider=name,
        type="hds_host_scope",
        kind=Kind.OTHER,
        location=PARIS,
        source=Source(SourceKind.REGISTRY),
        name=Msg("host.regions_unpublished", source="S03") if name == "aws" else name,
    )
    evidence = (Evidence("host.certified", None, "no certificate found", unknown=True),)
    return Finding(policy, subject, Status.UNKNOWN, evidence, "not found", covers)


def _refuse(constant: str) -> None:
    raise ValueError(constant)


def _parsed(lines: list[str]) -> list[object]:
    """Finding lines as data (a line's keys come in the report's order, not the dict's)."""
    return [json.loads(line, parse_constant=_refuse) for line in lines]


def _lines(findings: list[Finding], state: object = None) -> list[str]:
    stream = io.StringIO()
    wrote = json_lines.FindingLines(state).write(stream, findings)  # type: ignore[arg-type]
    text = stream.getvalue()
    assert wrote == bool(findings)
    assert text.startswith("\n") or not findings
    return [line.removesuffix(",") for line in text[1:].split("\n")] if findings else []


def test_host_level_lines_written_in_pieces_are_the_reference() -> None:
    covers = tuple(Covered(f"aws_s3_bucket.b{n}", f"project-{n % 3}") for n in range(2500))
    equal = tuple(Covered(c.id, c.project) for c in covers)  # the same, as other objects
    fewer = covers[:1000]
    volume = _resource(1)
    findings = [
        Finding(POLICY, volume, Status.PASS, (Evidence("encryption.at_rest", True),)),
        _host("aws", covers),
        _host("aws", equal, OTHER),
        Finding(POLICY, volume, Status.FAIL, (Evidence("encryption.at_rest", False),)),
        _host("azure", fewer),
        _host("azure", ()),
        _host("odd", (Covered(7, "p"), Covered("x", None))),  # type: ignore[arg-type]
    ]
    piece = json_lines.HOST_PIECE  # one project throughout: its text repeated, in pieces
    for count in (1, piece, 2 * piece + 5):
        findings.append(_host("one", tuple(Covered(f"b{n}", "./é") for n in range(count))))
    expected = _parsed([ENCODE(finding_dict(f)) for f in findings])
    assert _parsed(_lines(findings)) == expected
    assert expected[1]["covers"]["count"] == 2500  # type: ignore[index]


def test_baseline_states_close_every_kind_of_line() -> None:
    covers = (Covered("aws_s3_bucket.b", "."),)
    volume = _resource(1)
    findings = [
        Finding(POLICY, volume, Status.FAIL, (Evidence("encryption.at_rest", False),)),
        _host("aws", covers),
        Finding(OTHER, volume, Status.PASS, (Evidence("encryption.at_rest", True),)),
    ]

    def state(finding: Finding) -> str:
        return "new" if finding.status is Status.FAIL else "unchanged"

    expected = [ENCODE(finding_dict(f, state(f))) for f in findings]
    assert _parsed(_lines(findings, state)) == _parsed(expected)


def test_no_findings_write_nothing() -> None:
    assert _lines([]) == []


def test_the_message_table_is_its_reference_encoding_in_any_number_of_pieces() -> None:
    for count in (0, 1, 999, 1000, 2501):
        table = json_lines.MessageTable()
        messages = [Msg("collect.key_not_audited", key=f"k{n}-é") for n in range(count)]
        for message in [*messages, *messages[:3], "not a message"]:
            table.add(message)
        stream = io.StringIO()
        table.write(stream)
        expected = {str(m): to_data(m) for m in messages}
        assert stream.getvalue() == json.dumps(expected, ensure_ascii=False)
