"""A planted AWS estate, built with real boto3 calls against the moto server."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3

MANAGEMENT = "123456789012"
ORG_ROLE = "OrganizationAccountAccessRole"


def reset_moto(url: str) -> None:
    """Forget every resource of every account (moto's own reset endpoint)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def session_for(url: str, account: str | None = None) -> boto3.session.Session:
    base = boto3.session.Session(region_name="us-east-1")
    if account is None or account == MANAGEMENT:
        return base
    sts = base.client("sts", endpoint_url=url)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ORG_ROLE}", RoleSessionName="plant"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


@dataclass
class Estate:
    """What was planted: names -> ARNs / ids, for the assertions."""

    member: str = ""
    ids: dict[str, str] = field(default_factory=dict)


class Planter:
    def __init__(self, url: str, session: boto3.session.Session) -> None:
        self.url = url
        self.session = session

    def client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.url)

    def key(self, region: str, description: str) -> str:
        arn: str = self.client("kms", region).create_key(Description=description)["KeyMetadata"][
            "Arn"
        ]
        return arn

    def bucket(self, name: str, region: str, kms_key: str | None = None) -> str:
        s3 = self.client("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        if kms_key:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": kms_key,
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )
        return f"arn:aws:s3:::{name}"

    def replicate(self, source: str, region: str, destination: str) -> None:
        s3 = self.client("s3", region)
        for bucket in (source, destination):
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(
            Bucket=source,
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{MANAGEMENT}:role/replication",
                "Rules": [
                    {
                        "ID": "all",
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Disabled"},
                        "Destination": {"Bucket": f"arn:aws:s3:::{destination}"},
                    }
                ],
            },
        )

    def volume(self, region: str, encrypted: bool, key: str | None = None, name: str = "") -> str:
        ec2 = self.client("ec2", region)
        args: dict[str, Any] = {"AvailabilityZone": f"{region}a", "Size": 10}
        if encrypted:
            args["Encrypted"] = True
        if key:
            args["KmsKeyId"] = key
        args["TagSpecifications"] = [
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}
        ]
        volume_id: str = ec2.create_volume(**args)["VolumeId"]
        return volume_id

    def database(self, region: str, name: str, encrypted: bool, key: str | None = None) -> str:
        rds = self.client("rds", region)
        args: dict[str, Any] = {
            "DBInstanceIdentifier": name,
            "DBInstanceClass": "db.t3.micro",
            "Engine": "postgres",
            "AllocatedStorage": 20,
            "MasterUsername": "admin",
            "MasterUserPassword": "not-a-secret-123",
            "StorageEncrypted": encrypted,
        }
        if key:
            args["KmsKeyId"] = key
        arn: str = rds.create_db_instance(**args)["DBInstance"]["DBInstanceArn"]
        return arn

    def table(self, region: str, name: str, key: str | None) -> str:
        ddb = self.client("dynamodb", region)
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if key:
            args["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
        arn: str = ddb.create_table(**args)["TableDescription"]["TableArn"]
        return arn


def plant(url: str) -> Estate:
    """Two accounts of one organisation, resources in eu-west-3, eu-central-1 and us-east-1."""
    estate = Estate()
    base = session_for(url)
    org = base.client("organizations", endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    estate.member = org.create_account(Email="member@example.org", AccountName="member")[
        "CreateAccountStatus"
    ]["AccountId"]
    ids = estate.ids
    m = Planter(url, base)
    ids["key_paris"] = m.key("eu-west-3", "health data, Paris")
    ids["key_frankfurt"] = m.key("eu-central-1", "health data replica, Frankfurt")
    ids["bucket_pass"] = m.bucket("pass-records-paris", "eu-west-3", ids["key_paris"])
    ids["bucket_pass_replica"] = m.bucket(
        "pass-replica-frankfurt", "eu-central-1", ids["key_frankfurt"]
    )
    m.replicate("pass-records-paris", "eu-west-3", "pass-replica-frankfurt")
    ids["bucket_fail_replication"] = m.bucket("fail-records-to-virginia", "eu-west-3")
    ids["bucket_fail_us"] = m.bucket("fail-replica-virginia", "us-east-1")
    m.replicate("fail-records-to-virginia", "eu-west-3", "fail-replica-virginia")
    ids["volume_pass"] = m.volume("eu-west-3", True, ids["key_paris"], "pass-volume")
    ids["volume_plain"] = m.volume("eu-west-3", False, None, "fail-unencrypted-volume")
    ids["db_pass"] = m.database("eu-west-3", "pass-records-db", True, ids["key_paris"])
    ids["db_us_plain"] = m.database("us-east-1", "fail-us-plain-db", False)
    ids["table_global"] = m.table("eu-west-3", "fail-global-table", ids["key_paris"])
    ids["table_owned_key"] = m.table("eu-central-1", "fail-aws-owned-key-table", None)
    trail_bucket = m.bucket("pass-trail-logs", "eu-west-3", ids["key_paris"])
    ids["trail_bucket"] = trail_bucket
    ct = m.client("cloudtrail", "eu-west-3")
    ids["trail"] = ct.create_trail(
        Name="org-trail",
        S3BucketName="pass-trail-logs",
        KmsKeyId=ids["key_paris"],
        IsMultiRegionTrail=True,
    )["TrailARN"]
    sqs = m.client("sqs", "eu-west-3")
    sqs.create_queue(QueueName="inventory-queue", tags={"team": "records"})
    ids["queue"] = f"arn:aws:sqs:eu-west-3:{MANAGEMENT}:inventory-queue"
    member = Planter(url, session_for(url, estate.member))
    ids["member_bucket_us"] = member.bucket("fail-member-bucket-virginia", "us-east-1")
    ids["member_key_us"] = member.key("us-east-1", "member key in Virginia")
    return estate
