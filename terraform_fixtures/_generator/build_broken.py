import json, os, sys
from tfjson import *
import dossier as D
from emit import *

def main(OUT):
    B = os.path.join(OUT, "broken")
    os.makedirs(B, exist_ok=True)

    # 1. truncated plan: the patient-records plan cut in the middle of a string inside resource_changes
    full = open(os.path.join(OUT, "patient-records", "plan.json"), encoding="utf-8").read()
    cut = full.index('"address":"aws_s3_bucket.patient_documents_replica"', full.index('"resource_changes"'))
    cut = full.index('"bucket_regional_domain_name":"', cut) + len('"bucket_regional_domain_name":"') + 17
    with open(os.path.join(B, "truncated.json"), "w", encoding="utf-8") as f:
        f.write(full[:cut])

    # 2. small valid state v4, written as Windows PowerShell 5.1 `terraform state pull > x.tfstate` does: UTF-16 LE + BOM, CRLF
    acct = D.ACCT
    bn = "dossier-patient-exports-euw1"
    res = [
        D.Res("", "managed", "aws_s3_bucket", "exports", "aws", 0, [D.Inst({
            "arn": f"arn:aws:s3:::{bn}", "bucket": bn, "bucket_domain_name": f"{bn}.s3.amazonaws.com",
            "bucket_regional_domain_name": f"{bn}.s3.eu-west-1.amazonaws.com", "force_destroy": False,
            "hosted_zone_id": "Z1BKCTXD74EZPE", "id": bn, "object_lock_enabled": False, "region": "eu-west-1",
            "replication_configuration": [],
            "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": "", "sse_algorithm": "AES256"}], "bucket_key_enabled": False}]}],
            "tags": {"Name": "exports-pmsi"}, "tags_all": {"Name": "exports-pmsi"}, "timeouts": None,
            "versioning": [{"enabled": False, "mfa_delete": False}]},
            private=private({"create": 20, "delete": 60, "read": 20, "update": 20}))]),
        D.Res("", "managed", "aws_ebs_volume", "scratch", "aws", 0, [D.Inst({
            "arn": f"arn:aws:ec2:eu-west-1:{acct}:volume/vol-0{h('utf16 vol', 16)}", "availability_zone": "eu-west-1a",
            "encrypted": False, "final_snapshot": False, "id": f"vol-0{h('utf16 vol', 16)}", "iops": 3000, "kms_key_id": "",
            "multi_attach_enabled": False, "outpost_arn": "", "size": 100, "snapshot_id": "", "tags": {"Name": "scratch-etl"},
            "tags_all": {"Name": "scratch-etl"}, "throughput": 125, "timeouts": None, "type": "gp3"},
            private=private({"create": 5, "delete": 5, "update": 5}))]),
    ]
    st = state_doc(res, {"exports_bucket": (bn, "string", False)}, 12, "0d6b9c3e-58a1-4f27-b3c4-7e2a1f9d5c80")
    text = go_json(st, indent=2) + "\n"
    with open(os.path.join(B, "utf16-bom.tfstate"), "wb") as f:
        f.write(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))

    # 3. plan printed through hashicorp/setup-terraform's wrapper (v1/v2: @actions/exec echoes the command line,
    #    then the wrapper core.debug()s stdout/stderr/exitcode). Shell: `terraform show -json tfplan > plan.json`
    small_res = [
        D.Res("", "managed", "aws_s3_bucket", "lab_results", "aws", 0, [D.Inst({
            "arn": UNK, "bucket": "dossier-patient-lab-results-euw3", "bucket_domain_name": UNK, "bucket_prefix": UNK,
            "bucket_regional_domain_name": UNK, "force_destroy": False, "hosted_zone_id": UNK, "id": UNK,
            "object_lock_enabled": UNK, "region": UNK, "replication_configuration": UNK,
            "server_side_encryption_configuration": UNK, "tags": {"Name": "resultats-biologie"},
            "tags_all": {"Name": "resultats-biologie"}, "timeouts": None, "versioning": UNK})],
            {"expressions": {"bucket": C("dossier-patient-lab-results-euw3"), "tags": C({"Name": "resultats-biologie"})}}),
        D.Res("", "managed", "aws_s3_bucket_server_side_encryption_configuration", "lab_results", "aws", 0, [D.Inst({
            "bucket": UNK, "expected_bucket_owner": None, "id": UNK,
            "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": "arn:aws:kms:eu-west-3:%s:key/%s" % (acct, uid("lab kms")), "sse_algorithm": "aws:kms"}], "bucket_key_enabled": True}]})],
            {"expressions": {"bucket": R("aws_s3_bucket.lab_results.id"),
                             "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": R("var.lab_kms_key_arn"), "sse_algorithm": C("aws:kms")}],
                                       "bucket_key_enabled": C(True)}]}}),
    ]
    cfg = config_doc(small_res, {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "version_constraint": "~> 5.94",
                                         "expressions": {"region": C("eu-west-3")}}},
                     {"": {"variables": {"lab_kms_key_arn": {"description": "CMK des résultats de biologie"}}}})
    small = plan_doc([], {}, small_res, cfg, {}, {}, {"lab_kms_key_arn": "arn:aws:kms:eu-west-3:%s:key/%s" % (acct, uid("lab kms"))},
                     "2025-05-12T09:03:51Z")
    del small["prior_state"]          # no state yet: terraform omits prior_state entirely
    del small["planned_values"]["outputs"]
    small["output_changes"] = {}
    del small["output_changes"]
    js = go_json(small) + "\n"
    def esc(s):   # @actions/core escapeData
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    tmp = "/home/runner/work/_temp/5c0f7a2e-1b94-4d3a-8e6f-9a2c4b7d1e03"
    wrapped = (f"[command]{tmp}/terraform-bin show -json tfplan\n" + js +
               "::debug::Terraform exited with code 0.\n" +
               "::debug::stdout: " + esc(js) + "\n" +
               "::debug::stderr: \n" +
               "::debug::exitcode: 0\n")
    with open(os.path.join(B, "wrapper-command-line.json"), "w", encoding="utf-8") as f:
        f.write(wrapped)

    # 4. empty state
    open(os.path.join(B, "empty.tfstate"), "wb").close()
    print("ok")



if __name__ == "__main__":
    main(sys.argv[1])