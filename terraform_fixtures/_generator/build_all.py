import copy, json, os, sys
from tfjson import *
import dossier as D
from emit import *
from trim import trim

OUT = None  # set by main()
TF = "1.11.4"

def provider_config(variant):
    dt = [{"tags": C(D.AWS_DEFAULT_TAGS)}]
    pc = {
        "aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "version_constraint": "~> 5.94",
                "expressions": {"default_tags": dt, "region": C("eu-west-3")}},
        "aws.frankfurt": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "alias": "frankfurt",
                          "version_constraint": "~> 5.94", "expressions": {"default_tags": dt, "region": C("eu-central-1")}},
        "aws.us": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "alias": "us",
                   "version_constraint": "~> 5.94", "expressions": {"default_tags": dt, "region": C("us-east-1")}},
        "azurerm": {"name": "azurerm", "full_name": "registry.terraform.io/hashicorp/azurerm", "version_constraint": "~> 4.26",
                    "expressions": {"features": [{"key_vault": [{"purge_soft_delete_on_destroy": C(False)}]}],
                                    "storage_use_azuread": C(True), "subscription_id": R("var.azure_subscription_id")}},
        "random": {"name": "random", "full_name": "registry.terraform.io/hashicorp/random", "version_constraint": "~> 3.7"},
    }
    if variant == "compliant":
        # the compliant twin no longer declares the us-east-1 alias at all
        del pc["aws.us"]
    else:
        pc["terraform"] = {"name": "terraform", "full_name": "terraform.io/builtin/terraform"}
    return pc

def modules_spec(variant):
    V = variant == "violations"
    return {
        "": {"outputs": {
                "backup_vault_arn": {"expression": R("module.storage.backup_vault_arn"), "description": "Coffre AWS Backup principal"},
                "documents_bucket": {"expression": R("aws_s3_bucket.patient_documents.bucket")},
                "dossiers_storage_connection_string": {"sensitive": True, "expression": R("azurerm_storage_account.dossiers.primary_connection_string")},
                "patients_db_endpoint": {"expression": R("aws_db_instance.patients.endpoint")}},
             "variables": dict({
                "app_ami": {"description": "AMI durcie de l'API dossier patient"},
                "azure_location": {"default": "francecentral"},
                "azure_subscription_id": {"description": "Abonnement Azure HDS"},
                "cosmos_secondary_location": {"default": "eastus" if V else "germanywestcentral"},
                "db_password": {"description": "Mot de passe maître RDS", "sensitive": True},
                "environment": {"default": "prod"},
                "mssql_reporting_password": {"sensitive": True},
                "pg_admin_password": {"sensitive": True},
                "postgres_subnet_id": {"description": "Sous-réseau délégué (géré par l'équipe réseau)"}},
                **({"imaging_cache_encrypted": {"default": True, "description": "Chiffrer le cache DICOM"}} if V else {}))},
        "module.network": {"source": "./modules/network",
                           "expressions": {"cidr_block": C("10.42.0.0/16"), "environment": R("var.environment")},
                           "outputs": {"app_security_group_id": {"expression": R("aws_security_group.app.id")},
                                       "db_security_group_id": {"expression": R("aws_security_group.db.id")},
                                       "private_subnet_ids": {"expression": R("aws_subnet.private")},
                                       "vpc_id": {"expression": R("aws_vpc.main.id")}},
                           "variables": {"cidr_block": {"description": "Plage du VPC"}, "environment": {}}},
        "module.storage": {"source": "./modules/storage",
                           "expressions": {"environment": R("var.environment"), "kms_key_arn": R("aws_kms_key.main.arn")},
                           "outputs": {"backup_vault_arn": {"expression": R("module.backup.vault_arn")},
                                       "efs_id": {"expression": R("aws_efs_file_system.documents.id")},
                                       "replica_kms_key_arn": {"expression": R("aws_kms_key.replica.arn")}},
                           "variables": {"environment": {}, "kms_key_arn": {"description": "ARN de la CMK principale"}}},
        "module.storage.module.backup": {"source": "./modules/backup",
                           "expressions": dict({"kms_key_arn": R("var.kms_key_arn"),
                                                "protected_resource_arns": R("aws_efs_file_system.documents.arn")},
                                               **({} if V else {"dr_kms_key_arn": R("aws_kms_key.replica.arn")})),
                           "outputs": {"dr_vault_arn": {"expression": R("aws_backup_vault.dr.arn")},
                                       "vault_arn": {"expression": R("aws_backup_vault.main.arn")}},
                           "variables": dict({"kms_key_arn": {}, "protected_resource_arns": {"default": []}},
                                             **({} if V else {"dr_kms_key_arn": {}}))},
    }

