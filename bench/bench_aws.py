"""Benchmark: the AWS collector against the moto server with 50 ms added to every call.

Plants 2,000 resources over 6 regions and 3 accounts of one organisation (real boto3 calls,
straight to moto), then scans them through a second moto listener that adds the latency at
its HTTP boundary, before the application answers: once with the default pool, once with
one worker. Prints wall time, API calls per resource, CPU used and the speed-up. moto runs
in a child process so the collector does not share its interpreter lock. A benchmark, not a
test: nothing asserts.

Usage: python bench/bench_aws.py [--resources 2000] [--latency 0.05] [--workers 16]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REGIONS = ["eu-west-3", "eu-central-1", "eu-west-1", "eu-north-1", "eu-south-1", "us-east-1"]
ORG_ROLE = "OrganizationAccountAccessRole"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "AWS_CONFIG_FILE": "/nonexistent/hds-audit-bench",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/hds-audit-bench",
}

SERVER = textwrap.dedent(
    """
    import logging, sys
    from hds_audit.collectors.aws.testing import LatencyMoto
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    # moto does not implement EFS replication listing: answer it as AWS would, empty
    canned = {"replication-configurations": {"Replications": []}}
    plain = LatencyMoto(0.0, canned).start()
    slow = LatencyMoto(float(sys.argv[1]), canned).start()
    print(plain.url, slow.url, flush=True)
    sys.stdin.read()
    """
)

# per (account, region): 111 resources; 18 scopes -> 1,998 (+2 trails -> 2,000)
MIX = {
    "volumes": 46,
    "snapshots": 20,
    "buckets": 10,
    "tables": 15,
    "databases": 4,
    "keys": 6,
    "queues": 10,
}


def _session(url: str, account: str | None) -> Any:
    import boto3

    base = boto3.session.Session(region_name="us-east-1")
    if account is None:
        return base
    creds = base.client("sts", endpoint_url=url).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName="bench"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _plant_scope(url: str, session: Any, account: str, region: str, mix: dict[str, int]) -> int:
    def client(name: str) -> Any:
        return session.client(name, region_name=region, endpoint_url=url)

    kms, ec2, s3 = client("kms"), client("ec2"), client("s3")
    keys = [kms.create_key(Description=f"k{i}")["KeyMetadata"]["Arn"] for i in range(mix["keys"])]
    volumes = [
        ec2.create_volume(
            AvailabilityZone=f"{region}a", Size=8, Encrypted=True, KmsKeyId=keys[i % len(keys)]
        )["VolumeId"]
        for i in range(mix["volumes"])
    ]
    for i in range(mix["snapshots"]):
        ec2.create_snapshot(VolumeId=volumes[i])
    for i in range(mix["buckets"]):
        name = f"b-{account}-{region}-{i}"
        config = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=name, **config)
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": keys[i % len(keys)],
                        }
                    }
                ]
            },
        )
    ddb = client("dynamodb")
    for i in range(mix["tables"]):
        ddb.create_table(
            TableName=f"t{i}",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": keys[0]},
        )
    rds = client("rds")
    for i in range(mix["databases"]):
        rds.create_db_instance(
            DBInstanceIdentifier=f"db{i}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="bench-pass-123",
            StorageEncrypted=True,
            KmsKeyId=keys[1 % len(keys)],
        )
    sqs = client("sqs")
    for i in range(mix["queues"]):
        sqs.create_queue(QueueName=f"q{i}", tags={"app": "records"})
    return sum(mix.values())


def plant(url: str, resources: int) -> tuple[list[str], int]:
    import boto3

    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"m{i}@example.org", AccountName=f"m{i}")["CreateAccountStatus"][
            "AccountId"
        ]
        for i in range(2)
    ]
    accounts: list[str | None] = [None, *members]
    scale = resources / (18 * sum(MIX.values()))
    mix = {k: max(1, round(v * scale)) for k, v in MIX.items()}
    sessions = {a: _session(url, a) for a in accounts}
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(_plant_scope, url, sessions[a], a or "mgmt", r, mix)
            for a in accounts
            for r in REGIONS
        ]
        planted = sum(f.result() for f in futures)
    ct = boto3.client("cloudtrail", region_name="eu-west-3", endpoint_url=url)
    s3 = boto3.client("s3", region_name="eu-west-3", endpoint_url=url)
    s3.create_bucket(
        Bucket="bench-trails", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    planted += 1
    for i in range(max(0, resources - planted)):
        ct.create_trail(Name=f"trail{i}", S3BucketName="bench-trails")
        planted += 1
    return list(members), planted


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(url: str, workers: int) -> tuple[float, int, int, Counter[str], int]:
    from hds_audit.collectors.aws import AwsCollector, AwsSettings
    from hds_audit.collectors.aws.session import CallRecord
    from hds_audit.geo import GeoTables

    calls: list[CallRecord] = []
    settings = AwsSettings(
        regions=tuple(REGIONS), org_role=ORG_ROLE, endpoint_url=url, max_workers=workers
    )
    collector = AwsCollector(settings, observer=calls.append)
    geo = GeoTables.default()
    started = time.perf_counter()
    collection = collector.collect(geo)
    elapsed = time.perf_counter() - started
    by_operation = Counter(c.operation for c in calls)
    return elapsed, len(collection.resources), len(calls), by_operation, len(collection.errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    os.environ.update(ENV)
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert child.stdout is not None
        urls = child.stdout.readline().split()
        if len(urls) != 2:
            raise SystemExit("bench_aws: the moto server did not start (see above)")
        moto_url, slow_url = urls
        started = time.perf_counter()
        _members, planted = plant(moto_url, args.resources)
        print(
            f"planted {planted} resources in 3 accounts x {len(REGIONS)} regions "
            f"({time.perf_counter() - started:.1f} s, straight to moto)"
        )
        print(f"latency added at the HTTP boundary: {args.latency * 1000:.0f} ms per call")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} cores, load average before the scans {load}")
        # moto builds each (account, region, service) backend on first use: an untimed
        # warm-up scan pays that once, so neither timed run is charged for it.
        warm = scan(slow_url, args.workers)
        print(f"warm-up scan (untimed for the comparison): {warm[0]:.1f} s")
        results = {}
        for workers in (args.workers, 1):
            cpu = (_cpu(os.getpid()), _cpu(child.pid))
            elapsed, found, calls, by_operation, errors = scan(slow_url, workers)
            cpu = (_cpu(os.getpid()) - cpu[0], _cpu(child.pid) - cpu[1])
            results[workers] = elapsed
            scopes = 3 * len(REGIONS)
            fixed = sum(n for op, n in by_operation.items() if op in _FIXED)
            print(
                f"workers={workers:3d}: {elapsed:6.1f} s wall, {found} resources, {calls} API "
                f"calls = {calls / max(found, 1):.2f} per resource "
                f"({fixed / scopes:.1f} fixed per account-region + "
                f"{(calls - fixed) / max(found, 1):.2f} per resource), {errors} errors; "
                f"CPU: collector {cpu[0]:.1f} s, moto {cpu[1]:.1f} s"
            )
            print(f"  CPU per resource (collector): {cpu[0] / max(found, 1) * 1000:.2f} ms")
        print(
            f"speed-up over one worker: {results[1] / results[args.workers]:.1f}x "
            f"(target: >= 6x; calls per resource target: <= 3 + a fixed cost per region)"
        )
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)


# List and context calls: paid once per (account, region) (or per account) whatever the estate.
_FIXED = {
    "GetCallerIdentity",
    "AssumeRole",
    "ListAccounts",
    "DescribeRegions",
    "ListBuckets",
    "GetEbsEncryptionByDefault",
    "DescribeVolumes",
    "DescribeSnapshots",
    "DescribeInstances",
    "DescribeGlobalClusters",
    "DescribeDBInstances",
    "DescribeDBClusters",
    "ListTables",
    "DescribeReplicationConfigurations",
    "DescribeFileSystems",
    "ListKeys",
    "ListBackupVaults",
    "ListBackupPlans",
    "DescribeTrails",
    "GetResources",
}

if __name__ == "__main__":
    main()
