import json, os, sys, yaml
def main(OUT, model):
    P, F, U, NA = "pass", "fail", "unknown", "n/a"

    def e(res, rep, enc, key):
        return {"residency": res, "replication_residency": rep, "encryption_at_rest": enc, "key_management": key}

    # ---------------------------------------------------------------- violations (patient-records)
    S2 = "module.storage.module.backup"
    viol_state = [
     # address, type, kind, region, expected, replica_regions, why
     ("aws_s3_bucket.patient_documents", "aws_s3_bucket", "object_storage", "eu-west-3", e(P, F, P, P), ["us-east-1"],
      "replicated by aws_s3_bucket_replication_configuration.patient_documents to arn:aws:s3:::dossier-patient-prod-documents-dr-use1 (no region in the ARN; that bucket's `region` in this state is us-east-1); SSE-KMS with aws_kms_key.main"),
     ("aws_s3_bucket.patient_documents_replica", "aws_s3_bucket", "object_storage", "us-east-1", e(F, P, P, F), [],
      "created with provider aws.us (state: provider[...].us, attribute region = us-east-1); default SSE-S3 (AES256) = S3-managed key"),
     ("aws_ebs_volume.imports", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, F, F), None,
      "encrypted = false; tags.Name is <script>alert(1)</script> (stored \\u003cscript\\u003e... in the JSON)"),
     ("aws_instance.app", "aws_instance", "compute", "eu-west-3", e(P, NA, F, F), None,
      "root_block_device encrypted with aws_kms_key.main but ebs_block_device /dev/sdf has encrypted = false"),
     ("aws_db_instance.patients", "aws_db_instance", "database", "eu-west-3", e(P, F, P, F), ["us-east-1"],
      "storage_encrypted = true but kms_key_id == data.aws_kms_key.rds_default.arn whose key_manager = AWS (alias/aws/rds); automated backups replicated to us-east-1 by aws_db_instance_automated_backups_replication.patients"),
     ("aws_rds_cluster.analytics", "aws_rds_cluster", "database", "eu-west-3", e(P, P, P, P), [],
      "storage_encrypted with aws_kms_key.main; no global cluster"),
     ("aws_dynamodb_table.consents", "aws_dynamodb_table", "database", "eu-west-3", e(P, F, P, F), ["us-east-2"],
      "replica { region_name = us-east-2 }; server_side_encryption.enabled = false means the AWS-owned key (still encrypted)"),
     ("module.storage.aws_efs_file_system.documents", "aws_efs_file_system", "file_storage", "eu-west-3", e(P, P, P, P), ["eu-central-1"],
      "aws_efs_replication_configuration.documents -> destination.region eu-central-1 (EU)"),
     (f"{S2}.aws_backup_vault.main", "aws_backup_vault", "backup", "eu-west-3", e(P, F, P, P), ["us-east-1"],
      "aws_backup_plan.daily rule copy_action.destination_vault_arn = arn:aws:backup:us-east-1:...:backup-vault:dossier-patient-dr-use1"),
     (f"{S2}.aws_backup_vault.dr", "aws_backup_vault", "backup", "us-east-1", e(F, P, P, U), [],
      "created with provider aws.us; kms_key_arn is a us-east-1 key not described anywhere in this state (it is in fact aws/backup): unknown from the state alone"),
     ("aws_kms_key.main", "aws_kms_key", "key", "eu-west-3", e(P, NA, NA, NA), None, "customer managed key (multi_region = false)"),
     ("module.storage.aws_kms_key.replica", "aws_kms_key", "key", "eu-central-1", e(P, NA, NA, NA), None, "customer managed key created with aws.frankfurt"),
     ("azurerm_storage_account.dossiers", "azurerm_storage_account", "object_storage", "francecentral", e(P, P, P, P), ["francesouth"],
      "GRS: secondary_location francesouth (FR); customer-managed key via azurerm_storage_account_customer_managed_key.dossiers"),
     ('azurerm_storage_account.exports["uk"]', "azurerm_storage_account", "object_storage", "uksouth", e(F, F, P, F), ["ukwest"],
      "for_each instance; uksouth is outside the EU/EEA; GRS secondary ukwest; Microsoft-managed key"),
     ('azurerm_storage_account.exports["us"]', "azurerm_storage_account", "object_storage", "eastus", e(F, P, P, F), [],
      "for_each instance; eastus; LRS (no copy elsewhere); Microsoft-managed key"),
     ("azurerm_mssql_server.main", "azurerm_mssql_server", "database", "francecentral", e(P, NA, P, P), None,
      "TDE protector in Key Vault (azurerm_mssql_server_transparent_data_encryption.main.key_vault_key_id)"),
     ("azurerm_mssql_server.reporting", "azurerm_mssql_server", "database", "francecentral", e(P, NA, P, F), None,
      "azurerm_mssql_server_transparent_data_encryption.reporting.key_vault_key_id = \"\" -> service-managed TDE"),
     ("azurerm_mssql_database.dossiers", "azurerm_mssql_database", "database", "francecentral", e(P, P, P, P), ["francesouth"],
      "no location attribute: inherits the server's (server_id); storage_account_type Geo -> paired region francesouth"),
     ("azurerm_mssql_database.reporting", "azurerm_mssql_database", "database", "francecentral", e(P, P, P, F), ["francesouth"],
      "server TDE is service-managed"),
     ("azurerm_postgresql_flexible_server.rdv", "azurerm_postgresql_flexible_server", "database", "francecentral", e(P, P, P, F), ["francesouth"],
      "geo_redundant_backup_enabled = true -> francesouth; customer_managed_key = [] (platform key)"),
     ("azurerm_recovery_services_vault.sante", "azurerm_recovery_services_vault", "backup", "francecentral", e(P, P, P, F), ["francesouth"],
      "storage_mode_type GeoRedundant -> francesouth; encryption = [] (platform key)"),
     ("azurerm_cosmosdb_account.notifications", "azurerm_cosmosdb_account", "database", "francecentral", e(P, F, P, P), ["eastus"],
      "second geo_location in eastus; key_vault_key_id set (customer-managed key)"),
     ("azurerm_managed_disk.imaging", "azurerm_managed_disk", "block_storage", "francecentral", e(P, NA, P, P), None,
      "disk_encryption_set_id -> azurerm_disk_encryption_set.sante (EncryptionAtRestWithCustomerKey)"),
     ("azurerm_managed_disk.scratch", "azurerm_managed_disk", "block_storage", "francecentral", e(P, NA, P, F), None,
      "disk_encryption_set_id = \"\" -> platform-managed key"),
     ("azurerm_key_vault.sante", "azurerm_key_vault", "key", "francecentral", e(P, NA, NA, NA), None, "holds the customer-managed keys"),
    ]
    viol_attach = [
     ("aws_s3_bucket_server_side_encryption_configuration.patient_documents", "aws_s3_bucket.patient_documents", "encryption_at_rest,key_management"),
     ("aws_s3_bucket_versioning.patient_documents", "aws_s3_bucket.patient_documents", "none (prerequisite of replication)"),
     ("aws_s3_bucket_versioning.patient_documents_replica", "aws_s3_bucket.patient_documents_replica", "none"),
     ("aws_s3_bucket_replication_configuration.patient_documents", "aws_s3_bucket.patient_documents", "replication_residency"),
     ("aws_db_instance_automated_backups_replication.patients", "aws_db_instance.patients", "replication_residency (region us-east-1: provider aws.us / the `id` ARN)"),
     ("module.storage.aws_efs_replication_configuration.documents", "module.storage.aws_efs_file_system.documents", "replication_residency"),
     (f"{S2}.aws_backup_plan.daily", f"{S2}.aws_backup_vault.main", "replication_residency (copy_action)"),
     ("azurerm_storage_account_customer_managed_key.dossiers", "azurerm_storage_account.dossiers", "key_management"),
     ("azurerm_mssql_server_transparent_data_encryption.main", "azurerm_mssql_server.main", "key_management (and its databases)"),
     ("azurerm_mssql_server_transparent_data_encryption.reporting", "azurerm_mssql_server.reporting", "key_management (and its databases)"),
     ("azurerm_disk_encryption_set.sante", "azurerm_managed_disk.imaging", "key_management"),
    ]
    viol_other = [
     ("module.network.aws_vpc.main", "aws_vpc", "eu-west-3", P), ("module.network.aws_subnet.private[0]", "aws_subnet", "eu-west-3", P),
     ("module.network.aws_subnet.private[1]", "aws_subnet", "eu-west-3", P), ("module.network.aws_security_group.app", "aws_security_group", "eu-west-3", P),
     ("module.network.aws_security_group.db", "aws_security_group", "eu-west-3", P),
     ("module.network.aws_security_group.legacy_ssh", "aws_security_group", "eu-west-3", P),
     ("aws_iam_role.s3_replication", "aws_iam_role", "global", NA), (f"{S2}.aws_iam_role.backup", "aws_iam_role", "global", NA),
     ("aws_iam_access_key.export_bot", "aws_iam_access_key", "global", NA), ("random_password.mssql_admin", "random_password", None, NA),
     ("azurerm_resource_group.sante", "azurerm_resource_group", "francecentral", P),
     ("azurerm_user_assigned_identity.cmk", "azurerm_user_assigned_identity", "francecentral", P),
     ("azurerm_key_vault_key.storage", "azurerm_key_vault_key", "francecentral", P), ("azurerm_key_vault_key.tde", "azurerm_key_vault_key", "francecentral", P),
     ("azurerm_key_vault_key.disks", "azurerm_key_vault_key", "francecentral", P), ("azurerm_key_vault_key.data", "azurerm_key_vault_key", "francecentral", P),
    ]

    # ---------------------------------------------------------------- plan (violations): what changes w.r.t. the state
    viol_plan_changes = {
     "aws_db_instance.patients": ("aws_db_instance", "database", "eu-west-3", e(P, F, P, F), ["us-east-1"],
       "REPLACED (identifier change): kms_key_id is unknown after apply and not set in configuration -> AWS default alias/aws/rds (fail); availability_zone unknown -> region from provider `aws` (eu-west-3); the replaced aws_db_instance_automated_backups_replication.patients has source_db_instance_arn unknown but its configuration references aws_db_instance.patients.arn and its provider_config_key is aws.us"),
     f"{S2}.aws_backup_vault.dr": ("aws_backup_vault", "backup", "us-east-1", e(F, P, P, F), [],
       "configuration sets no kms_key_arn -> AWS Backup uses the AWS-managed aws/backup key (established from configuration, so fail here while the state alone says unknown)"),
    }
    viol_plan_new = [
     ("aws_ebs_volume.dicom_cache", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, U, U), None,
      "CREATED: encrypted = terraform_data.imaging_policy.output.encrypted, unknown until apply and not resolvable from configuration (after_unknown.encrypted = true); kms_key_id unknown and unset"),
     ("aws_ebs_volume.imaging", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, P, P), None,
      "CREATED: encrypted = true; kms_key_id unknown after apply but configuration references aws_kms_key.imaging.arn, a customer managed key created in the same plan"),
     ("aws_kms_key.imaging", "aws_kms_key", "key", "eu-west-3", e(P, NA, NA, NA), None, "CREATED customer managed key (arn unknown)"),
    ]
    viol_plan_deleted = ["module.network.aws_security_group.legacy_ssh"]

    # ---------------------------------------------------------------- compliant twin
    comp_state = [
     ("aws_s3_bucket.patient_documents", "aws_s3_bucket", "object_storage", "eu-west-3", e(P, P, P, P), ["eu-central-1"], "replicated to the eu-central-1 bucket (aws.frankfurt) with replica_kms_key_id"),
     ("aws_s3_bucket.patient_documents_replica", "aws_s3_bucket", "object_storage", "eu-central-1", e(P, P, P, P), [], "SSE-KMS with module.storage.aws_kms_key.replica"),
     ("aws_ebs_volume.imports", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, P, P), None, "encrypted with aws_kms_key.main"),
     ("aws_instance.app", "aws_instance", "compute", "eu-west-3", e(P, NA, P, P), None, "root and /dev/sdf encrypted with aws_kms_key.main"),
     ("aws_db_instance.patients", "aws_db_instance", "database", "eu-west-3", e(P, P, P, P), ["eu-central-1"], "kms_key_id = aws_kms_key.main.arn; backups replicated to eu-central-1 with the Frankfurt CMK"),
     ("aws_rds_cluster.analytics", "aws_rds_cluster", "database", "eu-west-3", e(P, P, P, P), [], ""),
     ("aws_dynamodb_table.consents", "aws_dynamodb_table", "database", "eu-west-3", e(P, P, P, P), ["eu-central-1"], "replica eu-central-1 with kms_key_arn; SSE with aws_kms_key.main"),
     ("module.storage.aws_efs_file_system.documents", "aws_efs_file_system", "file_storage", "eu-west-3", e(P, P, P, P), ["eu-central-1"], ""),
     (f"{S2}.aws_backup_vault.main", "aws_backup_vault", "backup", "eu-west-3", e(P, P, P, P), ["eu-central-1"], "copy_action to the eu-central-1 vault"),
     (f"{S2}.aws_backup_vault.dr", "aws_backup_vault", "backup", "eu-central-1", e(P, P, P, P), [], "kms_key_arn = Frankfurt CMK (declared in this state)"),
     ("aws_kms_key.main", "aws_kms_key", "key", "eu-west-3", e(P, NA, NA, NA), None, ""),
     ("module.storage.aws_kms_key.replica", "aws_kms_key", "key", "eu-central-1", e(P, NA, NA, NA), None, ""),
     ("azurerm_storage_account.dossiers", "azurerm_storage_account", "object_storage", "francecentral", e(P, P, P, P), ["francesouth"], "GRS to francesouth is compliant"),
     ('azurerm_storage_account.exports["de"]', "azurerm_storage_account", "object_storage", "germanywestcentral", e(P, P, P, P), ["germanynorth"], "inline customer_managed_key block"),
     ('azurerm_storage_account.exports["fr"]', "azurerm_storage_account", "object_storage", "francecentral", e(P, P, P, P), [], "inline customer_managed_key block; LRS"),
     ("azurerm_mssql_server.main", "azurerm_mssql_server", "database", "francecentral", e(P, NA, P, P), None, ""),
     ("azurerm_mssql_server.reporting", "azurerm_mssql_server", "database", "francecentral", e(P, NA, P, P), None, "TDE with key_vault_key_id"),
     ("azurerm_mssql_database.dossiers", "azurerm_mssql_database", "database", "francecentral", e(P, P, P, P), ["francesouth"], ""),
     ("azurerm_mssql_database.reporting", "azurerm_mssql_database", "database", "francecentral", e(P, P, P, P), ["francesouth"], ""),
     ("azurerm_postgresql_flexible_server.rdv", "azurerm_postgresql_flexible_server", "database", "francecentral", e(P, P, P, P), [], "no geo backup; customer_managed_key set"),
     ("azurerm_recovery_services_vault.sante", "azurerm_recovery_services_vault", "backup", "francecentral", e(P, P, P, P), ["francesouth"], "encryption.key_id set"),
     ("azurerm_cosmosdb_account.notifications", "azurerm_cosmosdb_account", "database", "francecentral", e(P, P, P, P), ["germanywestcentral"], ""),
     ("azurerm_managed_disk.imaging", "azurerm_managed_disk", "block_storage", "francecentral", e(P, NA, P, P), None, ""),
     ("azurerm_managed_disk.scratch", "azurerm_managed_disk", "block_storage", "francecentral", e(P, NA, P, P), None, ""),
     ("azurerm_key_vault.sante", "azurerm_key_vault", "key", "francecentral", e(P, NA, NA, NA), None, ""),
    ]
    comp_plan_new = [
     ("aws_ebs_volume.imaging", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, P, P), None,
      "CREATED: kms_key_id unknown after apply, configuration references aws_kms_key.imaging.arn (created in the plan)"),
     ("aws_kms_key.imaging", "aws_kms_key", "key", "eu-west-3", e(P, NA, NA, NA), None, "CREATED"),
    ]

    comp_attach = [{"address": a, "affects": b, "categories": c} for a, b, c in viol_attach] + [
        {"address": "aws_s3_bucket_server_side_encryption_configuration.patient_documents_replica",
         "affects": "aws_s3_bucket.patient_documents_replica", "categories": "encryption_at_rest,key_management"}]
    comp_other = [{"address": a, "type": t, "region": rg, "expected": {"residency": x}} for a, t, rg, x in viol_other
                  if a != "module.network.aws_security_group.legacy_ssh"]

    def entries(rows):
        out = []
        for r in rows:
            addr, typ, kind, region, exp, reps, why = r
            d = {"address": addr, "type": typ, "kind": kind, "region": region, "expected": exp}
            if reps is not None:
                d["replica_regions"] = reps
            if why:
                d["why"] = why
            out.append(d)
        return out

    def plan_rows(state_rows, changes, new, deleted):
        rows = []
        for r in state_rows:
            if r[0] in deleted:
                continue
            if r[0] in changes:
                c = changes[r[0]]
                rows.append((r[0],) + c)
            else:
                rows.append(r)
        return rows + new

    # ---------------------------------------------------------------- secrets
    secrets = sorted(set(model["values"]))

    doc = {
     "schema": 1,
     "conventions": {
       "verdicts": "pass | fail | unknown | n/a  (n/a = the category does not apply to that type; unknown = cannot be established from THIS file alone)",
       "allowed_area": "EU (the product default). Every region named here is in the EU or clearly outside the EEA, so the EEA mode gives the same verdicts",
       "region": "the resource's own region (AWS: `region` attribute, ARN, availability_zone minus the zone letter, or the provider alias region; Azure: `location`, or the parent server's location for azurerm_mssql_database)",
       "replica_regions": "every region a copy goes to (replication, geo-redundant pair, backup copy); [] = none; absent = category n/a",
       "key_management": "pass only when every encrypted copy is under a customer-managed key; unencrypted data is a fail",
     },
     "files": {
      "patient-records/terraform.tfstate": {
        "resources": entries(viol_state),
        "attachments": [{"address": a, "affects": b, "categories": c} for a, b, c in viol_attach],
        "other_resources": [{"address": a, "type": t, "region": rg, "expected": {"residency": x}} for a, t, rg, x in viol_other],
      },
      "patient-records/plan.json": {
        "resources": entries(plan_rows(viol_state, viol_plan_changes, viol_plan_new, viol_plan_deleted)),
        "deleted_in_plan": viol_plan_deleted,
        "attachments": [{"address": a, "affects": b, "categories": c} for a, b, c in viol_attach],
        "other_resources": [{"address": a, "type": t, "region": rg, "expected": {"residency": x}} for a, t, rg, x in viol_other if a not in viol_plan_deleted]
                           + [{"address": "terraform_data.imaging_policy", "type": "terraform_data", "region": None, "expected": {"residency": NA}}],
      },
      "compliant/terraform.tfstate": {
        "resources": entries(comp_state),
        "attachments": comp_attach,
        "other_resources": comp_other,
        "all_pass": True,
      },
      "compliant/plan.json": {
        "resources": entries(plan_rows(comp_state, {}, comp_plan_new, [])),
        "attachments": comp_attach,
        "other_resources": comp_other,
        "all_pass": True,
      },
      "broken/truncated.json": {"outcome": "input_error", "exit_code": 2, "why": "JSON cut in the middle of a string"},
      "broken/empty.tfstate": {"outcome": "input_error", "exit_code": 2, "why": "0 bytes"},
      "broken/utf16-bom.tfstate": {"outcome": "parsed", "why": "valid state v4 in UTF-16 LE with BOM and CRLF (PowerShell 5.1 `>` redirection)",
        "resources": entries([
          ("aws_s3_bucket.exports", "aws_s3_bucket", "object_storage", "eu-west-1", e(P, P, P, F), [], "SSE-S3 (AES256)"),
          ("aws_ebs_volume.scratch", "aws_ebs_volume", "block_storage", "eu-west-1", e(P, NA, F, F), None, "encrypted = false")])},
      "broken/wrapper-command-line.json": {"outcome": "parsed_after_stripping_wrapper_lines",
        "why": "first line `[command].../terraform-bin show -json tfplan`, then the one-line plan, then 4 `::debug::` lines (the 2nd repeats the JSON, %-escaped)",
        "resources": entries([
          ("aws_s3_bucket.lab_results", "aws_s3_bucket", "object_storage", "eu-west-3", e(P, P, P, U), [],
           "CREATED: region unknown after apply -> from provider `aws` (eu-west-3); SSE-KMS via the separate configuration resource with a key ARN given as a variable (manager not knowable)")])},
      "broken/state-v3.tfstate": {"outcome": "parsed_or_input_error",
        "why": "legacy state version 3 (Terraform 0.11): modules[].path + resources{} with flatmap string attributes; a tool either reads it or rejects it with a message naming the version, never crashes",
        "resources_if_parsed": entries([
          ("aws_s3_bucket.patient_documents", "aws_s3_bucket", "object_storage", "eu-west-3", e(P, F, P, F), ["us-east-1"], "flatmap replication_configuration.0.rules.<hash>.destination.0.bucket"),
          ("aws_s3_bucket.patient_documents_replica", "aws_s3_bucket", "object_storage", "us-east-1", e(F, P, P, F), [], "provider.aws.us"),
          ("aws_db_instance.legacy", "aws_db_instance", "database", "eu-west-3", e(P, P, F, F), [], "storage_encrypted = \"false\" (string)"),
          ("module.storage.aws_ebs_volume.data[0]", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, F, F), None, "v3 key aws_ebs_volume.data.0 in module path [root, storage]"),
          ("module.storage.aws_ebs_volume.data[1]", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, F, F), None, "")])},
      "broken/plan-terraform-0.12.json": {"outcome": "parsed",
        "why": "format_version 0.1: provider_name is the short name `aws`, no full_name, no before/after_sensitive (the DB password is in `after` with no marker), no prior_state, module resources use provider_config_key `storage:aws`",
        "resources": entries([
          ("aws_s3_bucket.documents", "aws_s3_bucket", "object_storage", "eu-west-3", e(P, P, P, F), [], "region unknown after apply -> provider `aws`"),
          ("aws_s3_bucket.documents_replica", "aws_s3_bucket", "object_storage", "us-east-1", e(F, P, P, F), [], "provider_config_key aws.us"),
          ("aws_db_instance.legacy", "aws_db_instance", "database", "eu-west-3", e(P, P, P, F), [], "storage_encrypted true, kms_key_id unknown and unset -> aws/rds"),
          ("module.storage.aws_ebs_volume.data[0]", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, F, F), None, ""),
          ("module.storage.aws_ebs_volume.data[1]", "aws_ebs_volume", "block_storage", "eu-west-3", e(P, NA, F, F), None, "")])},
      "backend-dir/state/terraform.tfstate": {"outcome": "parsed", "why": "only terraform_data resources (kind other, no data at rest)",
        "other_resources": [{"address": "terraform_data.patient_archive", "type": "terraform_data", "region": None, "expected": {"residency": NA}},
                            {"address": 'terraform_data.archive_copy["frankfurt"]', "type": "terraform_data", "region": None, "expected": {"residency": NA}}]},
     },
     "secrets": secrets,
     "secret_locations": model["locations"],
    }
    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True
    Dumper.add_representer(type(None), lambda d, _: d.represent_scalar("tag:yaml.org,2002:null", "null"))
    header = ("# Machine-readable expectations for terraform_fixtures/ (see README.md).\n"
              "# Generated with the fixtures; every address below exists in the file it is listed under.\n")
    with open(os.path.join(OUT, "EXPECTED.yaml"), "w", encoding="utf-8") as f:
        f.write(header)
        yaml.dump(doc, f, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=150, default_flow_style=False)
    print("ok", len(secrets))



if __name__ == "__main__":
    import gather_secrets
    main(sys.argv[1], gather_secrets.main(sys.argv[1]))