def outputs(ctx, variant):
    return {"backup_vault_arn": (ctx["vault_main_arn"], "string", False),
            "documents_bucket": (ctx["src_bucket"], "string", False),
            "dossiers_storage_connection_string": (ctx["i_dos"].attrs["primary_connection_string"], "string", True),
            "patients_db_endpoint": (f"{ctx['db_addr']}:5432", "string", False)}

def variables(ctx, variant):
    V = variant == "violations"
    v = {"app_ami": "ami-0b7c2e41d9f3a5e86", "azure_location": "francecentral", "azure_subscription_id": D.SUB,
         "cosmos_secondary_location": "eastus" if V else "germanywestcentral", "db_password": ctx["db_pw"],
         "environment": "prod", "mssql_reporting_password": ctx["rep_pw"], "pg_admin_password": ctx["pg_pw"],
         "postgres_subnet_id": "/subscriptions/%s/resourceGroups/rg-dpat-prod-frc/providers/Microsoft.Network/virtualNetworks/vnet-dpat-prod-frc/subnets/snet-postgres" % D.SUB}
    if V:
        v["imaging_cache_encrypted"] = True
    return v

def new_resources(ctx, variant):
    V = variant == "violations"
    new = []
    img_tags = {"Name": "cmk-dossier-patient-imagerie"}
    new.append(D.Res("", "managed", "aws_kms_key", "imaging", "aws", 0, [D.Inst({
        "arn": UNK,
        "customer_master_key_spec": "SYMMETRIC_DEFAULT", "deletion_window_in_days": 30,
        "description": "CMK imagerie médicale (eu-west-3)", "enable_key_rotation": True, "id": UNK, "is_enabled": True,
        "key_id": UNK, "key_usage": "ENCRYPT_DECRYPT", "multi_region": UNK, "rotation_period_in_days": UNK,
        "tags": img_tags, "tags_all": tags_all_(img_tags), "timeouts": None})],
        {"expressions": {"deletion_window_in_days": C(30), "description": C("CMK imagerie médicale (eu-west-3)"),
                         "enable_key_rotation": C(True), "tags": C(img_tags)}}))
    vt = {"Name": "dossier-patient-imagerie", "Usage": "pacs"}
    new.append(D.Res("", "managed", "aws_ebs_volume", "imaging", "aws", 0, [D.Inst({
        "arn": UNK, "availability_zone": "eu-west-3a", "encrypted": True, "final_snapshot": False, "id": UNK, "iops": UNK,
        "kms_key_id": UNK, "multi_attach_enabled": False, "outpost_arn": None, "size": 1000, "snapshot_id": UNK,
        "tags": vt, "tags_all": tags_all_(vt), "throughput": UNK, "timeouts": None, "type": "gp3"})],
        {"expressions": {"availability_zone": C("eu-west-3a"), "encrypted": C(True), "kms_key_id": R("aws_kms_key.imaging.arn"),
                         "size": C(1000), "tags": C(vt), "type": C("gp3")}}))
    if V:
        new.append(D.Res("", "managed", "terraform_data", "imaging_policy", "terraform", 0, [D.Inst({
            "id": UNK, "input": {"encrypted": True, "volume": "dicom-cache"}, "output": UNK, "triggers_replace": None})],
            {"expressions": {"input": R("var.imaging_cache_encrypted")}}))
        ct = {"Name": "dossier-patient-cache-dicom", "Usage": "cache-dicom"}
        new.append(D.Res("", "managed", "aws_ebs_volume", "dicom_cache", "aws", 0, [D.Inst({
            "arn": UNK, "availability_zone": "eu-west-3a", "encrypted": UNK, "final_snapshot": False, "id": UNK, "iops": UNK,
            "kms_key_id": UNK, "multi_attach_enabled": False, "outpost_arn": None, "size": 200, "snapshot_id": UNK,
            "tags": ct, "tags_all": tags_all_(ct), "throughput": UNK, "timeouts": None, "type": "gp3"})],
            {"expressions": {"availability_zone": C("eu-west-3a"), "encrypted": R("terraform_data.imaging_policy.output.encrypted"),
                             "size": C(200), "tags": C(ct), "type": C("gp3")}}))
    return new

