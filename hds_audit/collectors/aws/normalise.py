"""Raw AWS API data -> normalised :class:`Resource` records. Reads, never judges.

Each normaliser receives one task's data (context values, listed items with their detail
responses) and a :class:`TaskContext`. The facts mirror the Terraform normaliser's, so the
same policies judge both sources alike: S3 without a default-encryption rule is SSE-S3
(provider key), DynamoDB without an SSE description uses an AWS-owned key (provider), and a
KMS key's owner comes from ``KeyMetadata.KeyManager``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hds_audit.collectors.aws.keys import KeyResolver, KeyVerdict
from hds_audit.collectors.aws.session import Account
from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.terraform.normalise import type_table
from hds_audit.geo import GeoTables, Location
from hds_audit.i18n import Msg
from hds_audit.model import (
    Encryption,
    KeyOwner,
    Kind,
    Resource,
    Source,
)

_ARN = re.compile(r"^arn:([\w-]+):([\w-]+):([a-z0-9-]*):(\d*):(.*)$")


@dataclass(slots=True)
class Listed:
    """One listed item and the responses of its detail calls (by detail key)."""

    item: Any
    details: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    """What a failed detail call leaves unknown (encryption, replicas, attributes) and why."""

    def label(self) -> str:
        if isinstance(self.item, dict):
            for key in ("Name", "TrailARN", "KeyArn", "BackupPlanArn", "BackupVaultArn"):
                if isinstance(self.item.get(key), str):
                    return str(self.item[key])
        return str(self.item)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A context value that could not be read (optional call failed)."""

    reason: str


@dataclass(slots=True)
class TaskData:
    context: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[Listed]] = field(default_factory=dict)
    item_errors: list[tuple[str, str, str]] = field(default_factory=list)
    """(item, kind, message) of each detail call that failed for one item."""


BucketRegion = Callable[[str], tuple[str | None, str | None]]


@dataclass(slots=True)
class TaskContext:
    """What a normaliser may use besides the data: where it is, and shared resolvers."""

    account: Account
    region: str
    geo: GeoTables
    source: Source
    keys: KeyResolver
    bucket_region: BucketRegion
    inventory_types: Mapping[str, str]

    def locate(self, region: str | None) -> Location:
        return self.geo.locate("aws", region)

    def key(self, key_id: Any, region: str | None = None) -> KeyVerdict:
        return self.keys.owner(self.account, region or self.region, key_id)


def region_of_arn(arn: Any) -> str | None:
    if isinstance(arn, str):
        match = _ARN.match(arn)
        if match and match.group(3):
            return match.group(3)
    return None


def _display(item: Mapping[str, Any], *keys: str) -> str | None:
    for tag in item.get("Tags") or item.get("TagList") or ():
        if isinstance(tag, dict) and tag.get("Key") == "Name" and tag.get("Value"):
            return str(tag["Value"])
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _clean(item: Any) -> dict[str, Any]:
    """The raw item as evidence attributes (ResponseMetadata dropped)."""
    if not isinstance(item, dict):
        return {"value": item}
    return {k: v for k, v in item.items() if k != "ResponseMetadata"}


