"""The HTML report stays a document of bounded size on a large estate (issue 12).

A generated 30,000-resource Terraform state (buckets, volumes, databases in five regions, one
of them outside the EU) is scanned as a user would; the HTML report must stay under 10 MB
while report.json keeps every finding. A size bound, not a timing.
"""

from __future__ import annotations

import json
from pathlib import Path

from hds_audit.testing import Spec, run_cli, state_document, write_json

RESOURCES = 30_000
MAX_HTML_BYTES = 10 * 1000 * 1000
REGIONS = ("eu-west-3", "eu-west-3", "eu-central-1", "eu-west-1", "us-east-1")
ACCOUNT = "111122223333"


def _spec(i: int) -> Spec:
    region = REGIONS[i % len(REGIONS)]
    kind = i % 3
    if kind == 0:
        name = f"records-{i}"
        return Spec(
            "aws_s3_bucket",
            f"b{i}",
            {"id": name, "bucket": name, "arn": f"arn:aws:s3:::{name}", "region": region},
        )
    if kind == 1:
        return Spec(
            "aws_ebs_volume",
            f"v{i}",
            {
                "id": f"vol-{i:017x}",
                "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:volume/vol-{i:017x}",
                "availability_zone": f"{region}a",
                "encrypted": i % 10 != 1,
                "size": 100,
            },
        )
    return Spec(
        "aws_db_instance",
        f"d{i}",
        {
            "id": f"db-{i}",
            "arn": f"arn:aws:rds:{region}:{ACCOUNT}:db:records-{i}",
            "identifier": f"records-{i}",
            "engine": "postgres",
            "storage_encrypted": True,
            "kms_key_id": f"arn:aws:kms:{region}:{ACCOUNT}:key/{i:08x}-0000-4000-8000-000000000000",
        },
    )


def large_state(path: Path, count: int = RESOURCES) -> Path:
    """A state v4 of ``count`` data resources (a third each bucket, volume, database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json(path, state_document(_spec(i) for i in range(count)))


def test_html_of_a_30000_resource_state_stays_under_10_mb(tmp_path: Path) -> None:
    state = large_state(tmp_path / "large" / "terraform.tfstate")
    out = tmp_path / "out"
    result = run_cli(
        [
            "scan",
            str(state),
            "--format",
            "json,html",
            "--audit-date",
            "2026-12-01",
            "--no-history",
            "--quiet",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 1, result.output  # us-east-1 resources fail residency
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(report["resources"]) == RESOURCES
    size = (out / "report.html").stat().st_size
    assert size <= MAX_HTML_BYTES, f"report.html is {size:,} bytes for {RESOURCES:,} resources"
    html = (out / "report.html").read_text(encoding="utf-8")
    # Every failing resource stays countable on the page, and the rest is pointed to.
    assert "report.json" in html and "report.csv" in html