def tags_all_(t):
    return D.tags_all(t)

def changes(ctx, variant):
    V = variant == "violations"
    ch = {}
    if V:
        db_unknown = ["address", "arn", "availability_zone", "backup_target", "ca_cert_identifier", "character_set_name",
                      "endpoint", "engine_lifecycle_support", "engine_version_actual", "hosted_zone_id", "id", "iops",
                      "kms_key_id", "latest_restorable_time", "license_model", "listener_endpoint", "master_user_secret",
                      "nchar_character_set_name", "network_type", "option_group_name", "parameter_group_name",
                      "performance_insights_kms_key_id", "performance_insights_retention_period", "replica_mode", "replicas",
                      "resource_id", "status", "storage_throughput", "timezone", "domain_dns_ips", "domain_fqdn", "domain_ou",
                      "domain_auth_secret_arn", "domain", "domain_iam_role_name", "custom_iam_instance_profile"]
        s = {k: UNK for k in db_unknown}
        s["identifier"] = "dossier-patients-prod-v2"
        s["replicate_source_db"] = None
        s["final_snapshot_identifier"] = "dossier-patients-prod-final"
        ch["aws_db_instance.patients"] = {"action": "replace", "set": s, "replace_paths": [["identifier"]],
                                          "reason": "replace_because_cannot_update"}
        ch["aws_db_instance_automated_backups_replication.patients"] = {
            "action": "replace", "set": {"id": UNK, "source_db_instance_arn": UNK},
            "replace_paths": [["source_db_instance_arn"]], "reason": "replace_because_cannot_update"}
        ch["module.network.aws_security_group.legacy_ssh"] = {"action": "delete", "reason": "delete_because_no_resource_config"}
        uk = '{}["uk"]'.format("azurerm_storage_account.exports")
        ch[uk] = {"action": "update", "set": {"tags": dict(D.AZ_TAGS, usage="exports-uk", revue="2025-05")}}
    else:
        de = '{}["de"]'.format("azurerm_storage_account.exports")
        ch[de] = {"action": "update", "set": {"tags": dict(D.AZ_TAGS, usage="exports-de", revue="2025-05")}}
    return ch

def build_variant(variant, folder, serial, lineage, ts):
    res, secrets, ctx = D.build(variant)
    trim(res)
    outs = outputs(ctx, variant)
    st = state_doc(res, outs, serial, lineage, TF)
    os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    with open(os.path.join(OUT, folder, "terraform.tfstate"), "w", encoding="utf-8") as f:
        f.write(go_json(st, indent=2) + "\n")
    new = new_resources(ctx, variant)
    trim(new)
    ch = changes(ctx, variant)
    # config: every resource still in configuration (prior minus deleted) + new ones
    deleted = {a for a, s in ch.items() if s["action"] == "delete"}
    cfg_res = []
    for r in res + new:
        if all(r.inst_addr(i) in deleted for i in r.instances):
            continue
        cfg_res.append(r)
    # replaced resources: configuration reflects the new values
    if variant == "violations":
        for r in cfg_res:
            if r.addr == "aws_db_instance.patients":
                r.config["expressions"]["identifier"] = C("dossier-patients-prod-v2")
    mods = modules_spec(variant)
    if variant == "violations":
        # tags change on exports["uk"] comes from a new local, nothing to change in expressions (references)
        pass
    cfg = config_doc(cfg_res, provider_config(variant), mods)
    outs_after = {k: (v[0], v[1], v[2], False) for k, v in outs.items()}
    if variant == "violations":
        outs_after["patients_db_endpoint"] = (None, "string", False, True)
    plan = plan_doc(res, ch, new, cfg, outs, outs_after, variables(ctx, variant), ts, TF)
    with open(os.path.join(OUT, folder, "plan.json"), "w", encoding="utf-8") as f:
        f.write(go_json(plan) + "\n")
    return res, new, ch, secrets, ctx, st, plan

def main(out):
    global OUT
    OUT = out
    build_variant("violations", "patient-records", 87, "6f1c2a9e-4b7d-3e58-a0c6-91d2f4e7b3a5", "2025-05-12T07:42:19Z")
    build_variant("compliant", "compliant", 41, "b2e8d4f0-7a1c-5e93-8d2b-4c6f0a9e1d37", "2025-05-12T07:44:02Z")


if __name__ == "__main__":
    main(sys.argv[1])