@dataclass(slots=True)
class Draft(ResourceDraft):
    """A resource being assembled; ``failures`` names the facts a refused call hid."""

    failures: dict[str, str] = field(default_factory=dict)

    def encrypted_with(self, verdict: KeyVerdict) -> None:
        self.encryption = Encryption(at_rest=True, key_owner=verdict.owner, key_id=verdict.key_id)
        if verdict.reason:
            self.unknowns["encryption.key_owner"] = verdict.reason

    def not_encrypted(self) -> None:
        self.encryption = Encryption(at_rest=False)
        self.unknowns["encryption.key_owner"] = Msg("collect.not_encrypted")

    def encrypted_flag(self, ctx: TaskContext, flag: Any, key_id: Any) -> None:
        if flag is True:
            self.encrypted_with(ctx.key(key_id))
        elif flag is False:
            self.not_encrypted()
        else:
            self.encryption = Encryption(at_rest=None)
            self.unknowns["encryption.at_rest"] = Msg("collect.api_silent_encryption")

    def finish(self, ctx: TaskContext) -> Resource:
        """The resource; what a failed detail call should have said is unknown, with why."""
        if "encryption" in self.failures:
            reason = self.failures["encryption"]
            self.encryption = Encryption(at_rest=None)
            self.unknowns["encryption.at_rest"] = reason
            self.unknowns["encryption.key_owner"] = reason
        if "replicas" in self.failures:
            self.replicas_unknown(self.failures["replicas"])
        if "attributes" in self.failures:
            self.attributes["unread"] = self.failures["attributes"]
        return self.resource("aws", ctx.source)


Normaliser = Callable[[TaskContext, TaskData], list[Resource]]


# -- S3 ----------------------------------------------------------------------------------------


