import json, os, sys
from tfjson import *
import dossier as D

def main(OUT):
    B = os.path.join(OUT, "broken")
    A = D.ACCT
    LEGACY_DB_PW = "FixtureSecret-LegacyV3DbPw-5Nc8"
    TF012_DB_PW = "FixtureSecret-Tf012DbPw-2Mx7"

    # ------------------------------------------------------------------ state v3 (Terraform 0.11)
    def flat_bucket(name, region, sse, repl_dest=None, tags=None):
        hz = D.HZ[region]
        a = {"acceleration_status": "", "acl": "private", "arn": f"arn:aws:s3:::{name}", "bucket": name,
             "bucket_domain_name": f"{name}.s3.amazonaws.com", "bucket_regional_domain_name": f"{name}.s3.{region}.amazonaws.com",
             "cors_rule.#": "0", "force_destroy": "false", "hosted_zone_id": hz, "id": name, "lifecycle_rule.#": "0",
             "logging.#": "0", "region": region, "request_payer": "BucketOwner",
             "server_side_encryption_configuration.#": "1",
             "server_side_encryption_configuration.0.rule.#": "1",
             "server_side_encryption_configuration.0.rule.0.apply_server_side_encryption_by_default.#": "1",
             "server_side_encryption_configuration.0.rule.0.apply_server_side_encryption_by_default.0.kms_master_key_id": sse[1],
             "server_side_encryption_configuration.0.rule.0.apply_server_side_encryption_by_default.0.sse_algorithm": sse[0],
             "versioning.#": "1", "versioning.0.enabled": "true", "versioning.0.mfa_delete": "false", "website.#": "0"}
        tags = tags or {}
        a["tags.%"] = str(len(tags))
        for k, v in tags.items():
            a[f"tags.{k}"] = v
        if repl_dest:
            hsh = "2248723497"
            a.update({"replication_configuration.#": "1",
                      "replication_configuration.0.role": f"arn:aws:iam::{A}:role/dossier-patient-s3-replication",
                      "replication_configuration.0.rules.#": "1",
                      f"replication_configuration.0.rules.{hsh}.destination.#": "1",
                      f"replication_configuration.0.rules.{hsh}.destination.0.access_control_translation.#": "0",
                      f"replication_configuration.0.rules.{hsh}.destination.0.account_id": "",
                      f"replication_configuration.0.rules.{hsh}.destination.0.bucket": f"arn:aws:s3:::{repl_dest}",
                      f"replication_configuration.0.rules.{hsh}.destination.0.replica_kms_key_id": "",
                      f"replication_configuration.0.rules.{hsh}.destination.0.storage_class": "STANDARD",
                      f"replication_configuration.0.rules.{hsh}.id": "documents-dr",
                      f"replication_configuration.0.rules.{hsh}.prefix": "",
                      f"replication_configuration.0.rules.{hsh}.priority": "0",
                      f"replication_configuration.0.rules.{hsh}.source_selection_criteria.#": "0",
                      f"replication_configuration.0.rules.{hsh}.status": "Enabled"})
        else:
            a["replication_configuration.#"] = "0"
        return dict(sorted(a.items()))

    src, dst = "dossier-patient-legacy-documents", "dossier-patient-legacy-documents-dr-use1"
    db_ident = "dossier-legacy-prod"
    v3 = {
        "version": 3,
        "terraform_version": "0.11.14",
        "serial": 23,
        "lineage": "c4a1e7b2-9f3d-4a68-b5e0-2d8c6f1a3b97",
        "modules": [
            {"path": ["root"],
             "outputs": {"documents_bucket": {"sensitive": False, "type": "string", "value": src}},
             "resources": {
                 "aws_db_instance.legacy": {
                     "type": "aws_db_instance", "depends_on": [],
                     "primary": {"id": db_ident, "attributes": dict(sorted({
                         "address": f"{db_ident}.c{h('v3rds', 11)}.eu-west-3.rds.amazonaws.com", "allocated_storage": "100",
                         "arn": f"arn:aws:rds:eu-west-3:{A}:db:{db_ident}", "availability_zone": "eu-west-3a",
                         "backup_retention_period": "7", "engine": "postgres", "engine_version": "9.6.11", "id": db_ident,
                         "identifier": db_ident, "instance_class": "db.m4.large", "kms_key_id": "", "multi_az": "false",
                         "name": "dossiers", "password": LEGACY_DB_PW, "port": "5432", "publicly_accessible": "false",
                         "replicas.#": "0", "resource_id": "db-" + upper("v3dbi", 26), "status": "available",
                         "storage_encrypted": "false", "storage_type": "gp2", "tags.%": "1", "tags.Name": "rds-legacy",
                         "username": "dp_admin", "vpc_security_group_ids.#": "1",
                         "vpc_security_group_ids.3871649735": "sg-0" + h("v3sg", 16)}.items())),
                         "meta": {TIMEOUT_KEY: {"create": 2400000000000, "delete": 3600000000000, "update": 4800000000000},
                                  "schema_version": "1"},
                         "tainted": False},
                     "deposed": [], "provider": "provider.aws"},
                 "aws_s3_bucket.patient_documents": {
                     "type": "aws_s3_bucket", "depends_on": [],
                     "primary": {"id": src, "attributes": flat_bucket(src, "eu-west-3", ("AES256", ""), dst,
                                                                        {"Classification": "donnees-de-sante", "Name": "documents-patients"}),
                                 "meta": {}, "tainted": False},
                     "deposed": [], "provider": "provider.aws"},
                 "aws_s3_bucket.patient_documents_replica": {
                     "type": "aws_s3_bucket", "depends_on": [],
                     "primary": {"id": dst, "attributes": flat_bucket(dst, "us-east-1", ("AES256", ""), None,
                                                                        {"Name": "documents-patients-pra"}),
                                 "meta": {}, "tainted": False},
                     "deposed": [], "provider": "provider.aws.us"},
             },
             "depends_on": []},
            {"path": ["root", "storage"],
             "outputs": {},
             "resources": {
                 f"aws_ebs_volume.data.{i}": {
                     "type": "aws_ebs_volume", "depends_on": [],
                     "primary": {"id": f"vol-0{h('v3vol' + str(i), 16)}", "attributes": dict(sorted({
                         "arn": f"arn:aws:ec2:eu-west-3:{A}:volume/vol-0{h('v3vol' + str(i), 16)}",
                         "availability_zone": f"eu-west-3{'ab'[i]}", "encrypted": "false", "id": f"vol-0{h('v3vol' + str(i), 16)}",
                         "iops": "300", "kms_key_id": "", "size": "100", "snapshot_id": "", "tags.%": "1",
                         "tags.Name": f"data-{i}", "type": "gp2"}.items())),
                         "meta": {}, "tainted": False},
                     "deposed": [], "provider": "provider.aws"} for i in range(2)},
             "depends_on": []},
        ],
    }
    with open(os.path.join(B, "state-v3.tfstate"), "w", encoding="utf-8") as f:
        f.write(go_json(v3, indent=4) + "\n")

    # ------------------------------------------------------------------ plan JSON as Terraform 0.12 printed it
    def rc(addr, mod, typ, name, after, unknown, index=None):
        e = {"address": addr}
        if mod:
            e["module_address"] = mod
        e.update({"mode": "managed", "type": typ, "name": name})
        if index is not None:
            e["index"] = index
        e["provider_name"] = "aws"
        e["change"] = {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown}
        return e
    def pv(addr, typ, name, values, sv, index=None):
        e = {"address": addr, "mode": "managed", "type": typ, "name": name}
        if index is not None:
            e["index"] = index
        e.update({"provider_name": "aws", "schema_version": sv, "values": values})
        return e
    b_after = lambda bn, tags, sse: {"acl": "private", "bucket": bn, "bucket_prefix": None, "cors_rule": [], "force_destroy": False,
                                     "lifecycle_rule": [], "logging": [], "object_lock_configuration": [], "policy": None,
                                     "replication_configuration": [],
                                     "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": None, "sse_algorithm": sse}]}]}],
                                     "tags": tags, "versioning": [{"enabled": True, "mfa_delete": False}], "website": []}
    b_unknown = {"acceleration_status": True, "arn": True, "bucket_domain_name": True, "bucket_regional_domain_name": True,
                 "cors_rule": [], "hosted_zone_id": True, "id": True, "lifecycle_rule": [], "logging": [],
                 "object_lock_configuration": [], "region": True, "replication_configuration": [], "request_payer": True,
                 "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{}]}]}],
                 "tags": {}, "versioning": [{}], "website": [], "website_domain": True, "website_endpoint": True}
    b1 = b_after("dossier-patient-tf012-documents", {"Name": "documents-patients"}, "AES256")
    b2 = b_after("dossier-patient-tf012-documents-dr-use1", {"Name": "documents-patients-pra"}, "AES256")
    db_after = {"allocated_storage": 100, "allow_major_version_upgrade": None, "auto_minor_version_upgrade": True,
                "copy_tags_to_snapshot": False, "deletion_protection": None, "engine": "postgres", "engine_version": "11.5",
                "final_snapshot_identifier": None, "identifier": "dossier-tf012-prod", "instance_class": "db.m5.large",
                "name": "dossiers", "password": TF012_DB_PW, "publicly_accessible": False, "skip_final_snapshot": True,
                "storage_encrypted": True, "tags": {"Name": "rds-tf012"}, "timeouts": None, "username": "dp_admin"}
    db_unknown = {"address": True, "apply_immediately": True, "arn": True, "availability_zone": True, "backup_retention_period": True,
                  "backup_window": True, "ca_cert_identifier": True, "character_set_name": True, "db_subnet_group_name": True,
                  "endpoint": True, "hosted_zone_id": True, "id": True, "identifier_prefix": True, "kms_key_id": True,
                  "license_model": True, "maintenance_window": True, "monitoring_interval": True, "monitoring_role_arn": True,
                  "multi_az": True, "option_group_name": True, "parameter_group_name": True, "port": True, "replicas": True,
                  "resource_id": True, "status": True, "storage_type": True, "tags": {}, "timezone": True,
                  "vpc_security_group_ids": True}
    vol = lambda i: {"availability_zone": f"eu-west-3{'ab'[i]}", "encrypted": False, "size": 100, "tags": {"Name": f"data-{i}"}, "type": "gp2"}
    vol_unknown = {"arn": True, "id": True, "iops": True, "kms_key_id": True, "snapshot_id": True, "tags": {}}
    plan012 = {
        "format_version": "0.1",
        "terraform_version": "0.12.31",
        "variables": {"db_password": {"value": TF012_DB_PW}, "environment": {"value": "prod"}},
        "planned_values": {"root_module": {
            "resources": [pv("aws_db_instance.legacy", "aws_db_instance", "legacy", db_after, 1),
                          pv("aws_s3_bucket.documents", "aws_s3_bucket", "documents", b1, 0),
                          pv("aws_s3_bucket.documents_replica", "aws_s3_bucket", "documents_replica", b2, 0)],
            "child_modules": [{"resources": [pv(f"module.storage.aws_ebs_volume.data[{i}]", "aws_ebs_volume", "data", vol(i), 0, i) for i in range(2)],
                               "address": "module.storage"}]}},
        "resource_changes": [rc("aws_db_instance.legacy", None, "aws_db_instance", "legacy", db_after, db_unknown),
                             rc("aws_s3_bucket.documents", None, "aws_s3_bucket", "documents", b1, b_unknown),
                             rc("aws_s3_bucket.documents_replica", None, "aws_s3_bucket", "documents_replica", b2, b_unknown)]
                            + [rc(f"module.storage.aws_ebs_volume.data[{i}]", "module.storage", "aws_ebs_volume", "data", vol(i), vol_unknown, i) for i in range(2)],
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": C("eu-west-3")}},
                                "aws.us": {"name": "aws", "alias": "us", "expressions": {"region": C("us-east-1")}}},
            "root_module": {
                "resources": [
                    {"address": "aws_db_instance.legacy", "mode": "managed", "type": "aws_db_instance", "name": "legacy",
                     "provider_config_key": "aws",
                     "expressions": {"allocated_storage": C(100), "engine": C("postgres"), "engine_version": C("11.5"),
                                     "identifier": C("dossier-tf012-prod"), "instance_class": C("db.m5.large"), "name": C("dossiers"),
                                     "password": R("var.db_password"), "skip_final_snapshot": C(True), "storage_encrypted": C(True),
                                     "tags": C({"Name": "rds-tf012"}), "username": C("dp_admin")},
                     "schema_version": 1},
                    {"address": "aws_s3_bucket.documents", "mode": "managed", "type": "aws_s3_bucket", "name": "documents",
                     "provider_config_key": "aws",
                     "expressions": {"acl": C("private"), "bucket": C("dossier-patient-tf012-documents"),
                                     "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": C("AES256")}]}]}],
                                     "tags": C({"Name": "documents-patients"}), "versioning": [{"enabled": C(True)}]},
                     "schema_version": 0},
                    {"address": "aws_s3_bucket.documents_replica", "mode": "managed", "type": "aws_s3_bucket", "name": "documents_replica",
                     "provider_config_key": "aws.us",
                     "expressions": {"acl": C("private"), "bucket": C("dossier-patient-tf012-documents-dr-use1"),
                                     "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": C("AES256")}]}]}],
                                     "tags": C({"Name": "documents-patients-pra"}), "versioning": [{"enabled": C(True)}]},
                     "schema_version": 0}],
                "module_calls": {"storage": {
                    "source": "./modules/storage",
                    "module": {"resources": [
                        {"address": "aws_ebs_volume.data", "mode": "managed", "type": "aws_ebs_volume", "name": "data",
                         "provider_config_key": "storage:aws",
                         "expressions": {"availability_zone": R("var.azs", "count.index"), "encrypted": C(False), "size": C(100),
                                         "tags": R("count.index"), "type": C("gp2")},
                         "schema_version": 0, "count_expression": C(2)}],
                        "variables": {"azs": {"default": ["eu-west-3a", "eu-west-3b"]}}}}},
                "variables": {"db_password": {"description": "Mot de passe maitre RDS"}, "environment": {"default": "prod"}}}},
    }
    with open(os.path.join(B, "plan-terraform-0.12.json"), "w", encoding="utf-8") as f:
        f.write(go_json(plan012) + "\n")
    print("ok", LEGACY_DB_PW, TF012_DB_PW)



if __name__ == "__main__":
    main(sys.argv[1])