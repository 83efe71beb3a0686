OMIT = {
 "aws_instance": "capacity_reservation_specification cpu_options credit_specification disable_api_stop enable_primary_ipv6 enclave_options ephemeral_block_device get_password_data hibernation host_id host_resource_group_arn instance_initiated_shutdown_behavior instance_lifecycle instance_market_options ipv6_address_count ipv6_addresses launch_template maintenance_options network_interface outpost_arn password_data placement_group placement_partition_number private_dns_name_options secondary_private_ips security_groups source_dest_check spot_instance_request_id tenancy user_data_base64 user_data_replace_on_change",
 "aws_db_instance": "allow_major_version_upgrade blue_green_update character_set_name custom_iam_instance_profile customer_owned_ip_enabled dedicated_log_volume domain domain_auth_secret_arn domain_dns_ips domain_fqdn domain_iam_role_name domain_ou identifier_prefix nchar_character_set_name replica_mode restore_to_point_in_time s3_import timezone upgrade_storage_config engine_lifecycle_support listener_endpoint network_type license_model",
 "aws_rds_cluster": "allow_major_version_upgrade apply_immediately backtrack_window ca_certificate_identifier cluster_identifier_prefix enable_global_write_forwarding enable_http_endpoint network_type storage_type allocated_storage iam_database_authentication_enabled reader_endpoint cluster_members db_cluster_parameter_group_name preferred_maintenance_window",
 "aws_s3_bucket": "acceleration_status bucket_prefix cors_rule lifecycle_rule logging object_lock_configuration request_payer website website_domain website_endpoint grant policy",
 "aws_dynamodb_table": "import_table on_demand_throughput restore_date_time restore_source_name restore_source_table_arn restore_to_latest_time global_secondary_index local_secondary_index",
 "aws_vpc": "assign_generated_ipv6_cidr_block default_network_acl_id dhcp_options_id enable_network_address_usage_metrics ipv4_ipam_pool_id ipv4_netmask_length ipv6_association_id ipv6_cidr_block ipv6_cidr_block_network_border_group ipv6_ipam_pool_id ipv6_netmask_length",
 "aws_subnet": "assign_ipv6_address_on_creation customer_owned_ipv4_pool enable_dns64 enable_lni_at_device_index enable_resource_name_dns_a_record_on_launch enable_resource_name_dns_aaaa_record_on_launch ipv6_cidr_block ipv6_cidr_block_association_id ipv6_native map_customer_owned_ip_on_launch outpost_arn private_dns_hostname_type_on_launch",
 "azurerm_storage_account": "primary_dfs_endpoint primary_dfs_host primary_file_endpoint primary_file_host primary_queue_endpoint primary_queue_host primary_table_endpoint primary_table_host primary_web_endpoint primary_web_host azure_files_authentication custom_domain immutability_policy queue_properties routing sas_policy share_properties static_website allowed_copy_scope edge_zone dns_endpoint_type nfsv3_enabled sftp_enabled is_hns_enabled large_file_share_enabled local_user_enabled secondary_blob_host primary_blob_host blob_properties primary_blob_connection_string secondary_blob_connection_string secondary_blob_endpoint network_rules",
 "azurerm_key_vault_key": "n e rotation_policy x y curve resource_id resource_versionless_id not_before_date expiration_date",
 "azurerm_cosmosdb_account": "analytical_storage capabilities capacity cors_rule restore virtual_network_rule network_acl_bypass_for_azure_services network_acl_bypass_ids burst_capacity_enabled partition_merge_enabled free_tier_enabled mongo_server_version access_key_metadata_writes_enabled analytical_storage_enabled create_mode is_virtual_network_filter_enabled read_endpoints write_endpoints consistency_policy",
 "azurerm_mssql_database": "import enclave_type recover_database_id recovery_point_id restore_dropped_database_id restore_long_term_retention_backup_id restore_point_in_time sample_name maintenance_configuration_name read_replica_count read_scale auto_pause_delay_in_minutes min_capacity secondary_type creation_source_database_id elastic_pool_id long_term_retention_policy",
 "azurerm_managed_disk": "disk_access_id disk_iops_read_only disk_mbps_read_only edge_zone encryption_settings gallery_image_reference_id hyper_v_generation image_reference_id logical_sector_size max_shares on_demand_bursting_enabled optimized_frequent_attach_enabled os_type performance_plus_enabled secure_vm_disk_encryption_set_id security_type source_resource_id source_uri storage_account_id trusted_launch_enabled upload_size_bytes",
 "azurerm_postgresql_flexible_server": "administrator_password_wo_version maintenance_window point_in_time_restore_time_in_utc source_server_id create_mode",
 "azurerm_mssql_server": "administrator_login_password_wo_version express_vulnerability_assessment_enabled outbound_network_restriction_enabled restorable_dropped_database_ids",
 "aws_security_group": "egress",
 "aws_kms_key": "policy bypass_policy_lockout_safety_check custom_key_store_id xks_key_id",
 "data.aws_kms_key": "cloud_hsm_cluster_id custom_key_store_id deletion_date expiration_model grant_tokens pending_deletion_window_in_days valid_to xks_key_configuration",
}
EXTRA = {'aws_db_instance': 'monitoring_role_arn monitoring_interval enabled_cloudwatch_logs_exports latest_restorable_time option_group_name parameter_group_name ca_cert_identifier backup_target apply_immediately auto_minor_version_upgrade delete_automated_backups', 'aws_instance': 'metadata_options primary_network_interface_id private_dns iam_instance_profile volume_tags user_data key_name public_dns public_ip monitoring ebs_optimized', 'azurerm_mssql_database': 'license_type ledger_enabled zone_redundant transparent_data_encryption_key_automatic_rotation_enabled', 'azurerm_cosmosdb_account': 'endpoint default_identity_type minimal_tls_version managed_hsm_key_id local_authentication_disabled public_network_access_enabled multiple_write_locations_enabled', 'azurerm_postgresql_flexible_server': 'private_dns_zone_id storage_tier auto_grow_enabled replication_role', 'aws_rds_cluster': 'final_snapshot_identifier engine_version_actual preferred_backup_window hosted_zone_id enabled_cloudwatch_logs_exports copy_tags_to_snapshot', 'azurerm_managed_disk': 'disk_iops_read_write disk_mbps_read_write tier network_access_policy public_network_access_enabled'}
for k, v in EXTRA.items():
    OMIT[k] = OMIT.get(k, "") + " " + v
OMIT = {k: set(v.split()) for k, v in OMIT.items()}

def trim(resources):
    for r in resources:
        key = ("data." if r.mode == "data" else "") + r.type
        om = OMIT.get(key, set())
        for i in r.instances:
            for k in list(i.attrs):
                if k in om:
                    del i.attrs[k]
            i.sensitive = [p for p in i.sensitive if (p if isinstance(p, str) else p[0]) in i.attrs]
        ex = r.config.get("expressions", {})
        for k in list(ex):
            if k in om:
                del ex[k]
