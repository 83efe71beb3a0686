"""The 'dossier patient' platform of a French health-software publisher, in two variants:
   variant="violations" (patient-records/) and variant="compliant" (compliant/)."""
import json, base64
from tfjson import *

ACCT = "428193756041"
SUB = "8c2d6e4a-3f1b-4c7d-9e5a-2b6f0d1c3a94"
TENANT = "5e7a1c9d-2b4f-4e6a-8d3c-9f1b7e2a4c60"
RG = "rg-dpat-prod-frc"
RGID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
KV = "kv-dpat-prod-frc"
KVURI = f"https://{KV}.vault.azure.net/"

AWS_DEFAULT_TAGS = {"Donnees": "sante-HDS", "Projet": "dossier-patient"}
AZ_TAGS = {"donnees": "sante-HDS", "projet": "dossier-patient"}
HZ = {"eu-west-3": "Z3R1K369G5AVDG", "us-east-1": "Z3AQBSTGFYJSTF", "eu-central-1": "Z21DNDUVLTQW6Q"}
RDS_HZ = {"eu-west-3": "ZMESEXB7ZGGQ3", "us-east-1": "Z2R2ITUGPM61AM", "eu-central-1": "Z1RLNUO7B9Q6NB"}


class Inst:
    def __init__(self, attrs, index=None, sensitive=(), deps=(), private=None):
        self.index = index
        self.attrs = attrs
        self.sensitive = list(sensitive)
        self.deps = list(deps)
        self.private = private


class Res:
    def __init__(self, module, mode, type, name, provider, schema_version, instances, config=None):
        self.module = module          # "" for root, else "module.a.module.b"
        self.mode = mode              # managed | data
        self.type = type
        self.name = name
        self.provider = provider      # "aws", "aws.us", "azurerm", "random", "terraform"
        self.schema_version = schema_version
        self.instances = instances
        self.config = config or {}    # expressions, count_expression, for_each_expression, depends_on

    @property
    def local_addr(self):
        return (("data." if self.mode == "data" else "") + f"{self.type}.{self.name}")

    @property
    def addr(self):
        return (self.module + "." if self.module else "") + self.local_addr

    def inst_addr(self, inst):
        a = self.addr
        if inst.index is None:
            return a
        if isinstance(inst.index, int):
            return f"{a}[{inst.index}]"
        return f'{a}["{inst.index}"]'


def tags_all(tags):
    t = dict(AWS_DEFAULT_TAGS)
    t.update(tags or {})
    return dict(sorted(t.items()))


def kms_policy(acct):
    return json.dumps({"Statement": [{"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Resource": "*", "Sid": "Enable IAM User Permissions"}], "Version": "2012-10-17"}, separators=(",", ":"))


