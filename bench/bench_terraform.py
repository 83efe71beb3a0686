"""Benchmark: parse + evaluate + JSON report on a generated 100,000-resource state.

Generates a raw state v4 of mixed AWS and Azure types in modules five levels deep, then
runs the pipeline in a fresh process and prints resources per second and peak memory (the
process's peak resident set above its size once everything is imported, compared with the
state file's size). A benchmark, not a test: nothing here asserts a time.

Usage: python bench/bench_terraform.py [--resources N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'
AZURE = 'provider["registry.terraform.io/hashicorp/azurerm"]'
RG = "/subscriptions/0000/resourceGroups/rg/providers"
AWS_REGIONS = ["eu-west-3", "eu-west-3", "eu-central-1", "eu-west-1", "us-east-1"]
AZURE_REGIONS = ["francecentral", "francecentral", "westeurope", "uksouth", "italynorth"]


def _module(i: int) -> str:
    parts = [f"module.l{depth}_{(i >> (2 * depth)) % 4}" for depth in range(5)]
    return ".".join(parts)


def _tags(i: int) -> dict[str, str]:
    return {"Name": f"records-{i}"}


def _instance(kind: int, i: int, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    region = AWS_REGIONS[i % len(AWS_REGIONS)]
    account = "111122223333"
    if kind == 0:
        name = f"records-{i}"
        return (
            "aws_s3_bucket",
            AWS,
            {
                "id": name,
                "bucket": name,
                "arn": f"arn:aws:s3:::{name}",
                "region": region,
                "force_destroy": False,
                "tags": _tags(i),
            },
        )
    if kind == 1:
        return (
            "aws_ebs_volume",
            AWS,
            {
                "id": f"vol-{i:017x}",
                "arn": f"arn:aws:ec2:{region}:{account}:volume/vol-{i:017x}",
                "availability_zone": f"{region}a",
                "encrypted": rng.random() > 0.1,
                "size": 100,
                "kms_key_id": f"arn:aws:kms:{region}:{account}:key/{i:08x}-0000-4000-8000-0",
                "tags": _tags(i),
            },
        )
    if kind == 2:
        return (
            "aws_db_instance",
            AWS,
            {
                "id": f"db-{i}",
                "arn": f"arn:aws:rds:{region}:{account}:db:records-{i}",
                "identifier": f"records-{i}",
                "engine": "postgres",
                "storage_encrypted": True,
                "kms_key_id": "",
                "password": f"bench-secret-{i}",
                "multi_az": True,
                "tags": _tags(i),
            },
        )
    if kind == 3:
        location = AZURE_REGIONS[i % len(AZURE_REGIONS)]
        return (
            "azurerm_storage_account",
            AZURE,
            {
                "id": f"{RG}/Microsoft.Storage/storageAccounts/sa{i}",
                "name": f"sa{i}",
                "location": location,
                "account_replication_type": "GRS" if i % 3 else "LRS",
                "primary_access_key": f"bench-key-{i}",
                "tags": _tags(i),
            },
        )
    if kind == 4:
        location = AZURE_REGIONS[i % len(AZURE_REGIONS)]
        return (
            "azurerm_managed_disk",
            AZURE,
            {
                "id": f"{RG}/Microsoft.Compute/disks/d{i}",
                "name": f"d{i}",
                "location": location,
                "disk_encryption_set_id": "" if i % 2 else f"/des/{i}",
                "tags": _tags(i),
            },
        )
    if kind == 5:
        return (
            "aws_dynamodb_table",
            AWS,
            {
                "id": f"t{i}",
                "arn": f"arn:aws:dynamodb:{region}:{account}:table/t{i}",
                "name": f"t{i}",
                "server_side_encryption": [{"enabled": True, "kms_key_arn": ""}],
                "replica": [{"region_name": "eu-central-1"}] if i % 2 else [],
                "tags": _tags(i),
            },
        )
    return (
        "aws_subnet",
        AWS,
        {
            "id": f"subnet-{i:017x}",
            "arn": f"arn:aws:ec2:{region}:{account}:subnet/subnet-{i:017x}",
            "cidr_block": f"10.{i % 256}.{(i // 256) % 256}.0/24",
            "availability_zone": f"{region}b",
            "tags": _tags(i),
        },
    )


def _resources(count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(42)
    for i in range(count):
        rtype, provider, attributes = _instance(i % 7, i, rng)
        yield {
            "module": _module(i),
            "mode": "managed",
            "type": rtype,
            "name": f"r{i}",
            "provider": provider,
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": attributes,
                    "sensitive_attributes": [],
                }
            ],
        }


def generate(path: Path, count: int) -> None:
    """Write a raw state v4 with ``count`` resources, streaming (one resource per line)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"version": 4, "terraform_version": "1.11.4", "serial": 1, ')
        out.write('"lineage": "bench", "outputs": {}, "resources": [\n')
        for n, item in enumerate(_resources(count)):
            out.write((",\n" if n else "") + json.dumps(item))
        out.write('\n], "check_results": null}\n')


_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from hds_audit._gc import paused_gc
from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.engine import builtin_policies
from hds_audit.geo import AllowedArea, GeoTables
from hds_audit.reports.json_report import write_json
from hds_audit.scan import ScanOptions, run_scan
geo = GeoTables.default(); builtin_policies(); AllowedArea.parse("eu")
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
state, out = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
report = run_scan(ScanOptions(collectors=[TerraformCollector((state,))]), geo=geo)
t1 = time.perf_counter()
with paused_gc():
    write_json(report, out)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"resources": len(report.resources), "findings": len(report.findings),
    "errors": len(report.errors), "scan": t1 - t0, "report": t2 - t1,
    "baseline_kib": baseline, "peak_kib": peak}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hds-audit-bench-"))
    state = workdir / "bench.tfstate"
    t0 = time.perf_counter()
    generate(state, args.resources)
    size = state.stat().st_size
    print(
        f"generated {args.resources:,} resources in {time.perf_counter() - t0:.1f}s: "
        f"{size / 1e6:.1f} MB ({state})"
    )
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(state), str(workdir / "report.json")],
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(child.stdout.strip().splitlines()[-1])
    total = data["scan"] + data["report"]
    peak_bytes = (data["peak_kib"] - data["baseline_kib"]) * 1024
    cores = os.cpu_count()
    print(
        f"machine: {cores} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    )
    print(
        f"resources normalised: {data['resources']:,}  findings: {data['findings']:,}  "
        f"errors: {data['errors']}"
    )
    print(
        f"parse+normalise+evaluate {data['scan']:.2f}s | JSON report {data['report']:.2f}s | "
        f"total {total:.2f}s"
    )
    print(f"throughput: {data['resources'] / total:,.0f} resources/s (target: 100,000 in < 5 s)")
    print(
        f"peak memory above baseline: {peak_bytes / 1e6:.0f} MB = {peak_bytes / size:.2f}x "
        f"the state file (target: < 4x); report.json "
        f"{(workdir / 'report.json').stat().st_size / 1e6:.0f} MB"
    )
    if not args.keep:
        for file in workdir.iterdir():
            file.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
