"""report.json's finding lines, encoded from cached parts, say what ``finding_dict`` says.

The writer reuses the encoded tail of findings that repeat (policy, status, evidence,
reason) and keeps at most a few thousand of them: a state whose every volume names its
own key has more distinct tails than that, so the cache is emptied and refilled mid-way.
"""

from __future__ import annotations

import json
from pathlib import Path

from hds_audit.collectors.terraform import TerraformCollector
from hds_audit.reports import json_lines, json_report
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.testing import Spec, state_document, write_json

REGIONS = ("eu-west-3", "eu-central-1", "us-east-1")
ACCOUNT = "111122223333"


def _volume(i: int) -> Spec:
    """An encrypted volume under a key of its own: its key finding's evidence is its own."""
    region = REGIONS[i % len(REGIONS)]
    key = f"arn:aws:kms:{region}:{ACCOUNT}:key/{i:08x}-0000-4000-8000-0"
    volume = f"vol-{i:017x}"
    attributes = {"id": volume, "availability_zone": f"{region}a", "encrypted": True}
    return Spec("aws_ebs_volume", f"v{i}", {**attributes, "kms_key_id": key})


def test_every_finding_line_is_the_finding(tmp_path: Path) -> None:
    count = json_lines.CACHE_SIZE + 500
    state = write_json(tmp_path / "big.tfstate", state_document(_volume(i) for i in range(count)))
    report = run_scan(ScanOptions(collectors=[TerraformCollector((str(state),))]))
    out = json_report.write_json(report, tmp_path / "report.json")
    written = json.loads(out.read_text(encoding="utf-8"))["findings"]
    distinct = {json.dumps(f["evidence"]) for f in written if f["policy_id"] == "HDS_KEY_001"}
    assert len(distinct) > json_lines.CACHE_SIZE  # the cache really was emptied
    expected = [json_report.finding_dict(f) for f in report.findings]
    assert written == json.loads(json.dumps(expected, default=str))
    assert any("covers" in f for f in written)  # host-level lines, written whole