def s3_bucket(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["buckets"]:
        item = listed.item
        name = str(item["Name"])
        region = item.get("BucketRegion") or ctx.region
        d = Draft(
            id=f"arn:{ctx.account.partition}:s3:::{name}",
            type="aws_s3_bucket",
            kind=Kind.OBJECT_STORAGE,
            location=ctx.locate(region),
            name=name,
            attributes={"account": ctx.account.id, **_clean(item)},
            failures=listed.failures,
        )
        encryption = listed.details.get("encryption") or {}
        rules = [r for r in encryption.get("Rules") or () if isinstance(r, dict)]
        default = next((r.get("ApplyServerSideEncryptionByDefault") for r in rules), None)
        if not default:
            # Since 5 January 2023 S3 encrypts every new object with SSE-S3 (AWS-held keys).
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AES256")
        elif default.get("SSEAlgorithm") == "AES256":
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AES256")
        else:
            key = default.get("KMSMasterKeyID")
            d.encrypted_with(
                ctx.key(key, region) if key else KeyVerdict(KeyOwner.PROVIDER, "aws/s3")
            )
        d.attributes["sse_algorithm"] = (default or {}).get("SSEAlgorithm")
        d.attributes["bucket_key_enabled"] = next(
            (r.get("BucketKeyEnabled") for r in rules if "BucketKeyEnabled" in r), None
        )
        d.attributes["public_access_block"] = listed.details.get("public_access_block")
        replication = listed.details.get("replication") or {}
        d.attributes["replication"] = replication or None
        for rule in replication.get("Rules") or ():
            if rule.get("Status") != "Enabled":
                continue
            target = str((rule.get("Destination") or {}).get("Bucket") or "")
            target_name = target.rsplit(":::", 1)[-1]
            constraint, problem = ctx.bucket_region(target_name)
            if problem:
                d.add_replica("replication", ctx.locate(None), target)
                d.unknowns["replicas"] = Msg(
                    "collect.aws.bucket_region", bucket=target_name, problem=problem
                )
            else:
                d.add_replica("replication", ctx.geo.s3_bucket_location(constraint), target)
        out.append(d.finish(ctx))
    return out


# -- EBS and EC2 ---------------------------------------------------------------------------------


def ebs(ctx: TaskContext, data: TaskData) -> list[Resource]:
    default = data.context.get("encryption_by_default")
    default_text = default.reason if isinstance(default, Unavailable) else default
    out: list[Resource] = []
    for listed in data.lists["volumes"]:
        v = listed.item
        d = Draft(
            id=f"arn:{ctx.account.partition}:ec2:{ctx.region}:{ctx.account.id}:volume/{v['VolumeId']}",
            type="aws_ebs_volume",
            kind=Kind.BLOCK_STORAGE,
            location=ctx.locate(v.get("AvailabilityZone") or ctx.region),
            name=_display(v, "VolumeId"),
            attributes={
                **_clean(v),
                "account": ctx.account.id,
                "ebs_encryption_by_default": default_text,
            },
        )
        d.encrypted_flag(ctx, v.get("Encrypted"), v.get("KmsKeyId"))
        out.append(d.finish(ctx))
    for listed in data.lists["snapshots"]:
        s = listed.item
        d = Draft(
            id=f"arn:{ctx.account.partition}:ec2:{ctx.region}::snapshot/{s['SnapshotId']}",
            type="aws_ebs_snapshot",
            kind=Kind.BACKUP,
            location=ctx.locate(ctx.region),
            name=_display(s, "SnapshotId"),
            attributes={**_clean(s), "account": ctx.account.id},
        )
        d.encrypted_flag(ctx, s.get("Encrypted"), s.get("KmsKeyId"))
        out.append(d.finish(ctx))
    return out


def ec2_instance(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["instances"]:
        i = listed.item
        volumes = [
            (m.get("Ebs") or {}).get("VolumeId")
            for m in i.get("BlockDeviceMappings") or ()
            if (m.get("Ebs") or {}).get("VolumeId")
        ]
        zone = (i.get("Placement") or {}).get("AvailabilityZone")
        arn = f"arn:{ctx.account.partition}:ec2:{ctx.region}:{ctx.account.id}"
        d = Draft(
            id=f"{arn}:instance/{i['InstanceId']}",
            type="aws_instance",
            kind=Kind.COMPUTE,
            location=ctx.locate(zone or ctx.region),
            name=_display(i, "InstanceId"),
            attributes={
                "account": ctx.account.id,
                "instance_id": i.get("InstanceId"),
                "instance_type": i.get("InstanceType"),
                "state": (i.get("State") or {}).get("Name"),
                "availability_zone": zone,
                "volumes": [f"{arn}:volume/{v}" for v in volumes],
            },
        )
        out.append(d.finish(ctx))
    return out


# -- RDS ----------------------------------------------------------------------------------------


def _replica_location(ctx: TaskContext, identifier: str) -> Location:
    return ctx.locate(region_of_arn(identifier) or ctx.region)


def rds(ctx: TaskContext, data: TaskData) -> list[Resource]:
    globals_ = data.context.get("global_clusters")
    members: dict[str, list[str]] = {}
    if isinstance(globals_, list):
        for cluster in globals_:
            arns = [str(m.get("DBClusterArn")) for m in cluster.get("GlobalClusterMembers") or ()]
            for arn in arns:
                members[arn] = [a for a in arns if a != arn]
    out: list[Resource] = []
    for listed in data.lists["instances"]:
        db = listed.item
        in_cluster = bool(db.get("DBClusterIdentifier"))
        d = Draft(
            id=str(db["DBInstanceArn"]),
            type="aws_rds_cluster_instance" if in_cluster else "aws_db_instance",
            kind=Kind.COMPUTE if in_cluster else Kind.DATABASE,
            location=ctx.locate(db.get("AvailabilityZone") or ctx.region),
            name=db.get("DBInstanceIdentifier"),
            attributes={**_clean(db), "account": ctx.account.id},
        )
        if not in_cluster:
            d.encrypted_flag(ctx, db.get("StorageEncrypted"), db.get("KmsKeyId"))
            for replica in db.get("ReadReplicaDBInstanceIdentifiers") or ():
                d.add_replica("read_replica", _replica_location(ctx, replica), replica)
            for backup in db.get("DBInstanceAutomatedBackupsReplications") or ():
                arn = str(backup.get("DBInstanceAutomatedBackupsArn"))
                d.add_replica("backup_replication", _replica_location(ctx, arn), arn)
        out.append(d.finish(ctx))
    for listed in data.lists["clusters"]:
        c = listed.item
        arn = str(c["DBClusterArn"])
        d = Draft(
            id=arn,
            type="aws_rds_cluster",
            kind=Kind.DATABASE,
            location=ctx.locate(ctx.region),
            name=c.get("DBClusterIdentifier"),
            attributes={**_clean(c), "account": ctx.account.id},
        )
        d.encrypted_flag(ctx, c.get("StorageEncrypted"), c.get("KmsKeyId"))
        for other in members.get(arn, ()):
            d.add_replica("global_database", _replica_location(ctx, other), other)
        for replica in c.get("ReadReplicaIdentifiers") or ():
            d.add_replica("read_replica", _replica_location(ctx, replica), replica)
        if isinstance(globals_, Unavailable):
            d.unknowns["replicas"] = Msg("collect.aws.global_clusters", error=globals_.reason)
            d.replicas = None
        out.append(d.finish(ctx))
    return out


# -- DynamoDB, EFS ---------------------------------------------------------------------------------


def dynamodb_table(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["tables"]:
        t = listed.details.get("table") or {}
        arn = f"arn:{ctx.account.partition}:dynamodb:{ctx.region}:{ctx.account.id}:table/"
        d = Draft(
            id=str(t.get("TableArn") or arn + str(listed.item)),
            type="aws_dynamodb_table",
            kind=Kind.DATABASE,
            location=ctx.locate(ctx.region),
            name=str(listed.item),
            attributes={**_clean(t), "account": ctx.account.id},
            failures=listed.failures,
        )
        sse = t.get("SSEDescription") or {}
        if sse.get("SSEType") == "KMS" and sse.get("Status") in ("ENABLED", "UPDATING"):
            d.encrypted_with(ctx.key(sse.get("KMSMasterKeyArn")))
        else:
            d.encryption = Encryption(
                at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AWS owned key"
            )
        for replica in t.get("Replicas") or ():
            region = replica.get("RegionName")
            if region and region != ctx.region:
                d.add_replica("global_table", ctx.locate(region), region)
        out.append(d.finish(ctx))
    return out


def efs_file_system(ctx: TaskContext, data: TaskData) -> list[Resource]:
    replications = data.context.get("replications")
    out: list[Resource] = []
    for listed in data.lists["file_systems"]:
        fs = listed.item
        d = Draft(
            id=str(fs["FileSystemArn"]),
            type="aws_efs_file_system",
            kind=Kind.FILE_STORAGE,
            location=ctx.locate(fs.get("AvailabilityZoneName") or ctx.region),
            name=_display(fs, "Name", "FileSystemId"),
            attributes={**_clean(fs), "account": ctx.account.id},
        )
        d.encrypted_flag(ctx, fs.get("Encrypted"), fs.get("KmsKeyId"))
        if isinstance(replications, Unavailable):
            d.replicas_unknown(Msg("collect.aws.replications", error=replications.reason))
        else:
            for config in replications or ():
                if config.get("SourceFileSystemId") != fs.get("FileSystemId"):
                    continue
                for destination in config.get("Destinations") or ():
                    region = destination.get("Region")
                    d.add_replica("replication", ctx.locate(region), region)
        out.append(d.finish(ctx))
    return out


# -- KMS, Backup, CloudTrail -----------------------------------------------------------------------


def kms_key(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["keys"]:
        meta = listed.details.get("metadata") or {}
        arn = str(meta.get("Arn") or listed.item.get("KeyArn"))
        d = Draft(
            id=arn,
            type="aws_kms_key",
            kind=Kind.KEY,
            location=ctx.locate(region_of_arn(arn) or ctx.region),
            name=str(meta.get("KeyId") or listed.item.get("KeyId")),
            attributes={
                "account": ctx.account.id,
                "key_manager": meta.get("KeyManager"),
                "origin": meta.get("Origin"),
                "multi_region": meta.get("MultiRegion"),
                "key_state": meta.get("KeyState"),
                "key_spec": meta.get("KeySpec"),
                "rotation_enabled": listed.details.get("rotation"),
            },
            failures=listed.failures,
        )
        config = meta.get("MultiRegionConfiguration") or {}
        if config.get("MultiRegionKeyType") == "PRIMARY":
            for replica in config.get("ReplicaKeys") or ():
                d.add_replica("key_replica", ctx.locate(replica.get("Region")), replica.get("Arn"))
        out.append(d.finish(ctx))
    return out


def backup(ctx: TaskContext, data: TaskData) -> list[Resource]:
    copies: dict[str, list[str]] = {}
    out: list[Resource] = []
    for listed in data.lists["plans"]:
        plan = listed.details.get("plan") or {}
        arn = str(listed.item.get("BackupPlanArn"))
        d = Draft(
            id=arn,
            type="aws_backup_plan",
            kind=Kind.BACKUP,
            location=ctx.locate(ctx.region),
            name=listed.item.get("BackupPlanName"),
            attributes={**_clean(plan), "account": ctx.account.id},
            failures=listed.failures,
        )
        for rule in plan.get("Rules") or ():
            for action in rule.get("CopyActions") or ():
                target = str(action.get("DestinationBackupVaultArn"))
                d.add_replica("backup_copy", _replica_location(ctx, target), target)
                copies.setdefault(str(rule.get("TargetBackupVaultName")), []).append(target)
        out.append(d.finish(ctx))
    for listed in data.lists["vaults"]:
        v = listed.item
        d = Draft(
            id=str(v["BackupVaultArn"]),
            type="aws_backup_vault",
            kind=Kind.BACKUP,
            location=ctx.locate(ctx.region),
            name=v.get("BackupVaultName"),
            attributes={**_clean(v), "account": ctx.account.id},
        )
        d.encrypted_with(ctx.key(v.get("EncryptionKeyArn")))
        for target in copies.get(str(v.get("BackupVaultName")), ()):
            d.add_replica("backup_copy", _replica_location(ctx, target), target)
        out.append(d.finish(ctx))
    return out


def cloudtrail_trail(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["trails"]:
        t = listed.item
        status = listed.details.get("status") or {}
        d = Draft(
            id=str(t["TrailARN"]),
            type="aws_cloudtrail",
            kind=Kind.LOG,
            location=ctx.locate(t.get("HomeRegion") or ctx.region),
            name=t.get("Name"),
            attributes={
                **_clean(t),
                "account": ctx.account.id,
                "is_logging": status.get("IsLogging"),
            },
            failures=listed.failures,
        )
        key = t.get("KmsKeyId")
        if key:
            d.encrypted_with(ctx.key(key))
        else:  # delivered to S3 under the bucket's encryption, SSE-S3 by default
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="SSE-S3")
        out.append(d.finish(ctx))
    return out


# -- streams, registries, parameters, search, launch templates (issue 15) ----------------------


def kinesis_stream(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["streams"]:
        item = listed.item
        summary = listed.details.get("summary") or {}
        d = Draft(
            id=str(item["StreamARN"]),
            type="aws_kinesis_stream",
            kind=Kind.DATABASE,
            location=ctx.locate(region_of_arn(item["StreamARN"]) or ctx.region),
            name=item.get("StreamName"),
            attributes={**_clean(summary or item), "account": ctx.account.id},
            failures=listed.failures,
        )
        kind = summary.get("EncryptionType")
        if kind == "KMS":
            d.encrypted_with(ctx.key(summary.get("KeyId")))
        elif kind == "NONE":
            d.not_encrypted()
        else:
            d.encryption = Encryption(at_rest=None)
            d.unknowns["encryption.at_rest"] = Msg("collect.api_silent_encryption")
        out.append(d.finish(ctx))
    return out


def ecr_repository(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["repositories"]:
        repo = listed.item
        d = Draft(
            id=str(repo["repositoryArn"]),
            type="aws_ecr_repository",
            kind=Kind.OBJECT_STORAGE,
            location=ctx.locate(region_of_arn(repo["repositoryArn"]) or ctx.region),
            name=repo.get("repositoryName"),
            attributes={**_clean(repo), "account": ctx.account.id},
        )
        config = repo.get("encryptionConfiguration") or {}
        if config.get("encryptionType", "AES256").startswith("KMS"):
            key = config.get("kmsKey")
            d.encrypted_with(ctx.key(key) if key else KeyVerdict(KeyOwner.PROVIDER, "aws/ecr"))
        else:  # ECR always encrypts: AES-256 with keys held by the service
            d.encryption = Encryption(at_rest=True, key_owner=KeyOwner.PROVIDER, key_id="AES256")
        out.append(d.finish(ctx))
    return out


def ssm_parameter(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    prefix = f"arn:{ctx.account.partition}:ssm:{ctx.region}:{ctx.account.id}:parameter"
    for listed in data.lists["parameters"]:
        param = listed.item
        name = str(param["Name"])
        d = Draft(
            id=str(param.get("ARN") or prefix + (name if name.startswith("/") else "/" + name)),
            type="aws_ssm_parameter",
            kind=Kind.DATABASE,
            location=ctx.locate(ctx.region),
            name=name,
            # The listing carries no value: nothing secret is kept.
            attributes={**_clean(param), "account": ctx.account.id},
        )
        if param.get("Type") == "SecureString":
            d.encrypted_with(ctx.key(param.get("KeyId")))
        else:  # only SecureString values are encrypted
            d.not_encrypted()
        out.append(d.finish(ctx))
    return out


def opensearch_domain(ctx: TaskContext, data: TaskData) -> list[Resource]:
    out: list[Resource] = []
    for listed in data.lists["domains"]:
        domain = listed.details.get("domain") or {}
        name = str(listed.item.get("DomainName"))
        arn = f"arn:{ctx.account.partition}:es:{ctx.region}:{ctx.account.id}:domain/{name}"
        d = Draft(
            id=str(domain.get("ARN") or arn),
            type="aws_opensearch_domain",
            kind=Kind.DATABASE,
            location=ctx.locate(ctx.region),
            name=name,
            attributes={**_clean(domain), "account": ctx.account.id},
            failures=listed.failures,
        )
        options = domain.get("EncryptionAtRestOptions") or {}
        d.encrypted_flag(ctx, options.get("Enabled"), options.get("KmsKeyId"))
        out.append(d.finish(ctx))
    return out


def launch_template(ctx: TaskContext, data: TaskData) -> list[Resource]:
    """Each EBS volume a template's default version creates, judged as block storage."""
    default = data.context.get("encryption_by_default")
    default_text = default.reason if isinstance(default, Unavailable) else default
    out: list[Resource] = []
    for listed in data.lists["templates"]:
        item = listed.item
        arn = (
            f"arn:{ctx.account.partition}:ec2:{ctx.region}:{ctx.account.id}"
            f":launch-template/{item['LaunchTemplateId']}"
        )
        template = Draft(
            id=arn,
            type="aws_launch_template",
            kind=Kind.COMPUTE,
            location=ctx.locate(ctx.region),
            name=item.get("LaunchTemplateName"),
            attributes={**_clean(item), "account": ctx.account.id},
        )
        out.append(template.finish(ctx))
        version = listed.details.get("version") or {}
        for mapping in (version.get("LaunchTemplateData") or {}).get("BlockDeviceMappings") or ():
            ebs_ = mapping.get("Ebs")
            if not isinstance(ebs_, dict):
                continue  # an instance-store volume or a suppressed device
            d = Draft(
                id=f"{arn}/{mapping.get('DeviceName')}",
                type="aws_launch_template",
                kind=Kind.BLOCK_STORAGE,
                location=ctx.locate(ctx.region),
                name=f"{item.get('LaunchTemplateName')} {mapping.get('DeviceName')}",
                attributes={
                    **_clean(mapping),
                    "account": ctx.account.id,
                    "ebs_encryption_by_default": default_text,
                },
                failures=listed.failures,
            )
            encrypted = ebs_.get("Encrypted")
            if encrypted is True or default is True:
                d.encrypted_with(ctx.key(ebs_.get("KmsKeyId")))
                if encrypted is not True:
                    d.notes["encryption.at_rest"] = Msg("collect.ebs.region_on")
            elif isinstance(default, Unavailable):
                d.encryption = Encryption(at_rest=None)
                d.unknowns["encryption.at_rest"] = Msg("collect.ebs.unread", error=default.reason)
            elif encrypted is False and ebs_.get("SnapshotId") is None:
                d.not_encrypted()
            else:
                d.encryption = Encryption(at_rest=None)
                d.unknowns["encryption.at_rest"] = Msg("collect.ebs.api_off")
            out.append(d.finish(ctx))
        if "encryption" in listed.failures:  # the default version could not be read
            d = Draft(
                id=f"{arn}/volumes",
                type="aws_launch_template",
                kind=Kind.BLOCK_STORAGE,
                location=ctx.locate(ctx.region),
                name=f"{item.get('LaunchTemplateName')} volumes",
                failures=listed.failures,
            )
            out.append(d.finish(ctx))
    return out


# -- inventory of everything else ----------------------------------------------------------------


def inventory_type(arn: str, types: Mapping[str, str]) -> str:
    """``arn:aws:sqs:...`` -> ``aws_sqs_queue`` via the table, else ``aws_<svc>_<type>``."""
    match = _ARN.match(arn)
    if not match:
        return "aws_unknown"
    service, rest = match.group(2), match.group(5)
    resource_type = re.split(r"[/:]", rest, maxsplit=1)[0] if re.search(r"[/:]", rest) else ""
    found = types.get(f"{service}:{resource_type}") or types.get(f"{service}:")
    if found:
        return found
    return re.sub(r"[^a-z0-9]+", "_", f"aws_{service}_{resource_type}".lower()).strip("_")


def inventory(ctx: TaskContext, data: TaskData) -> list[Resource]:
    specs = type_table()
    out: list[Resource] = []
    for listed in data.lists["resources"]:
        arn = str(listed.item.get("ResourceARN"))
        rtype = inventory_type(arn, ctx.inventory_types)
        spec = specs.spec(rtype)
        region = region_of_arn(arn)
        d = Draft(
            id=arn,
            type=rtype,
            kind=spec.kind,
            location=ctx.locate("global" if spec.non_regional else region),
            name=_display(listed.item) or arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
            attributes={
                "account": ctx.account.id,
                "collected_by": "inventory",
                "tags": listed.item.get("Tags") or [],
            },
        )
        if region is None and not spec.non_regional:
            d.unknowns["region"] = Msg("collect.aws.arn_no_region")
        if spec.kind in (
            Kind.OBJECT_STORAGE,
            Kind.BLOCK_STORAGE,
            Kind.DATABASE,
            Kind.FILE_STORAGE,
            Kind.BACKUP,
            Kind.LOG,
            Kind.KEY,
        ):
            why = Msg("collect.aws.inventory_only")
            d.encryption = Encryption(at_rest=None)
            d.unknowns["encryption.at_rest"] = why
            d.replicas_unknown(why)
        out.append(d.finish(ctx))
    return out


NORMALISERS: Mapping[str, Normaliser] = {
    "s3_bucket": s3_bucket,
    "ebs": ebs,
    "ec2_instance": ec2_instance,
    "rds": rds,
    "dynamodb_table": dynamodb_table,
    "efs_file_system": efs_file_system,
    "kms_key": kms_key,
    "backup": backup,
    "cloudtrail_trail": cloudtrail_trail,
    "kinesis_stream": kinesis_stream,
    "ecr_repository": ecr_repository,
    "ssm_parameter": ssm_parameter,
    "opensearch_domain": opensearch_domain,
    "launch_template": launch_template,
    "inventory": inventory,
}