def build(variant):
    V = variant == "violations"
    C_ = variant == "compliant"
    res = []
    add = res.append
    DR = "us-east-1" if V else "eu-central-1"          # where the S3 / RDS-backup / AWS Backup copies go
    DRP = "aws.us" if V else "aws.frankfurt"
    DRS = "use1" if V else "euc1"
    sfx = "" if V else "-c"                             # small name suffix so the two twins never share ids

    # ------------------------------------------------------------------ data sources
    add(Res("", "data", "aws_caller_identity", "current", "aws", 0, [Inst({
        "account_id": ACCT,
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/terraform-deployer/gitlab-ci-884213",
        "id": ACCT,
        "user_id": "AROAWHX5CSKQ7NDT3E2LM:gitlab-ci-884213"})],
        {"expressions": {}}))
    rds_aws_key_id = uid("aws/rds key" + variant)
    RDS_AWS_KEY_ARN = f"arn:aws:kms:eu-west-3:{ACCT}:key/{rds_aws_key_id}"
    add(Res("", "data", "aws_kms_key", "rds_default", "aws", 0, [Inst({
        "arn": RDS_AWS_KEY_ARN, "aws_account_id": ACCT, "cloud_hsm_cluster_id": "",
        "creation_date": "2023-03-02T10:14:51Z", "custom_key_store_id": "", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_date": "", "description": "Default key that protects my RDS database volumes when no other key is defined",
        "enabled": True, "expiration_model": "", "grant_tokens": None, "id": rds_aws_key_id, "key_id": "alias/aws/rds",
        "key_manager": "AWS", "key_spec": "SYMMETRIC_DEFAULT", "key_state": "Enabled", "key_usage": "ENCRYPT_DECRYPT",
        "multi_region": False, "multi_region_configuration": [], "origin": "AWS_KMS", "pending_deletion_window_in_days": 0,
        "valid_to": "", "xks_key_configuration": []})],
        {"expressions": {"key_id": C("alias/aws/rds")}}))
    add(Res("", "data", "azurerm_client_config", "current", "azurerm", 0, [Inst({
        "client_id": "3f9e1b2c-7d4a-4e8b-a6c1-0d2e5f7a9b13",
        "id": base64.b64encode(f"clientConfigs/clientId=3f9e1b2c-7d4a-4e8b-a6c1-0d2e5f7a9b13;objectId=9a1c3e5f-2b4d-4f6a-8c0e-1d3f5a7b9c2e;subscriptionId={SUB};tenantId={TENANT}".encode()).decode(),
        "object_id": "9a1c3e5f-2b4d-4f6a-8c0e-1d3f5a7b9c2e", "subscription_id": SUB, "tenant_id": TENANT, "timeouts": None})],
        {"expressions": {}}))

    # ------------------------------------------------------------------ KMS (customer managed keys)
    def kms_key(module, name, provider, region, desc, seed):
        kid = uid(seed + variant)
        arn = f"arn:aws:kms:{region}:{ACCT}:key/{kid}"
        attrs = {"arn": arn, "bypass_policy_lockout_safety_check": False, "custom_key_store_id": "",
                 "customer_master_key_spec": "SYMMETRIC_DEFAULT", "deletion_window_in_days": 30, "description": desc,
                 "enable_key_rotation": True, "id": kid, "is_enabled": True, "key_id": kid, "key_usage": "ENCRYPT_DECRYPT",
                 "multi_region": False, "policy": kms_policy(ACCT), "rotation_period_in_days": 365,
                 "tags": {"Name": name}, "tags_all": tags_all({"Name": name}), "timeouts": None, "xks_key_id": ""}
        r = Res(module, "managed", "aws_kms_key", name.split("/")[-1], provider, 0,
                [Inst(attrs, private=private({"create": 2}))],
                {"expressions": {"deletion_window_in_days": C(30), "description": C(desc), "enable_key_rotation": C(True),
                                 "tags": C({"Name": name})}})
        return r, arn, kid
    k_main, CMK, CMK_ID = kms_key("", "main", "aws", "eu-west-3", "CMK dossier-patient - données de santé (eu-west-3)", "kms main")
    k_main.name = "main"
    k_main.instances[0].attrs["tags"] = {"Name": "cmk-dossier-patient-euw3"}
    k_main.instances[0].attrs["tags_all"] = tags_all({"Name": "cmk-dossier-patient-euw3"})
    k_main.config["expressions"]["tags"] = C({"Name": "cmk-dossier-patient-euw3"})
    add(k_main)
    k_rep, CMK_FRA, _ = kms_key("module.storage", "replica", "aws.frankfurt", "eu-central-1",
                                "CMK dossier-patient - copies de secours (eu-central-1)", "kms replica")
    k_rep.instances[0].attrs["tags"] = {"Name": "cmk-dossier-patient-euc1"}
    k_rep.instances[0].attrs["tags_all"] = tags_all({"Name": "cmk-dossier-patient-euc1"})
    k_rep.config["expressions"]["tags"] = C({"Name": "cmk-dossier-patient-euc1"})
    add(k_rep)
    # the key used in the DR region for RDS backup replication
    DR_KMS = (f"arn:aws:kms:us-east-1:{ACCT}:key/{uid('us kms' + variant)}" if V else CMK_FRA)

    # ------------------------------------------------------------------ IAM (global)
    def iam_role(module, name, rname, service, seed):
        return Res(module, "managed", "aws_iam_role", name, "aws", 0, [Inst({
            "arn": f"arn:aws:iam::{ACCT}:role/{rname}",
            "assume_role_policy": json.dumps({"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}}], "Version": "2012-10-17"}, separators=(",", ":")),
            "create_date": "2024-09-17T08:31:12Z", "description": "", "force_detach_policies": False, "id": rname,
            "inline_policy": [], "managed_policy_arns": [], "max_session_duration": 3600, "name": rname, "name_prefix": "",
            "path": "/", "permissions_boundary": "", "tags": {}, "tags_all": tags_all({}), "unique_id": "AROA" + upper(seed + variant, 17)},
            private="bnVsbA==")],
            {"expressions": {"assume_role_policy": R("data.aws_iam_policy_document." + name + ".json") if False else R("local." + name + "_trust"),
                             "name": C(rname)}})
    add(iam_role("", "s3_replication", "dossier-patient-s3-replication", "s3.amazonaws.com", "role s3"))
    add(iam_role("module.storage.module.backup", "backup", "dossier-patient-aws-backup", "backup.amazonaws.com", "role backup"))

    ak_secret = "FixtureSecret/AwsSecretKey+" + ("9kPq2LmZ7xWv3Tn" if V else "Cp4Rt8Wq1Zx6Ln")
    ak_smtp = "BFixtureSecretSmtpPw" + ("+Qa8Lk2Zx7Vn4Mp1Rt6Yw" if V else "+Hy3Pq9Ws5Ke2Jd7Fc4Nu")
    add(Res("", "managed", "aws_iam_access_key", "export_bot", "aws", 0, [Inst({
        "create_date": "2024-10-02T14:05:37Z", "encrypted_secret": None, "encrypted_ses_smtp_password_v4": None,
        "id": "AKIA" + ("FIXTURE3KQ7ZP2XA" if V else "FIXTURE8WD4NC6TB"), "key_fingerprint": None, "pgp_key": None,
        "secret": ak_secret, "ses_smtp_password_v4": ak_smtp, "status": "Active", "user": "dossier-patient-export-bot"},
        sensitive=["secret", "ses_smtp_password_v4"], private="bnVsbA==")],
        {"expressions": {"user": C("dossier-patient-export-bot")}}))

    # ------------------------------------------------------------------ network module (non-data)
    vpc_id = "vpc-0" + h("vpc" + variant, 16)
    add(Res("module.network", "managed", "aws_vpc", "main", "aws", 1, [Inst({
        "arn": f"arn:aws:ec2:eu-west-3:{ACCT}:vpc/{vpc_id}", "assign_generated_ipv6_cidr_block": False,
        "cidr_block": "10.42.0.0/16", "default_network_acl_id": "acl-0" + h("acl" + variant, 16),
        "default_route_table_id": "rtb-0" + h("rtb" + variant, 16), "default_security_group_id": "sg-0" + h("dsg" + variant, 16),
        "dhcp_options_id": "dopt-0" + h("dopt" + variant, 16), "enable_dns_hostnames": True, "enable_dns_support": True,
        "enable_network_address_usage_metrics": False, "id": vpc_id, "instance_tenancy": "default",
        "ipv4_ipam_pool_id": None, "ipv4_netmask_length": None, "ipv6_association_id": "", "ipv6_cidr_block": "",
        "ipv6_cidr_block_network_border_group": "", "ipv6_ipam_pool_id": "", "ipv6_netmask_length": 0,
        "main_route_table_id": "rtb-0" + h("rtb" + variant, 16), "owner_id": ACCT,
        "tags": {"Name": "vpc-dossier-patient-prod"}, "tags_all": tags_all({"Name": "vpc-dossier-patient-prod"})},
        private=private(schema_version=1))],
        {"expressions": {"cidr_block": R("var.cidr_block"), "enable_dns_hostnames": C(True),
                         "tags": C({"Name": "vpc-dossier-patient-prod"})}}))
    subnets = []
    for i, (az, azid) in enumerate([("eu-west-3a", "euw3-az1"), ("eu-west-3b", "euw3-az2")]):
        sid = "subnet-0" + h(f"subnet{i}" + variant, 16)
        subnets.append(sid)
    add(Res("module.network", "managed", "aws_subnet", "private", "aws", 1, [Inst({
        "arn": f"arn:aws:ec2:eu-west-3:{ACCT}:subnet/{subnets[i]}", "assign_ipv6_address_on_creation": False,
        "availability_zone": az, "availability_zone_id": azid, "cidr_block": f"10.42.{i * 16}.0/20",
        "customer_owned_ipv4_pool": "", "enable_dns64": False, "enable_lni_at_device_index": 0,
        "enable_resource_name_dns_a_record_on_launch": False, "enable_resource_name_dns_aaaa_record_on_launch": False,
        "id": subnets[i], "ipv6_cidr_block": "", "ipv6_cidr_block_association_id": "", "ipv6_native": False,
        "map_customer_owned_ip_on_launch": False, "map_public_ip_on_launch": False, "outpost_arn": "", "owner_id": ACCT,
        "private_dns_hostname_type_on_launch": "ip-name", "tags": {"Name": f"snet-prive-{az}"},
        "tags_all": tags_all({"Name": f"snet-prive-{az}"}), "timeouts": None, "vpc_id": vpc_id},
        index=i, deps=["module.network.aws_vpc.main"], private=private({"create": 10, "delete": 20}, 1))
        for i, (az, azid) in enumerate([("eu-west-3a", "euw3-az1"), ("eu-west-3b", "euw3-az2")])],
        {"expressions": {"availability_zone": R("local.azs", "count.index"), "cidr_block": R("var.cidr_block", "count.index"),
                         "tags": R("local.azs", "count.index"), "vpc_id": R("aws_vpc.main.id")},
         "count_expression": R("local.azs")}))

    def sg(name, gname, desc, ingress, seed):
        gid = "sg-0" + h(seed + variant, 16)
        return gid, Res("module.network", "managed", "aws_security_group", name, "aws", 1, [Inst({
            "arn": f"arn:aws:ec2:eu-west-3:{ACCT}:security-group/{gid}", "description": desc,
            "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "ipv6_cidr_blocks": [],
                        "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": False, "to_port": 0}],
            "id": gid, "ingress": ingress, "name": gname, "name_prefix": "", "owner_id": ACCT,
            "revoke_rules_on_delete": False, "tags": {"Name": gname}, "tags_all": tags_all({"Name": gname}),
            "timeouts": None, "vpc_id": vpc_id},
            deps=["module.network.aws_vpc.main"], private=private({"create": 10, "delete": 15}, 1))],
            {"expressions": {"description": C(desc), "name": C(gname), "tags": C({"Name": gname}), "vpc_id": R("aws_vpc.main.id"),
                             "ingress": [{"cidr_blocks": C([x for x in ingress[0]["cidr_blocks"]]), "from_port": C(ingress[0]["from_port"]),
                                          "protocol": C(ingress[0]["protocol"]), "to_port": C(ingress[0]["to_port"])}]}})
    sg_db, r = sg("db", "sg-dossier-patient-db", "PostgreSQL depuis le VPC", [{
        "cidr_blocks": ["10.42.0.0/16"], "description": "", "from_port": 5432, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
        "protocol": "tcp", "security_groups": [], "self": False, "to_port": 5432}], "sg db")
    add(r)
    sg_app, r = sg("app", "sg-dossier-patient-app", "HTTPS depuis le VPC", [{
        "cidr_blocks": ["10.42.0.0/16"], "description": "", "from_port": 443, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
        "protocol": "tcp", "security_groups": [], "self": False, "to_port": 443}], "sg app")
    add(r)
    if V:
        _, r = sg("legacy_ssh", "sg-dossier-patient-legacy-ssh", "SSH administration (a supprimer)", [{
            "cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 22, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
            "protocol": "tcp", "security_groups": [], "self": False, "to_port": 22}], "sg legacy")
        add(r)

    # ------------------------------------------------------------------ S3 + replication
    src_bucket = "dossier-patient-prod-documents-euw3" + sfx
    dst_bucket = f"dossier-patient-prod-documents-dr-{DRS}" + sfx
    def bucket(name, bname, region, provider, sse, tags, replication=None, deps=()):
        return Res("", "managed", "aws_s3_bucket", name, provider, 0, [Inst({
            "acceleration_status": "", "acl": None, "arn": f"arn:aws:s3:::{bname}", "bucket": bname,
            "bucket_domain_name": f"{bname}.s3.amazonaws.com", "bucket_prefix": "",
            "bucket_regional_domain_name": f"{bname}.s3.{region}.amazonaws.com", "cors_rule": [], "force_destroy": False,
            "grant": [{"id": h("canonical" + variant, 64), "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""}],
            "hosted_zone_id": HZ[region], "id": bname, "lifecycle_rule": [], "logging": [], "object_lock_configuration": [],
            "object_lock_enabled": False, "policy": "", "region": region,
            "replication_configuration": replication or [], "request_payer": "BucketOwner",
            "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [sse], "bucket_key_enabled": sse["sse_algorithm"] == "aws:kms"}]}],
            "tags": tags, "tags_all": tags_all(tags), "timeouts": None,
            "versioning": [{"enabled": True, "mfa_delete": False}], "website": [], "website_domain": None, "website_endpoint": None},
            deps=list(deps), private=private({"create": 20, "delete": 60, "read": 20, "update": 20}))],
            {"expressions": {"bucket": C(bname), "tags": C(tags)}})
    legacy_rules = [{"delete_marker_replication_status": "Enabled",
                     "destination": [{"access_control_translation": [], "account_id": "", "bucket": f"arn:aws:s3:::{dst_bucket}",
                                      "metrics": [], "replica_kms_key_id": "" if V else CMK_FRA, "replication_time": [],
                                      "storage_class": "STANDARD"}],
                     "filter": [{"prefix": "", "tags": {}}], "id": "documents-dr", "prefix": "", "priority": 1,
                     "source_selection_criteria": [{"sse_kms_encrypted_objects": [{"enabled": True}]}], "status": "Enabled"}]
    b = bucket("patient_documents", src_bucket, "eu-west-3", "aws",
               {"kms_master_key_id": CMK, "sse_algorithm": "aws:kms"},
               {"Classification": "donnees-de-sante", "Name": "documents-patients"},
               [{"role": f"arn:aws:iam::{ACCT}:role/dossier-patient-s3-replication", "rules": legacy_rules}])
    add(b)
    add(bucket("patient_documents_replica", dst_bucket, DR, DRP,
               {"kms_master_key_id": "", "sse_algorithm": "AES256"} if V else {"kms_master_key_id": CMK_FRA, "sse_algorithm": "aws:kms"},
               {"Classification": "donnees-de-sante", "Name": "documents-patients-pra"}))
    add(Res("", "managed", "aws_s3_bucket_server_side_encryption_configuration", "patient_documents", "aws", 0, [Inst({
        "bucket": src_bucket, "expected_bucket_owner": "", "id": src_bucket,
        "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": CMK, "sse_algorithm": "aws:kms"}], "bucket_key_enabled": True}]},
        deps=["aws_kms_key.main", "aws_s3_bucket.patient_documents"], private="bnVsbA==")],
        {"expressions": {"bucket": R("aws_s3_bucket.patient_documents.id"),
                         "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": R("aws_kms_key.main.arn"), "sse_algorithm": C("aws:kms")}],
                                   "bucket_key_enabled": C(True)}]}}))
    if C_:
        add(Res("", "managed", "aws_s3_bucket_server_side_encryption_configuration", "patient_documents_replica", DRP, 0, [Inst({
            "bucket": dst_bucket, "expected_bucket_owner": "", "id": dst_bucket,
            "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": CMK_FRA, "sse_algorithm": "aws:kms"}], "bucket_key_enabled": True}]},
            deps=["aws_s3_bucket.patient_documents_replica", "module.storage.aws_kms_key.replica"], private="bnVsbA==")],
            {"expressions": {"bucket": R("aws_s3_bucket.patient_documents_replica.id"),
                             "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": R("module.storage.replica_kms_key_arn"), "sse_algorithm": C("aws:kms")}],
                                       "bucket_key_enabled": C(True)}]}}))
    for nm, bn, prov in [("patient_documents", src_bucket, "aws"), ("patient_documents_replica", dst_bucket, DRP)]:
        add(Res("", "managed", "aws_s3_bucket_versioning", nm, prov, 0, [Inst({
            "bucket": bn, "expected_bucket_owner": "", "id": bn, "mfa": None,
            "versioning_configuration": [{"mfa_delete": "", "status": "Enabled"}]},
            deps=[f"aws_s3_bucket.{nm}"], private="bnVsbA==")],
            {"expressions": {"bucket": R(f"aws_s3_bucket.{nm}.id"), "versioning_configuration": [{"status": C("Enabled")}]}}))
    add(Res("", "managed", "aws_s3_bucket_replication_configuration", "patient_documents", "aws", 0, [Inst({
        "bucket": src_bucket, "id": src_bucket, "role": f"arn:aws:iam::{ACCT}:role/dossier-patient-s3-replication",
        "rule": [{"delete_marker_replication": [{"status": "Enabled"}],
                  "destination": [{"access_control_translation": [], "account": "", "bucket": f"arn:aws:s3:::{dst_bucket}",
                                   "encryption_configuration": [] if V else [{"replica_kms_key_id": CMK_FRA}],
                                   "metrics": [], "replication_time": [], "storage_class": "STANDARD"}],
                  "existing_object_replication": [], "filter": [{"and": [], "prefix": "", "tag": []}], "id": "documents-dr",
                  "prefix": "", "priority": 1,
                  "source_selection_criteria": [{"replica_modifications": [], "sse_kms_encrypted_objects": [{"status": "Enabled"}]}],
                  "status": "Enabled"}],
        "token": None},
        sensitive=["token"], deps=["aws_iam_role.s3_replication", "aws_s3_bucket.patient_documents", "aws_s3_bucket.patient_documents_replica",
                                   "aws_s3_bucket_versioning.patient_documents", "aws_s3_bucket_versioning.patient_documents_replica"]
        + ([] if V else ["module.storage.aws_kms_key.replica"]), private="bnVsbA==")],
        {"expressions": {"bucket": R("aws_s3_bucket.patient_documents.id"), "role": R("aws_iam_role.s3_replication.arn"),
                         "rule": [{"delete_marker_replication": [{"status": C("Enabled")}],
                                   "destination": [dict({"bucket": R("aws_s3_bucket.patient_documents_replica.arn"), "storage_class": C("STANDARD")},
                                                        **({} if V else {"encryption_configuration": [{"replica_kms_key_id": R("module.storage.replica_kms_key_arn")}]}))],
                                   "filter": [{}], "id": C("documents-dr"), "priority": C(1),
                                   "source_selection_criteria": [{"sse_kms_encrypted_objects": [{"status": C("Enabled")}]}],
                                   "status": C("Enabled")}]},
         "depends_on": ["aws_s3_bucket_versioning.patient_documents", "aws_s3_bucket_versioning.patient_documents_replica"]}))

    # ------------------------------------------------------------------ RDS
    db_ident = "dossier-patients-prod"
    db_pw = "FixtureSecret-RdsMasterPw-" + ("7Hq2Lw" if V else "K3vP9s")
    db_kms = RDS_AWS_KEY_ARN if V else CMK
    db_rid = "db-" + upper("dbi" + variant, 26)
    db_addr = f"{db_ident}.c{h('rdsacct' + variant, 11)}.eu-west-3.rds.amazonaws.com"
    DB_ARN = f"arn:aws:rds:eu-west-3:{ACCT}:db:{db_ident}"
    db_attrs = {
        "address": db_addr, "allocated_storage": 200, "allow_major_version_upgrade": None, "apply_immediately": False,
        "arn": DB_ARN, "auto_minor_version_upgrade": True, "availability_zone": "eu-west-3a",
        "backup_retention_period": 7, "backup_target": "region", "backup_window": "01:00-01:30", "blue_green_update": [],
        "ca_cert_identifier": "rds-ca-rsa2048-g1", "character_set_name": "", "copy_tags_to_snapshot": True,
        "custom_iam_instance_profile": "", "customer_owned_ip_enabled": False, "db_name": "dossiers",
        "db_subnet_group_name": "dossier-patient-prod", "dedicated_log_volume": False, "delete_automated_backups": True,
        "deletion_protection": not V, "domain": "", "domain_auth_secret_arn": "", "domain_dns_ips": [], "domain_fqdn": "",
        "domain_iam_role_name": "", "domain_ou": "", "enabled_cloudwatch_logs_exports": ["postgresql"],
        "endpoint": f"{db_addr}:5432", "engine": "postgres", "engine_lifecycle_support": "open-source-rds-extended-support",
        "engine_version": "16.4", "engine_version_actual": "16.4", "final_snapshot_identifier": "dossier-patients-prod-final",
        "hosted_zone_id": RDS_HZ["eu-west-3"], "iam_database_authentication_enabled": True, "id": db_rid,
        "identifier": db_ident, "identifier_prefix": "", "instance_class": "db.m6g.large", "iops": 3000,
        "kms_key_id": db_kms, "latest_restorable_time": "2025-05-12T07:35:00Z", "license_model": "postgresql-license",
        "listener_endpoint": [], "maintenance_window": "sun:03:00-sun:03:30", "manage_master_user_password": None,
        "master_user_secret": [], "master_user_secret_kms_key_id": None, "max_allocated_storage": 500,
        "monitoring_interval": 60, "monitoring_role_arn": f"arn:aws:iam::{ACCT}:role/rds-monitoring-role", "multi_az": False,
        "nchar_character_set_name": "", "network_type": "IPV4", "option_group_name": "default:postgres-16",
        "parameter_group_name": "default.postgres16", "password": db_pw, "performance_insights_enabled": True,
        "performance_insights_kms_key_id": db_kms, "performance_insights_retention_period": 7, "port": 5432,
        "publicly_accessible": False, "replica_mode": "", "replicas": [], "replicate_source_db": "", "resource_id": db_rid,
        "restore_to_point_in_time": [], "s3_import": [], "skip_final_snapshot": False, "snapshot_identifier": None,
        "status": "available", "storage_encrypted": True, "storage_throughput": 125, "storage_type": "gp3",
        "tags": {"Name": "rds-dossiers-patients", "Sauvegarde": "quotidienne"}, "tags_all": tags_all({"Name": "rds-dossiers-patients", "Sauvegarde": "quotidienne"}), "timeouts": None,
        "timezone": "", "upgrade_storage_config": None, "username": "dp_admin", "vpc_security_group_ids": [sg_db]}
    db_expr = {"allocated_storage": C(200), "backup_retention_period": C(7), "backup_window": C("01:00-01:30"),
               "copy_tags_to_snapshot": C(True), "db_name": C("dossiers"), "db_subnet_group_name": C("dossier-patient-prod"),
               "deletion_protection": C(not V), "enabled_cloudwatch_logs_exports": C(["postgresql"]), "engine": C("postgres"),
               "engine_version": C("16.4"), "final_snapshot_identifier": C("dossier-patients-prod-final"),
               "iam_database_authentication_enabled": C(True), "identifier": C(db_ident), "instance_class": C("db.m6g.large"),
               "maintenance_window": C("sun:03:00-sun:03:30"), "max_allocated_storage": C(500), "monitoring_interval": C(60),
               "monitoring_role_arn": C(f"arn:aws:iam::{ACCT}:role/rds-monitoring-role"), "password": R("var.db_password"),
               "performance_insights_enabled": C(True), "storage_encrypted": C(True), "storage_type": C("gp3"),
               "tags": C({"Name": "rds-dossiers-patients", "Sauvegarde": "quotidienne"}), "username": C("dp_admin"),
               "vpc_security_group_ids": R("module.network.db_security_group_id")}
    if C_:
        db_expr["kms_key_id"] = R("aws_kms_key.main.arn")
        db_expr["performance_insights_kms_key_id"] = R("aws_kms_key.main.arn")
    add(Res("", "managed", "aws_db_instance", "patients", "aws", 2, [Inst(db_attrs, sensitive=["password"],
        deps=(["data.aws_kms_key.rds_default"] if V else ["aws_kms_key.main"]) + ["module.network.aws_security_group.db", "module.network.aws_vpc.main"],
        private=private({"create": 40, "delete": 60, "update": 80}, 2))], {"expressions": db_expr}))
    ab_id = f"arn:aws:rds:{DR}:{ACCT}:auto-backup:ab-" + h("ab" + variant, 26, "abcdefghijklmnopqrstuvwxyz0123456789")
    add(Res("", "managed", "aws_db_instance_automated_backups_replication", "patients", DRP, 0, [Inst({
        "id": ab_id, "kms_key_id": DR_KMS, "pre_signed_url": None, "retention_period": 7,
        "source_db_instance_arn": DB_ARN, "timeouts": None},
        deps=["aws_db_instance.patients"] + ([] if V else ["module.storage.aws_kms_key.replica"]),
        private=private({"create": 75, "delete": 75}))],
        {"expressions": {"kms_key_id": C(DR_KMS) if V else R("module.storage.replica_kms_key_arn"),
                         "retention_period": C(7), "source_db_instance_arn": R("aws_db_instance.patients.arn")}}))

    cl_id = "dossier-analytics-prod"
    cl_ep = f"{cl_id}.cluster-c{h('rdsacct' + variant, 11)}.eu-west-3.rds.amazonaws.com"
    add(Res("", "managed", "aws_rds_cluster", "analytics", "aws", 0, [Inst({
        "allocated_storage": 1, "allow_major_version_upgrade": None, "apply_immediately": None,
        "arn": f"arn:aws:rds:eu-west-3:{ACCT}:cluster:{cl_id}",
        "availability_zones": ["eu-west-3a", "eu-west-3b", "eu-west-3c"], "backtrack_window": 0,
        "backup_retention_period": 14, "ca_certificate_identifier": "", "cluster_identifier": cl_id,
        "cluster_identifier_prefix": "", "cluster_members": ["dossier-analytics-prod-1"],
        "cluster_resource_id": "cluster-" + upper("clr" + variant, 26), "copy_tags_to_snapshot": True,
        "database_name": "analytique", "db_cluster_parameter_group_name": "default.aurora-postgresql16",
        "db_subnet_group_name": "dossier-patient-prod", "deletion_protection": True, "enable_global_write_forwarding": False,
        "enable_http_endpoint": False, "enabled_cloudwatch_logs_exports": ["postgresql"], "endpoint": cl_ep,
        "engine": "aurora-postgresql", "engine_mode": "provisioned", "engine_version": "16.4", "engine_version_actual": "16.4",
        "final_snapshot_identifier": "dossier-analytics-prod-final", "global_cluster_identifier": "",
        "hosted_zone_id": RDS_HZ["eu-west-3"], "iam_database_authentication_enabled": False, "id": cl_id,
        "kms_key_id": CMK, "manage_master_user_password": True, "master_password": None,
        "master_user_secret": [{"kms_key_id": CMK, "secret_arn": f"arn:aws:secretsmanager:eu-west-3:{ACCT}:secret:rds!cluster-{uid('sec' + variant)}-{h('s' + variant, 6)}", "secret_status": "active"}],
        "master_user_secret_kms_key_id": CMK, "master_username": "analytics_admin", "network_type": "IPV4", "port": 5432,
        "preferred_backup_window": "01:30-02:00", "preferred_maintenance_window": "sun:04:00-sun:04:30",
        "reader_endpoint": cl_ep.replace(".cluster-", ".cluster-ro-"), "replication_source_identifier": "",
        "skip_final_snapshot": False, "storage_encrypted": True, "storage_type": "", "tags": {"Name": "aurora-analytique"},
        "tags_all": tags_all({"Name": "aurora-analytique"}), "timeouts": None, "vpc_security_group_ids": [sg_db]},
        sensitive=["master_password"], deps=["aws_kms_key.main", "module.network.aws_security_group.db", "module.network.aws_vpc.main"],
        private=private({"create": 120, "delete": 120, "update": 120}))],
        {"expressions": {"backup_retention_period": C(14), "cluster_identifier": C(cl_id), "database_name": C("analytique"),
                         "db_subnet_group_name": C("dossier-patient-prod"), "deletion_protection": C(True), "engine": C("aurora-postgresql"),
                         "engine_version": C("16.4"), "final_snapshot_identifier": C("dossier-analytics-prod-final"),
                         "kms_key_id": R("aws_kms_key.main.arn"), "manage_master_user_password": C(True),
                         "master_user_secret_kms_key_id": R("aws_kms_key.main.arn"), "master_username": C("analytics_admin"),
                         "storage_encrypted": C(True), "tags": C({"Name": "aurora-analytique"}),
                         "vpc_security_group_ids": R("module.network.db_security_group_id")}}))

    # ------------------------------------------------------------------ DynamoDB global table
    tname = "dossier-patient-consentements"
    rep_region = "us-east-2" if V else "eu-central-1"
    stream_label = "2024-11-05T10:21:33.412"
    add(Res("", "managed", "aws_dynamodb_table", "consents", "aws", 1, [Inst({
        "arn": f"arn:aws:dynamodb:eu-west-3:{ACCT}:table/{tname}",
        "attribute": [{"name": "consent_id", "type": "S"}, {"name": "patient_id", "type": "S"}],
        "billing_mode": "PAY_PER_REQUEST", "deletion_protection_enabled": True, "global_secondary_index": [],
        "hash_key": "patient_id", "id": tname, "import_table": [], "local_secondary_index": [], "name": tname,
        "on_demand_throughput": [], "point_in_time_recovery": [{"enabled": True}], "range_key": "consent_id",
        "read_capacity": 0,
        "replica": [{"arn": f"arn:aws:dynamodb:{rep_region}:{ACCT}:table/{tname}", "kms_key_arn": "" if V else CMK_FRA,
                     "point_in_time_recovery": True, "propagate_tags": True, "region_name": rep_region,
                     "stream_arn": f"arn:aws:dynamodb:{rep_region}:{ACCT}:table/{tname}/stream/{stream_label}",
                     "stream_label": stream_label}],
        "restore_date_time": None, "restore_source_name": None, "restore_source_table_arn": None, "restore_to_latest_time": None,
        "server_side_encryption": [{"enabled": False, "kms_key_arn": ""}] if V else [{"enabled": True, "kms_key_arn": CMK}],
        "stream_arn": f"arn:aws:dynamodb:eu-west-3:{ACCT}:table/{tname}/stream/{stream_label}",
        "stream_enabled": True, "stream_label": stream_label, "stream_view_type": "NEW_AND_OLD_IMAGES",
        "table_class": "STANDARD", "tags": {"Name": "ddb-consentements"}, "tags_all": tags_all({"Name": "ddb-consentements"}),
        "timeouts": None, "ttl": [{"attribute_name": "", "enabled": False}], "write_capacity": 0},
        deps=[] if V else ["aws_kms_key.main", "module.storage.aws_kms_key.replica"],
        private=private({"create": 30, "delete": 10, "update": 60}, 1))],
        {"expressions": {"attribute": [{"name": C("consent_id"), "type": C("S")}, {"name": C("patient_id"), "type": C("S")}],
                         "billing_mode": C("PAY_PER_REQUEST"), "deletion_protection_enabled": C(True), "hash_key": C("patient_id"),
                         "name": C(tname), "point_in_time_recovery": [{"enabled": C(True)}], "range_key": C("consent_id"),
                         "replica": [dict({"point_in_time_recovery": C(True), "propagate_tags": C(True), "region_name": C(rep_region)},
                                          **({} if V else {"kms_key_arn": R("module.storage.replica_kms_key_arn")}))],
                         **({} if V else {"server_side_encryption": [{"enabled": C(True), "kms_key_arn": R("aws_kms_key.main.arn")}]}),
                         "stream_enabled": C(True), "stream_view_type": C("NEW_AND_OLD_IMAGES"),
                         "tags": C({"Name": "ddb-consentements"})}}))

    # ------------------------------------------------------------------ EC2 + EBS
    iid = "i-0" + h("inst" + variant, 16)
    def bd(dev, enc, size, seed, snap=None, root=False):
        d = {"delete_on_termination": root, "device_name": dev, "encrypted": enc, "iops": 3000,
             "kms_key_id": CMK if enc else "", "tags": {} if not root else None, "tags_all": {},
             "throughput": 125, "volume_id": "vol-0" + h(seed + variant, 16), "volume_size": size, "volume_type": "gp3"}
        if not root:
            d["snapshot_id"] = snap or ""
        return dict(sorted(d.items()))
    inst_attrs = {
        "ami": "ami-0b7c2e41d9f3a5e86", "arn": f"arn:aws:ec2:eu-west-3:{ACCT}:instance/{iid}",
        "associate_public_ip_address": False, "availability_zone": "eu-west-3a",
        "capacity_reservation_specification": [{"capacity_reservation_preference": "open", "capacity_reservation_target": []}],
        "cpu_options": [{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}], "credit_specification": [],
        "disable_api_stop": False, "disable_api_termination": True,
        "ebs_block_device": [bd("/dev/sdf", not V, 500, "ebs sdf")], "ebs_optimized": True, "enable_primary_ipv6": None,
        "enclave_options": [{"enabled": False}], "ephemeral_block_device": [], "get_password_data": False,
        "hibernation": False, "host_id": "", "host_resource_group_arn": None, "iam_instance_profile": "dossier-patient-app",
        "id": iid, "instance_initiated_shutdown_behavior": "stop", "instance_lifecycle": "", "instance_market_options": [],
        "instance_state": "running", "instance_type": "m6i.large", "ipv6_address_count": 0, "ipv6_addresses": [],
        "key_name": "", "launch_template": [], "maintenance_options": [{"auto_recovery": "default"}],
        "metadata_options": [{"http_endpoint": "enabled", "http_protocol_ipv6": "disabled", "http_put_response_hop_limit": 1,
                              "http_tokens": "required", "instance_metadata_tags": "disabled"}],
        "monitoring": True, "network_interface": [], "outpost_arn": "", "password_data": "", "placement_group": "",
        "placement_partition_number": 0, "primary_network_interface_id": "eni-0" + h("eni" + variant, 16),
        "private_dns": "ip-10-42-3-17.eu-west-3.compute.internal",
        "private_dns_name_options": [{"enable_resource_name_dns_a_record": False, "enable_resource_name_dns_aaaa_record": False, "hostname_type": "ip-name"}],
        "private_ip": "10.42.3.17", "public_dns": "", "public_ip": "",
        "root_block_device": [bd("/dev/xvda", True, 30, "ebs root", root=True)], "secondary_private_ips": [],
        "security_groups": [], "source_dest_check": True, "spot_instance_request_id": "", "subnet_id": subnets[0],
        "tags": {"Name": "dossier-patient-app-01", "Role": "api-dossier"},
        "tags_all": tags_all({"Name": "dossier-patient-app-01", "Role": "api-dossier"}), "tenancy": "default",
        "timeouts": None, "user_data": None, "user_data_base64": None, "user_data_replace_on_change": False,
        "volume_tags": None, "vpc_security_group_ids": [sg_app]}
    add(Res("", "managed", "aws_instance", "app", "aws", 1, [Inst(inst_attrs,
        deps=["aws_kms_key.main", "module.network.aws_security_group.app", "module.network.aws_subnet.private", "module.network.aws_vpc.main"],
        private=private({"create": 10, "delete": 20, "read": 15, "update": 10}, 1))],
        {"expressions": {"ami": R("var.app_ami"), "disable_api_termination": C(True), "ebs_optimized": C(True),
                         "ebs_block_device": [dict({"device_name": C("/dev/sdf"), "encrypted": C(not V), "volume_size": C(500),
                                                    "volume_type": C("gp3")}, **({} if V else {"kms_key_id": R("aws_kms_key.main.arn")}))],
                         "iam_instance_profile": C("dossier-patient-app"), "instance_type": C("m6i.large"),
                         "metadata_options": [{"http_tokens": C("required")}], "monitoring": C(True),
                         "root_block_device": [{"encrypted": C(True), "kms_key_id": R("aws_kms_key.main.arn"), "volume_size": C(30), "volume_type": C("gp3")}],
                         "subnet_id": R("module.network.private_subnet_ids[0]"),
                         "tags": C({"Name": "dossier-patient-app-01", "Role": "api-dossier"}),
                         "vpc_security_group_ids": R("module.network.app_security_group_id")}}))
    vol_id = "vol-0" + h("imports" + variant, 16)
    vol_tags = {"Name": "<script>alert(1)</script>", "Usage": "imports-hl7"} if V else {"Name": "dossier-patient-imports", "Usage": "imports-hl7"}
    add(Res("", "managed", "aws_ebs_volume", "imports", "aws", 0, [Inst({
        "arn": f"arn:aws:ec2:eu-west-3:{ACCT}:volume/{vol_id}", "availability_zone": "eu-west-3b",
        "encrypted": not V, "final_snapshot": False, "id": vol_id, "iops": 3000, "kms_key_id": "" if V else CMK,
        "multi_attach_enabled": False, "outpost_arn": "", "size": 250, "snapshot_id": "", "tags": vol_tags,
        "tags_all": tags_all(vol_tags), "throughput": 125, "timeouts": None, "type": "gp3"},
        deps=[] if V else ["aws_kms_key.main"], private=private({"create": 5, "delete": 5, "update": 5}))],
        {"expressions": dict({"availability_zone": C("eu-west-3b"), "encrypted": C(not V), "size": C(250), "tags": C(vol_tags),
                              "type": C("gp3")}, **({} if V else {"kms_key_id": R("aws_kms_key.main.arn")}))}))

    # ------------------------------------------------------------------ module.storage: EFS (+ replication to eu-central-1)
    fs_id = "fs-0" + h("efs" + variant, 16)
    fs_dst = "fs-0" + h("efsdst" + variant, 16)
    add(Res("module.storage", "managed", "aws_efs_file_system", "documents", "aws", 0, [Inst({
        "arn": f"arn:aws:elasticfilesystem:eu-west-3:{ACCT}:file-system/{fs_id}", "availability_zone_id": "",
        "availability_zone_name": "", "creation_token": "dossier-patient-documents", "dns_name": f"{fs_id}.efs.eu-west-3.amazonaws.com",
        "encrypted": True, "id": fs_id, "kms_key_id": CMK,
        "lifecycle_policy": [{"transition_to_archive": "", "transition_to_ia": "AFTER_30_DAYS", "transition_to_primary_storage_class": ""}],
        "name": "dossier-patient-documents", "number_of_mount_targets": 3, "owner_id": ACCT, "performance_mode": "generalPurpose",
        "protection": [{"replication_overwrite": "ENABLED"}], "provisioned_throughput_in_mibps": 0,
        "size_in_bytes": [{"value": 734003200, "value_in_archive": 0, "value_in_ia": 0, "value_in_standard": 734003200}],
        "tags": {"Name": "dossier-patient-documents"}, "tags_all": tags_all({"Name": "dossier-patient-documents"}),
        "throughput_mode": "elastic"},
        deps=["aws_kms_key.main"], private="bnVsbA==")],
        {"expressions": {"creation_token": C("dossier-patient-documents"), "encrypted": C(True), "kms_key_id": R("var.kms_key_arn"),
                         "lifecycle_policy": [{"transition_to_ia": C("AFTER_30_DAYS")}], "tags": C({"Name": "dossier-patient-documents"}),
                         "throughput_mode": C("elastic")}}))
    add(Res("module.storage", "managed", "aws_efs_replication_configuration", "documents", "aws", 0, [Inst({
        "creation_time": "2024-11-12 09:42:07 +0000 UTC",
        "destination": [{"availability_zone_name": "", "file_system_id": fs_dst, "kms_key_id": CMK_FRA, "region": "eu-central-1", "status": "ENABLED"}],
        "id": fs_id, "original_source_file_system_arn": f"arn:aws:elasticfilesystem:eu-west-3:{ACCT}:file-system/{fs_id}",
        "source_file_system_arn": f"arn:aws:elasticfilesystem:eu-west-3:{ACCT}:file-system/{fs_id}",
        "source_file_system_id": fs_id, "source_file_system_region": "eu-west-3", "timeouts": None},
        deps=["aws_kms_key.main", "module.storage.aws_efs_file_system.documents", "module.storage.aws_kms_key.replica"],
        private=private({"create": 20, "delete": 20}))],
        {"expressions": {"destination": [{"kms_key_id": R("aws_kms_key.replica.arn"), "region": C("eu-central-1")}],
                         "source_file_system_id": R("aws_efs_file_system.documents.id")}}))

    # ------------------------------------------------------------------ module.storage.module.backup: AWS Backup
    M2 = "module.storage.module.backup"
    vault_main = "dossier-patient-prod"
    vault_dr = f"dossier-patient-dr-{DRS}"
    VAULT_DR_ARN = f"arn:aws:backup:{DR}:{ACCT}:backup-vault:{vault_dr}"
    DR_VAULT_KEY = (f"arn:aws:kms:us-east-1:{ACCT}:key/{uid('aws/backup us' + variant)}" if V else CMK_FRA)
    def vault(name, vname, provider, region, key, recpts, deps, key_expr):
        return Res(M2, "managed", "aws_backup_vault", name, provider, 0, [Inst({
            "arn": f"arn:aws:backup:{region}:{ACCT}:backup-vault:{vname}", "force_destroy": False, "id": vname,
            "kms_key_arn": key, "name": vname, "recovery_points": recpts, "tags": {"Name": vname},
            "tags_all": tags_all({"Name": vname}), "timeouts": None},
            deps=deps, private=private({"delete": 60}))],
            {"expressions": dict({"name": C(vname), "tags": C({"Name": vname})}, **key_expr)})
    add(vault("main", vault_main, "aws", "eu-west-3", CMK, 1423, ["aws_kms_key.main"], {"kms_key_arn": R("var.kms_key_arn")}))
    add(vault("dr", vault_dr, DRP, DR, DR_VAULT_KEY, 1398, [] if V else ["module.storage.aws_kms_key.replica"],
              {} if V else {"kms_key_arn": R("var.dr_kms_key_arn")}))
    plan_id = uid("backup plan" + variant)
    add(Res(M2, "managed", "aws_backup_plan", "daily", "aws", 0, [Inst({
        "advanced_backup_setting": [], "arn": f"arn:aws:backup:eu-west-3:{ACCT}:backup-plan:{plan_id}", "id": plan_id,
        "name": "dossier-patient-quotidien",
        "rule": [{"completion_window": 180,
                  "copy_action": [{"destination_vault_arn": VAULT_DR_ARN,
                                   "lifecycle": [{"cold_storage_after": 0, "delete_after": 35, "opt_in_to_archive_for_supported_resources": False}]}],
                  "enable_continuous_backup": False,
                  "lifecycle": [{"cold_storage_after": 0, "delete_after": 35, "opt_in_to_archive_for_supported_resources": False}],
                  "recovery_point_tags": {}, "rule_name": "quotidien", "schedule": "cron(0 1 * * ? *)",
                  "schedule_expression_timezone": "Europe/Paris", "start_window": 60, "target_vault_name": vault_main}],
        "tags": {}, "tags_all": tags_all({}), "version": b64("bkver" + variant, 40)},
        deps=[f"{M2}.aws_backup_vault.dr", f"{M2}.aws_backup_vault.main", "aws_kms_key.main"]
        + ([] if V else ["module.storage.aws_kms_key.replica"]), private="bnVsbA==")],
        {"expressions": {"name": C("dossier-patient-quotidien"),
                         "rule": [{"copy_action": [{"destination_vault_arn": R("aws_backup_vault.dr.arn"),
                                                    "lifecycle": [{"delete_after": C(35)}]}],
                                   "lifecycle": [{"delete_after": C(35)}], "rule_name": C("quotidien"),
                                   "schedule": C("cron(0 1 * * ? *)"), "schedule_expression_timezone": C("Europe/Paris"),
                                   "target_vault_name": R("aws_backup_vault.main.name")}]}}))
    # ------------------------------------------------------------------ random
    mssql_pw = "FixtureSecret-RandomPw-" + ("Xk29vLqM" if V else "Tz84nWbD")
    bcrypt = "$2a$10$FixtureSecretBcrypt" + ("Hash" if V else "Cmpl") + h("bc" + variant, 60, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./")
    bcrypt = bcrypt[:60]
    add(Res("", "managed", "random_password", "mssql_admin", "random", 3, [Inst({
        "bcrypt_hash": bcrypt, "id": "none", "keepers": None, "length": 31, "lower": True, "min_lower": 2, "min_numeric": 2,
        "min_special": 0, "min_upper": 2, "number": True, "numeric": True, "override_special": None, "result": mssql_pw,
        "special": True, "upper": True}, sensitive=["bcrypt_hash", "result"])],
        {"expressions": {"length": C(31), "min_lower": C(2), "min_numeric": C(2), "min_upper": C(2)}}))

    # ------------------------------------------------------------------ Azure
    def azid(prov, rest):
        return f"{RGID}/providers/{prov}/{rest}"
    add(Res("", "managed", "azurerm_resource_group", "sante", "azurerm", 0, [Inst({
        "id": RGID, "location": "francecentral", "managed_by": "", "name": RG, "tags": AZ_TAGS, "timeouts": None},
        private=private({"create": 90, "delete": 90, "read": 5, "update": 90}))],
        {"expressions": {"location": R("var.azure_location"), "name": C(RG), "tags": R("local.azure_tags")}}))
    uai = azid("Microsoft.ManagedIdentity", "userAssignedIdentities/id-dpat-cmk")
    add(Res("", "managed", "azurerm_user_assigned_identity", "cmk", "azurerm", 1, [Inst({
        "client_id": uid("uai client" + variant), "id": uai, "location": "francecentral", "name": "id-dpat-cmk",
        "principal_id": uid("uai principal" + variant), "resource_group_name": RG, "tags": AZ_TAGS,
        "tenant_id": TENANT, "timeouts": None}, deps=["azurerm_resource_group.sante"],
        private=private({"create": 30, "delete": 30, "read": 5, "update": 30}, 1))],
        {"expressions": {"location": R("azurerm_resource_group.sante.location"), "name": C("id-dpat-cmk"),
                         "resource_group_name": R("azurerm_resource_group.sante.name"), "tags": R("local.azure_tags")}}))
    snet = azid("Microsoft.Network", "virtualNetworks/vnet-dpat-prod-frc/subnets/snet-postgres")
    KVID = azid("Microsoft.KeyVault", f"vaults/{KV}")
    add(Res("", "managed", "azurerm_key_vault", "sante", "azurerm", 2, [Inst({
        "access_policy": [], "contact": [], "enable_rbac_authorization": True, "enabled_for_deployment": False,
        "enabled_for_disk_encryption": True, "enabled_for_template_deployment": False, "id": KVID, "location": "francecentral",
        "name": KV, "network_acls": [{"bypass": "AzureServices", "default_action": "Deny", "ip_rules": [], "virtual_network_subnet_ids": []}],
        "public_network_access_enabled": True, "purge_protection_enabled": True, "resource_group_name": RG, "sku_name": "premium",
        "soft_delete_retention_days": 90, "tags": AZ_TAGS, "tenant_id": TENANT, "timeouts": None, "vault_uri": KVURI},
        deps=["azurerm_resource_group.sante", "data.azurerm_client_config.current"],
        private=private({"create": 30, "delete": 30, "read": 5, "update": 30}, 2))],
        {"expressions": {"enable_rbac_authorization": C(True), "enabled_for_disk_encryption": C(True),
                         "location": R("azurerm_resource_group.sante.location"), "name": C(KV),
                         "network_acls": [{"bypass": C("AzureServices"), "default_action": C("Deny")}],
                         "purge_protection_enabled": C(True), "resource_group_name": R("azurerm_resource_group.sante.name"),
                         "sku_name": C("premium"), "soft_delete_retention_days": C(90), "tags": R("local.azure_tags"),
                         "tenant_id": R("data.azurerm_client_config.current.tenant_id")}}))
    keys = {}
    for kname in ["storage", "tde", "disks", "data"]:
        ver = h(f"kv {kname}" + variant, 32)
        kid = f"{KVURI}keys/cmk-{kname}/{ver}"
        keys[kname] = {"id": kid, "versionless": f"{KVURI}keys/cmk-{kname}", "version": ver}
        add(Res("", "managed", "azurerm_key_vault_key", kname, "azurerm", 0, [Inst({
            "curve": "", "e": "AQAB", "expiration_date": None, "id": kid,
            "key_opts": ["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"], "key_size": 3072, "key_type": "RSA-HSM",
            "key_vault_id": KVID, "n": h(f"n {kname}" + variant, 512, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            "name": f"cmk-{kname}", "not_before_date": None,
            "resource_id": f"{KVID}/keys/cmk-{kname}/versions/{ver}", "resource_versionless_id": f"{KVID}/keys/cmk-{kname}",
            "rotation_policy": [{"automatic": [{"time_after_creation": "", "time_before_expiry": "P30D"}], "expire_after": "P1Y", "notify_before_expiry": "P29D"}],
            "tags": {}, "timeouts": None, "version": ver, "versionless_id": f"{KVURI}keys/cmk-{kname}", "x": "", "y": ""},
            deps=["azurerm_key_vault.sante", "azurerm_resource_group.sante", "data.azurerm_client_config.current"],
            private=private({"create": 30, "delete": 30, "read": 30, "update": 30}))],
            {"expressions": {"key_opts": C(["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"]), "key_size": C(3072),
                             "key_type": C("RSA-HSM"), "key_vault_id": R("azurerm_key_vault.sante.id"), "name": C(f"cmk-{kname}")}}))

    # storage accounts
    def storage(addr_name, index, name, location, repl, secondary, cmk_inline, tags, seed, expr):
        k1 = ("FixtureSecret" + seed.title().replace(" ", "") + "PrimaryKey" + b64(seed + "k1" + variant, 88))[:86] + "=="
        k2 = ("FixtureSecret" + seed.title().replace(" ", "") + "SecondaryKey" + b64(seed + "k2" + variant, 88))[:86] + "=="
        cs = lambda k: f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={k};EndpointSuffix=core.windows.net"
        bcs = lambda k, sec: f"DefaultEndpointsProtocol=https;BlobEndpoint=https://{name}{'-secondary' if sec else ''}.blob.core.windows.net/;AccountName={name};AccountKey={k}"
        ep = lambda svc, sec=False: f"https://{name}{'-secondary' if sec else ''}.{svc}.core.windows.net/"
        hst = lambda svc, sec=False: f"{name}{'-secondary' if sec else ''}.{svc}.core.windows.net"
        geo = bool(secondary)
        a = {
            "access_tier": "Hot", "account_kind": "StorageV2", "account_replication_type": repl, "account_tier": "Standard",
            "allow_nested_items_to_be_public": False, "allowed_copy_scope": "", "azure_files_authentication": [],
            "blob_properties": [{"change_feed_enabled": False, "change_feed_retention_in_days": 0, "container_delete_retention_policy": [{"days": 30}],
                                 "cors_rule": [], "default_service_version": "", "delete_retention_policy": [{"days": 30, "permanent_delete_enabled": False}],
                                 "last_access_time_enabled": False, "restore_policy": [], "versioning_enabled": True}],
            "cross_tenant_replication_enabled": False, "custom_domain": [], "customer_managed_key": cmk_inline,
            "default_to_oauth_authentication": True, "dns_endpoint_type": "Standard", "edge_zone": "",
            "https_traffic_only_enabled": True, "id": azid("Microsoft.Storage", f"storageAccounts/{name}"),
            "identity": [{"identity_ids": [uai], "principal_id": "", "tenant_id": "", "type": "UserAssigned"}],
            "immutability_policy": [], "infrastructure_encryption_enabled": True, "is_hns_enabled": False,
            "large_file_share_enabled": False, "local_user_enabled": False, "location": location, "min_tls_version": "TLS1_2",
            "name": name, "network_rules": [{"bypass": ["AzureServices"], "default_action": "Deny", "ip_rules": [], "private_link_access": [], "virtual_network_subnet_ids": []}],
            "nfsv3_enabled": False, "primary_access_key": k1, "primary_blob_connection_string": bcs(k1, False),
            "primary_blob_endpoint": ep("blob"), "primary_blob_host": hst("blob"), "primary_connection_string": cs(k1),
            "primary_dfs_endpoint": ep("dfs"), "primary_dfs_host": hst("dfs"), "primary_file_endpoint": ep("file"),
            "primary_file_host": hst("file"), "primary_location": location, "primary_queue_endpoint": ep("queue"),
            "primary_queue_host": hst("queue"), "primary_table_endpoint": ep("table"), "primary_table_host": hst("table"),
            "primary_web_endpoint": f"https://{name}.z28.web.core.windows.net/", "primary_web_host": f"{name}.z28.web.core.windows.net",
            "public_network_access_enabled": False, "queue_encryption_key_type": "Service", "queue_properties": [],
            "resource_group_name": RG, "routing": [], "sas_policy": [], "secondary_access_key": k2,
            "secondary_blob_connection_string": bcs(k2, True) if geo else "",
            "secondary_blob_endpoint": ep("blob", True) if geo else "", "secondary_blob_host": hst("blob", True) if geo else "",
            "secondary_location": secondary,
            "sftp_enabled": False, "share_properties": [], "shared_access_key_enabled": True, "static_website": [],
            "table_encryption_key_type": "Service", "tags": tags, "timeouts": None}
        sens = ["primary_access_key", "primary_blob_connection_string", "primary_connection_string",
                "secondary_access_key", "secondary_blob_connection_string"]
        secrets = [k1, k2, cs(k1)]
        return Inst(a, index=index, sensitive=sens, deps=["azurerm_resource_group.sante", "azurerm_user_assigned_identity.cmk"]
                    + (["azurerm_key_vault_key.storage"] if cmk_inline else []),
                    private=private({"create": 60, "delete": 60, "read": 5, "update": 60}, 4)), secrets
    st_secrets = []
    i_dos, s = storage("dossiers", None, "stdossierprodfrc01" if V else "stdossierprodfrc02", "francecentral", "GRS", "francesouth", [],
                       dict(AZ_TAGS, usage="dossiers-patients"), "dossiers", None)
    st_secrets += s
    add(Res("", "managed", "azurerm_storage_account", "dossiers", "azurerm", 4, [i_dos],
        {"expressions": {"account_replication_type": C("GRS"), "account_tier": C("Standard"), "allow_nested_items_to_be_public": C(False),
                         "default_to_oauth_authentication": C(True), "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}],
                         "infrastructure_encryption_enabled": C(True), "location": R("azurerm_resource_group.sante.location"),
                         "min_tls_version": C("TLS1_2"), "name": C(i_dos.attrs["name"]),
                         "network_rules": [{"bypass": C(["AzureServices"]), "default_action": C("Deny")}],
                         "public_network_access_enabled": C(False), "resource_group_name": R("azurerm_resource_group.sante.name"),
                         "tags": R("local.azure_tags")},
}))
    exports = ({"uk": ("uksouth", "GRS", "ukwest"), "us": ("eastus", "LRS", "")} if V
               else {"de": ("germanywestcentral", "GRS", "germanynorth"), "fr": ("francecentral", "LRS", "")})
    ex_insts = []
    for key, (loc, repl, sec) in sorted(exports.items()):
        inline = [] if V else [{"key_vault_key_id": keys["storage"]["versionless"], "managed_hsm_key_id": "", "user_assigned_identity_id": uai}]
        inst, s = storage("exports", key, f"stdossierexp{key}{'01' if V else '02'}", loc, repl, sec, inline,
                          dict(AZ_TAGS, usage=f"exports-{key}"), f"exports {key}", None)
        ex_insts.append(inst)
        st_secrets += s
    ex_expr = {"account_replication_type": R("each.value.replication"), "account_tier": C("Standard"),
               "allow_nested_items_to_be_public": C(False), "default_to_oauth_authentication": C(True),
               "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}],
               "infrastructure_encryption_enabled": C(True), "location": R("each.value.location"), "min_tls_version": C("TLS1_2"),
               "name": R("each.key"),
               "public_network_access_enabled": C(False), "resource_group_name": R("azurerm_resource_group.sante.name"),
               "tags": R("local.azure_tags", "each.key")}
    if C_:
        ex_expr["customer_managed_key"] = [{"key_vault_key_id": R("azurerm_key_vault_key.storage.versionless_id"),
                                            "user_assigned_identity_id": R("azurerm_user_assigned_identity.cmk.id")}]
    add(Res("", "managed", "azurerm_storage_account", "exports", "azurerm", 4, ex_insts,
        {"expressions": ex_expr, "for_each_expression": R("local.export_accounts")}))
    add(Res("", "managed", "azurerm_storage_account_customer_managed_key", "dossiers", "azurerm", 0, [Inst({
        "federated_identity_client_id": "", "id": i_dos.attrs["id"], "key_name": "cmk-storage", "key_vault_id": KVID,
        "key_vault_uri": KVURI, "key_version": "", "managed_hsm_key_id": "",
        "storage_account_id": i_dos.attrs["id"], "timeouts": None, "user_assigned_identity_id": uai},
        deps=["azurerm_key_vault.sante", "azurerm_key_vault_key.storage", "azurerm_resource_group.sante",
              "azurerm_storage_account.dossiers", "azurerm_user_assigned_identity.cmk"],
        private=private({"create": 30, "delete": 30, "read": 5, "update": 30}))],
        {"expressions": {"key_name": R("azurerm_key_vault_key.storage.name"), "key_vault_id": R("azurerm_key_vault.sante.id"),
                         "storage_account_id": R("azurerm_storage_account.dossiers.id"),
                         "user_assigned_identity_id": R("azurerm_user_assigned_identity.cmk.id")}}))

    # Azure SQL
    sql_secrets = []
    def mssql(name, sname, pw, pw_expr, tde_key, seed):
        sid = azid("Microsoft.Sql", f"servers/{sname}")
        srv = Res("", "managed", "azurerm_mssql_server", name, "azurerm", 0, [Inst({
            "administrator_login": "dpadmin", "administrator_login_password": pw, "azuread_administrator": [], "connection_policy": "Default",
            "express_vulnerability_assessment_enabled": False, "fully_qualified_domain_name": f"{sname}.database.windows.net",
            "id": sid, "identity": [{"identity_ids": [uai], "principal_id": "", "tenant_id": "", "type": "UserAssigned"}],
            "location": "francecentral", "minimum_tls_version": "1.2", "name": sname, "outbound_network_restriction_enabled": False,
            "primary_user_assigned_identity_id": uai, "public_network_access_enabled": False, "resource_group_name": RG,
            "restorable_dropped_database_ids": [], "tags": AZ_TAGS, "timeouts": None,
            "transparent_data_encryption_key_vault_key_id": tde_key or "", "version": "12.0"},
            sensitive=["administrator_login_password"],
            deps=["azurerm_resource_group.sante", "azurerm_user_assigned_identity.cmk"] + (["random_password.mssql_admin"] if name == "main" else []),
            private=private({"create": 60, "delete": 60, "read": 5, "update": 60}))],
            {"expressions": {"administrator_login": C("dpadmin"), "administrator_login_password": pw_expr,
                             "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}],
                             "location": R("azurerm_resource_group.sante.location"), "minimum_tls_version": C("1.2"), "name": C(sname),
                             "primary_user_assigned_identity_id": R("azurerm_user_assigned_identity.cmk.id"),
                             "public_network_access_enabled": C(False), "resource_group_name": R("azurerm_resource_group.sante.name"),
                             "tags": R("local.azure_tags"), "version": C("12.0")}})
        tde = Res("", "managed", "azurerm_mssql_server_transparent_data_encryption", name, "azurerm", 0, [Inst({
            "auto_rotation_enabled": bool(tde_key), "id": sid + "/encryptionProtector/current", "key_vault_key_id": tde_key or "",
            "managed_hsm_key_id": "", "server_id": sid, "timeouts": None},
            deps=["azurerm_mssql_server." + name] + (["azurerm_key_vault_key.tde"] if tde_key else []),
            private=private({"create": 30, "delete": 30, "read": 5, "update": 30}))],
            {"expressions": dict({"server_id": R(f"azurerm_mssql_server.{name}.id")},
                                 **({"auto_rotation_enabled": C(True), "key_vault_key_id": R("azurerm_key_vault_key.tde.id")} if tde_key else {}))})
        return sid, srv, tde
    sid_main, srv, tde = mssql("main", "sql-dossier-prod-frc" + ("" if V else "-c"), mssql_pw, R("random_password.mssql_admin.result"), keys["tde"]["id"], "main")
    add(srv); add(tde)
    rep_pw = "FixtureSecret-MssqlReportingPw-" + ("3Rt8Kd" if V else "Vn62Qa")
    sid_rep, srv, tde = mssql("reporting", "sql-reporting-prod-frc" + ("" if V else "-c"), rep_pw, R("var.mssql_reporting_password"),
                              None if V else keys["tde"]["id"], "rep")
    add(srv); add(tde)
    def sqldb(name, dbname, sid, srvname, sku, size):
        return Res("", "managed", "azurerm_mssql_database", name, "azurerm", 1, [Inst({
            "auto_pause_delay_in_minutes": 0, "collation": "French_CI_AS", "create_mode": "Default",
            "creation_source_database_id": None, "elastic_pool_id": "", "enclave_type": "", "geo_backup_enabled": True,
            "id": f"{sid}/databases/{dbname}", "identity": [], "import": [], "ledger_enabled": False,
            "license_type": "LicenseIncluded",
            "long_term_retention_policy": [{"immutable_backups_enabled": False, "monthly_retention": "P12M", "week_of_year": 1, "weekly_retention": "P4W", "yearly_retention": "P10Y"}],
            "maintenance_configuration_name": "SQL_Default", "max_size_gb": size, "min_capacity": 0, "name": dbname,
            "read_replica_count": 0, "read_scale": False, "recover_database_id": None, "recovery_point_id": None,
            "restore_dropped_database_id": None, "restore_long_term_retention_backup_id": None, "restore_point_in_time": None,
            "sample_name": None, "secondary_type": "", "server_id": sid,
            "short_term_retention_policy": [{"backup_interval_in_hours": 12, "retention_days": 35}], "sku_name": sku,
            "storage_account_type": "Geo", "tags": AZ_TAGS,
            "threat_detection_policy": [{"disabled_alerts": [], "email_account_admins": "Disabled", "email_addresses": [], "retention_days": 0, "state": "Disabled", "storage_account_access_key": "", "storage_endpoint": ""}],
            "timeouts": None, "transparent_data_encryption_enabled": True,
            "transparent_data_encryption_key_automatic_rotation_enabled": False, "transparent_data_encryption_key_vault_key_id": "",
            "zone_redundant": False},
            sensitive=[("threat_detection_policy", 0, "storage_account_access_key")],
            deps=["azurerm_mssql_server." + srvname, "azurerm_resource_group.sante", "azurerm_user_assigned_identity.cmk"],
            private=private({"create": 60, "delete": 60, "read": 5, "update": 60}, 1))],
            {"expressions": {"collation": C("French_CI_AS"),
                             "max_size_gb": C(size), "name": C(dbname), "server_id": R(f"azurerm_mssql_server.{srvname}.id"),
                             "short_term_retention_policy": [{"backup_interval_in_hours": C(12), "retention_days": C(35)}],
                             "sku_name": C(sku), "storage_account_type": C("Geo"), "tags": R("local.azure_tags")}})
    add(sqldb("dossiers", "sqldb-dossiers", sid_main, "main", "GP_Gen5_4", 250))
    add(sqldb("reporting", "sqldb-reporting", sid_rep, "reporting", "GP_S_Gen5_2", 64))

    # PostgreSQL flexible server
    pg_pw = "FixtureSecret-PgAdminPw-" + ("9Fz4Qm" if V else "Lr7Ye2")
    pg_cmk = [] if V else [{"geo_backup_key_vault_key_id": "", "geo_backup_user_assigned_identity_id": "",
                            "key_vault_key_id": keys["data"]["id"], "primary_user_assigned_identity_id": uai}]
    add(Res("", "managed", "azurerm_postgresql_flexible_server", "rdv", "azurerm", 0, [Inst({
        "administrator_login": "rdvadmin", "administrator_password": pg_pw,
        "authentication": [{"active_directory_auth_enabled": False, "password_auth_enabled": True, "tenant_id": ""}],
        "auto_grow_enabled": True, "backup_retention_days": 35, "create_mode": None, "customer_managed_key": pg_cmk,
        "delegated_subnet_id": snet, "fqdn": f"psql-rdv-prod-frc{sfx}.postgres.database.azure.com",
        "geo_redundant_backup_enabled": V, "high_availability": [{"mode": "ZoneRedundant", "standby_availability_zone": "2"}],
        "id": azid("Microsoft.DBforPostgreSQL", f"flexibleServers/psql-rdv-prod-frc{sfx}"),
        "identity": [] if V else [{"identity_ids": [uai], "principal_id": "", "tenant_id": "", "type": "UserAssigned"}],
        "location": "francecentral", "maintenance_window": [], "name": f"psql-rdv-prod-frc{sfx}",
        "point_in_time_restore_time_in_utc": None,
        "private_dns_zone_id": azid("Microsoft.Network", "privateDnsZones/privatelink.postgres.database.azure.com"),
        "public_network_access_enabled": False, "replication_role": "", "resource_group_name": RG,
        "sku_name": "GP_Standard_D4ds_v5", "source_server_id": None, "storage_mb": 262144, "storage_tier": "P15",
        "tags": AZ_TAGS, "timeouts": None, "version": "16", "zone": "1"},
        sensitive=["administrator_password"],
        deps=["azurerm_resource_group.sante"]
        + ([] if V else ["azurerm_key_vault_key.data", "azurerm_user_assigned_identity.cmk"]),
        private=private({"create": 60, "delete": 60, "read": 5, "update": 60}, 1))],
        {"expressions": dict({"administrator_login": C("rdvadmin"), "administrator_password": R("var.pg_admin_password"),
                              "backup_retention_days": C(35), "delegated_subnet_id": R("var.postgres_subnet_id"),
                              "geo_redundant_backup_enabled": C(V), "high_availability": [{"mode": C("ZoneRedundant"), "standby_availability_zone": C("2")}],
                              "location": R("azurerm_resource_group.sante.location"), "name": C(f"psql-rdv-prod-frc{sfx}"),
                              "public_network_access_enabled": C(False), "resource_group_name": R("azurerm_resource_group.sante.name"),
                              "sku_name": C("GP_Standard_D4ds_v5"), "storage_mb": C(262144), "tags": R("local.azure_tags"),
                              "version": C("16"), "zone": C("1")},
                             **({} if V else {"customer_managed_key": [{"key_vault_key_id": R("azurerm_key_vault_key.data.id"),
                                                                        "primary_user_assigned_identity_id": R("azurerm_user_assigned_identity.cmk.id")}],
                                              "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}]}))}))

    # Recovery Services vault
    add(Res("", "managed", "azurerm_recovery_services_vault", "sante", "azurerm", 0, [Inst({
        "classic_vmware_replication_enabled": False, "cross_region_restore_enabled": True,
        "encryption": [] if V else [{"infrastructure_encryption_enabled": True, "key_id": keys["data"]["versionless"],
                                     "use_system_assigned_identity": False, "user_assigned_identity_id": uai}],
        "id": azid("Microsoft.RecoveryServices", "vaults/rsv-dossier-prod-frc"),
        "identity": [] if V else [{"identity_ids": [uai], "principal_id": "", "tenant_id": "", "type": "UserAssigned"}],
        "immutability": "Disabled", "location": "francecentral",
        "monitoring": [{"alerts_for_all_job_failures_enabled": True, "alerts_for_critical_operation_failures_enabled": True}],
        "name": "rsv-dossier-prod-frc", "public_network_access_enabled": True, "resource_group_name": RG, "sku": "Standard",
        "soft_delete_enabled": True, "storage_mode_type": "GeoRedundant", "tags": AZ_TAGS, "timeouts": None},
        deps=["azurerm_resource_group.sante"] + ([] if V else ["azurerm_key_vault_key.data", "azurerm_user_assigned_identity.cmk"]),
        private=private({"create": 120, "delete": 30, "read": 5, "update": 60}, 1))],
        {"expressions": dict({"cross_region_restore_enabled": C(True), "location": R("azurerm_resource_group.sante.location"),
                              "name": C("rsv-dossier-prod-frc"), "resource_group_name": R("azurerm_resource_group.sante.name"),
                              "sku": C("Standard"), "soft_delete_enabled": C(True), "storage_mode_type": C("GeoRedundant"),
                              "tags": R("local.azure_tags")},
                             **({} if V else {"encryption": [{"infrastructure_encryption_enabled": C(True), "key_id": R("azurerm_key_vault_key.data.versionless_id"),
                                                              "use_system_assigned_identity": C(False), "user_assigned_identity_id": R("azurerm_user_assigned_identity.cmk.id")}],
                                              "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}]}))}))

    # Cosmos DB
    cname = "cosmos-notif-prod-frc" + sfx
    loc2 = "eastus" if V else "germanywestcentral"
    ck1 = "FixtureSecretCosmosPrimaryKey" + b64("cosmos1" + variant, 57) + "=="
    ck2 = "FixtureSecretCosmosSecondaryKey" + b64("cosmos2" + variant, 55) + "=="
    cconn = lambda k: f"AccountEndpoint=https://{cname}.documents.azure.com:443/;AccountKey={k};"
    add(Res("", "managed", "azurerm_cosmosdb_account", "notifications", "azurerm", 1, [Inst({
        "access_key_metadata_writes_enabled": True, "analytical_storage": [], "analytical_storage_enabled": False,
        "automatic_failover_enabled": True,
        "backup": [{"interval_in_minutes": 240, "retention_in_hours": 8, "storage_redundancy": "Geo", "tier": "", "type": "Periodic"}],
        "burst_capacity_enabled": False, "capabilities": [], "capacity": [],
        "consistency_policy": [{"consistency_level": "Session", "max_interval_in_seconds": 5, "max_staleness_prefix": 100}],
        "cors_rule": [], "create_mode": "", "default_identity_type": f"UserAssignedIdentity={uai}",
        "endpoint": f"https://{cname}.documents.azure.com:443/", "free_tier_enabled": False,
        "geo_location": [{"failover_priority": 0, "id": f"{cname}-francecentral", "location": "francecentral", "zone_redundant": False},
                         {"failover_priority": 1, "id": f"{cname}-{loc2}", "location": loc2, "zone_redundant": False}],
        "id": azid("Microsoft.DocumentDB", f"databaseAccounts/{cname}"),
        "identity": [{"identity_ids": [uai], "principal_id": "", "tenant_id": "", "type": "UserAssigned"}],
        "ip_range_filter": [], "is_virtual_network_filter_enabled": False, "key_vault_key_id": keys["data"]["versionless"],
        "kind": "GlobalDocumentDB", "local_authentication_disabled": False, "location": "francecentral",
        "managed_hsm_key_id": "", "minimal_tls_version": "Tls12", "mongo_server_version": "", "multiple_write_locations_enabled": False,
        "name": cname, "network_acl_bypass_for_azure_services": False, "network_acl_bypass_ids": [], "offer_type": "Standard",
        "partition_merge_enabled": False, "primary_key": ck1, "primary_sql_connection_string": cconn(ck1),
        "public_network_access_enabled": True,
        "read_endpoints": [f"https://{cname}-francecentral.documents.azure.com:443/", f"https://{cname}-{loc2}.documents.azure.com:443/"],
        "resource_group_name": RG, "restore": [], "secondary_key": ck2, "secondary_sql_connection_string": cconn(ck2),
        "tags": AZ_TAGS, "timeouts": None, "virtual_network_rule": [],
        "write_endpoints": [f"https://{cname}-francecentral.documents.azure.com:443/"]},
        sensitive=["primary_key", "primary_sql_connection_string", "secondary_key", "secondary_sql_connection_string"],
        deps=["azurerm_key_vault_key.data", "azurerm_resource_group.sante", "azurerm_user_assigned_identity.cmk"],
        private=private({"create": 180, "delete": 180, "read": 5, "update": 180}, 1))],
        {"expressions": {"automatic_failover_enabled": C(True),
                         "backup": [{"interval_in_minutes": C(240), "retention_in_hours": C(8), "storage_redundancy": C("Geo"), "type": C("Periodic")}],
                         "default_identity_type": R("azurerm_user_assigned_identity.cmk.id"),
                         "geo_location": [{"failover_priority": C(0), "location": R("azurerm_resource_group.sante.location")},
                                          {"failover_priority": C(1), "location": R("var.cosmos_secondary_location")}],
                         "identity": [{"identity_ids": R("azurerm_user_assigned_identity.cmk.id"), "type": C("UserAssigned")}],
                         "key_vault_key_id": R("azurerm_key_vault_key.data.versionless_id"), "kind": C("GlobalDocumentDB"),
                         "location": R("azurerm_resource_group.sante.location"), "name": C(cname), "offer_type": C("Standard"),
                         "resource_group_name": R("azurerm_resource_group.sante.name"), "tags": R("local.azure_tags")}}))
    cosmos_secrets = [ck1, ck2, cconn(ck1), cconn(ck2)]

    # Disk encryption set + managed disks
    DES = azid("Microsoft.Compute", "diskEncryptionSets/des-dossier-prod-frc")
    add(Res("", "managed", "azurerm_disk_encryption_set", "sante", "azurerm", 0, [Inst({
        "auto_key_rotation_enabled": True, "encryption_type": "EncryptionAtRestWithCustomerKey", "federated_client_id": "",
        "id": DES, "identity": [{"identity_ids": [], "principal_id": uid("des principal" + variant), "tenant_id": TENANT, "type": "SystemAssigned"}],
        "key_vault_key_id": keys["disks"]["versionless"], "key_vault_key_url": keys["disks"]["id"], "location": "francecentral",
        "managed_hsm_key_id": "", "name": "des-dossier-prod-frc", "resource_group_name": RG, "tags": AZ_TAGS, "timeouts": None},
        deps=["azurerm_key_vault_key.disks", "azurerm_resource_group.sante"],
        private=private({"create": 60, "delete": 60, "read": 5, "update": 60}))],
        {"expressions": {"auto_key_rotation_enabled": C(True), "encryption_type": C("EncryptionAtRestWithCustomerKey"),
                         "identity": [{"type": C("SystemAssigned")}], "key_vault_key_id": R("azurerm_key_vault_key.disks.versionless_id"),
                         "location": R("azurerm_resource_group.sante.location"), "name": C("des-dossier-prod-frc"),
                         "resource_group_name": R("azurerm_resource_group.sante.name"), "tags": R("local.azure_tags")}}))
    def disk(name, dname, size, des):
        return Res("", "managed", "azurerm_managed_disk", name, "azurerm", 0, [Inst({
            "create_option": "Empty", "disk_access_id": "", "disk_encryption_set_id": des, "disk_iops_read_only": 0,
            "disk_iops_read_write": 5000, "disk_mbps_read_only": 0, "disk_mbps_read_write": 200, "disk_size_gb": size,
            "edge_zone": "", "encryption_settings": [], "gallery_image_reference_id": "", "hyper_v_generation": "",
            "id": azid("Microsoft.Compute", f"disks/{dname}"), "image_reference_id": "", "location": "francecentral",
            "logical_sector_size": 4096, "max_shares": 1, "name": dname, "network_access_policy": "DenyAll",
            "on_demand_bursting_enabled": False, "optimized_frequent_attach_enabled": False, "os_type": "",
            "performance_plus_enabled": False, "public_network_access_enabled": False, "resource_group_name": RG,
            "secure_vm_disk_encryption_set_id": "", "security_type": "", "source_resource_id": "", "source_uri": "",
            "storage_account_id": "", "storage_account_type": "Premium_LRS", "tags": AZ_TAGS, "tier": "P30",
            "timeouts": None, "trusted_launch_enabled": False, "upload_size_bytes": 0, "zone": "1"},
            deps=["azurerm_resource_group.sante"] + (["azurerm_disk_encryption_set.sante"] if des else []),
            private=private({"create": 30, "delete": 30, "read": 5, "update": 30}))],
            {"expressions": dict({"create_option": C("Empty"), "disk_size_gb": C(size), "location": R("azurerm_resource_group.sante.location"),
                                  "name": C(dname), "network_access_policy": C("DenyAll"), "public_network_access_enabled": C(False),
                                  "resource_group_name": R("azurerm_resource_group.sante.name"), "storage_account_type": C("Premium_LRS"),
                                  "tags": R("local.azure_tags"), "zone": C("1")},
                                 **({"disk_encryption_set_id": R("azurerm_disk_encryption_set.sante.id")} if des else {}))})
    add(disk("imaging", "disk-imagerie-prod-frc", 1024, DES))
    add(disk("scratch", "disk-scratch-prod-frc", 512, "" if V else DES))

    secrets = {
        "aws_db_instance.patients.password": db_pw,
        "aws_iam_access_key.export_bot.secret": ak_secret,
        "aws_iam_access_key.export_bot.ses_smtp_password_v4": ak_smtp,
        "random_password.mssql_admin.result": mssql_pw,
        "random_password.mssql_admin.bcrypt_hash": bcrypt,
        "azurerm_mssql_server.reporting.administrator_login_password": rep_pw,
        "azurerm_postgresql_flexible_server.rdv.administrator_password": pg_pw,
    }
    for i, s in enumerate(st_secrets):
        secrets[f"azurerm_storage_account.*.keys_and_connection_strings[{i}]"] = s
    for i, s in enumerate(cosmos_secrets):
        secrets[f"azurerm_cosmosdb_account.notifications.keys_and_connection_strings[{i}]"] = s
    ctx = dict(CMK=CMK, CMK_FRA=CMK_FRA, DB_ARN=DB_ARN, db_addr=db_addr, src_bucket=src_bucket, i_dos=i_dos,
               vault_main_arn=f"arn:aws:backup:eu-west-3:{ACCT}:backup-vault:{vault_main}", subnets=subnets, sg_db=sg_db, sg_app=sg_app,
               db_attrs=db_attrs, DR=DR, DRP=DRP, ab_id=ab_id, DR_KMS=DR_KMS, rds_aws_key=RDS_AWS_KEY_ARN, db_pw=db_pw,
               rep_pw=rep_pw, pg_pw=pg_pw, fs_id=fs_id)
    return res, secrets, ctx


