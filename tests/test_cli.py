"""The command as users and CI call it: exit codes, reports, errors, secrets, config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from hds_audit.reports.json_report import schema_text
from hds_audit.testing import Spec, run_cli, state_document, terraform_working_copy, write_json

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "terraform_fixtures"
# Certificates known (fictitious): the built-in registry leaves AWS's expiry unknown, which
# makes HDS_CERT_001 `unknown` and gates. Tests about other verdicts pass --registry CERTIFIED.
CERTIFIED = str(ROOT / "tests" / "fixtures" / "registry" / "certified.yaml")
SECRETS = yaml.safe_load((FIXTURES / "EXPECTED.yaml").read_text(encoding="utf-8"))["secrets"]

PARIS = Spec("aws_s3_bucket", "ok", {"bucket": "ok", "region": "eu-west-3"})
CMK = Spec("aws_kms_key", "k", {"arn": "arn:aws:kms:eu-west-3:1:key/k", "key_id": "k"})
ENCRYPTED = Spec(
    "aws_ebs_volume",
    "v",
    {
        "availability_zone": "eu-west-3a",
        "encrypted": True,
        "kms_key_id": "arn:aws:kms:eu-west-3:1:key/k",
    },
)
PLAIN = Spec("aws_ebs_volume", "plain", {"availability_zone": "eu-west-3a", "encrypted": False})
NO_REGION = Spec("aws_ebs_volume", "lost", {"encrypted": True, "kms_key_id": "k"})


def _state(tmp_path: Path, name: str, *specs: Spec) -> str:
    return str(write_json(tmp_path / name, state_document(specs)))


def _report(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def test_clean_estate_exits_0(tmp_path: Path) -> None:
    state = _state(tmp_path, "ok.tfstate", CMK, ENCRYPTED)
    result = run_cli(
        [
            "scan",
            "--terraform",
            state,
            "-o",
            str(tmp_path / "out"),
            "--format",
            "json",
            "--registry",
            CERTIFIED,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Exit 0" in result.output


def test_failure_exits_1_and_threshold_moves_it(tmp_path: Path) -> None:
    state = _state(tmp_path, "plain.tfstate", PLAIN)
    out = str(tmp_path / "out")
    assert run_cli(["scan", state, "-o", out, "--format", "json"]).exit_code == 1
    # HDS_ENC_001 is high: a critical threshold lets it through, none disables gating.
    critical = ["--fail-on", "critical", "--registry", CERTIFIED]
    assert run_cli(["scan", state, "-o", out, "--format", "json", *critical]).exit_code == 0
    assert (
        run_cli(["scan", state, "-o", out, "--format", "json", "--fail-on", "none"]).exit_code == 0
    )


def test_unknown_gates_unless_told_otherwise(tmp_path: Path) -> None:
    state = _state(tmp_path, "lost.tfstate", NO_REGION)
    out = str(tmp_path / "out")
    result = run_cli(["scan", state, "-o", out, "--format", "json"])
    assert result.exit_code == 1
    report = _report(tmp_path / "out")
    assert report["summary"]["by_status"]["unknown"] >= 1  # type: ignore[index]
    result = run_cli(["scan", state, "-o", out, "--format", "json", "--no-fail-on-unknown"])
    assert result.exit_code == 0


def test_bad_input_exits_2_names_the_file_and_keeps_the_rest(tmp_path: Path) -> None:
    good = _state(tmp_path, "good.tfstate", PARIS)
    bad = tmp_path / "bad.tfstate"
    bad.write_text('{"version": 4, "resources": [', encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(["scan", good, str(bad), "-o", str(out), "--format", "json,html"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if str(bad) in line]
    assert lines == [
        f"hds-audit: error: {bad}: is truncated: the JSON stops at line 1 before "
        "the document is complete"
    ]
    assert "Traceback" not in result.output + result.stderr
    report = _report(out)
    assert [r["id"] for r in report["resources"]] == ["aws_s3_bucket.ok"]  # type: ignore[index]
    assert report["errors"][0]["source"] == str(bad)  # type: ignore[index]
    assert (out / "report.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan"], "nothing to audit"),
        (["scan", "x.tfstate", "--allowed", "atlantis"], "--allowed"),
        (["scan", "x.tfstate", "--format", "docx"], "unknown format docx"),
        (["scan", "x.tfstate", "--fail-on", "urgent"], "Invalid value for '--fail-on'"),
        (["scan", "x.tfstate", "--config", "missing.yaml"], "missing.yaml: cannot be read"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(tmp_path, "plain.tfstate", PLAIN)
    (tmp_path / "hds-audit.yaml").write_text(
        "terraform: [plain.tfstate]\nformat: json\noutput: out\nfail_on: critical\nallowed: eea\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli(["scan", "--registry", CERTIFIED])
    assert result.exit_code == 0, result.output
    report = _report(tmp_path / "out")
    assert report["run"]["allowed_area"]["mode"] == "eea"  # type: ignore[index]
    assert report["run"]["config_file"].endswith("hds-audit.yaml")  # type: ignore[index]


def test_config_file_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("terraform: [a]\nfail_onn: high\n", encoding="utf-8")
    result = run_cli(["scan", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}: unknown setting fail_onn" in result.stderr


def test_allowed_modes_change_verdicts(tmp_path: Path) -> None:
    oslo = Spec(
        "azurerm_storage_account",
        "oslo",
        {"id": "/s/1/sa", "location": "norwayeast", "account_replication_type": "LRS"},
    )
    state = _state(tmp_path, "no.tfstate", oslo)

    def residency(mode: str) -> str:
        out = tmp_path / mode
        run_cli(["scan", state, "-o", str(out), "--format", "json", "--allowed", mode])
        [finding] = [
            f
            for f in _report(out)["findings"]  # type: ignore[attr-defined]
            if f["policy_id"] == "HDS_RES_001"
        ]
        return str(finding["status"])

    assert residency("eu") == "fail"
    assert residency("eea") == "pass"
    assert residency("fr") == "fail"
    assert residency("NO,FR") == "pass"
    eu = _report(tmp_path / "eu")
    assert eu["summary"]["eea_would_pass"] >= 1  # type: ignore[index]


def test_report_matches_the_schema_and_carries_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_cli(["scan", str(FIXTURES / "patient-records"), "-o", str(out), "--format", "json"])
    report = _report(out)
    jsonschema.validate(report, json.loads(schema_text()))
    assert str(report["schema_version"]).startswith("1.")
    for key in ("started_at", "finished_at", "tool_version", "sources", "policy_set"):
        assert key in report["run"]  # type: ignore[operator]
    categories = {f["category"] for f in report["findings"]}  # type: ignore[attr-defined]
    assert {
        "residency",
        "replication_residency",
        "encryption_at_rest",
        "key_management",
    } <= categories


def test_schema_rejects_a_broken_report() -> None:
    schema = json.loads(schema_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema_version": "1.0", "run": {}}, schema)


def test_secrets_never_reach_any_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inputs = [str(FIXTURES / d) for d in ("patient-records", "compliant", "broken")]
    result = run_cli(["scan", *inputs, "-o", str(out), "--format", "json,html", "--lang", "en"])
    assert result.exit_code == 2  # the broken inputs
    outputs = {"stdout": result.output, "stderr": result.stderr}
    for path in out.iterdir():  # reports, and the run history (SQLite: binary)
        outputs[path.name] = path.read_bytes().decode("utf-8", errors="replace")
    assert len(SECRETS) >= 10
    leaks = [(name, s) for name, text in outputs.items() for s in SECRETS if s in text]
    assert leaks == []
    assert not any("FixtureSecret" in text for text in outputs.values())


def test_hostile_names_are_escaped_in_html(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_cli(["scan", str(FIXTURES / "patient-records" / "terraform.tfstate"), "-o", str(out)])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reports_are_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    state = _state(tmp_path, "ok.tfstate", PARIS)
    run_cli(["scan", state, "-o", str(out)])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["history.sqlite", "report.html", "report.json"]


def test_policies_list_prints_the_catalogue() -> None:
    result = run_cli(["policies", "list"])
    assert result.exit_code == 0
    for policy_id in ("HDS_RES_001", "HDS_REP_001", "HDS_ENC_001", "HDS_KEY_001"):
        assert policy_id in result.output
    assert "hds-v2: EXI 28" in result.output


def test_policies_validate_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("metadata:\n  id: X\n", encoding="utf-8")
    result = run_cli(["policies", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1: metadata needs 'name'" in result.stderr


def test_console_script_runs_as_a_real_process(tmp_path: Path) -> None:
    """The installed entry point, in a subprocess: what `make audit` and CI call."""
    exe = shutil.which("hds-audit", path=str(Path(sys.executable).parent))
    assert exe, "the hds-audit console script is installed"
    state = _state(tmp_path, "plain.tfstate", PLAIN)
    done = subprocess.run(
        [exe, "scan", state, "-o", str(tmp_path / "out"), "--format", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1
    assert done.stdout == ""


@pytest.mark.terraform_cli
def test_working_directory_through_terraform_state_pull(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("the terraform CLI is not installed here")
    work = tmp_path / "backend-dir"
    terraform_working_copy(FIXTURES / "backend-dir", work)
    out = tmp_path / "out"
    result = run_cli(["scan", str(work), "-o", str(out), "--format", "json"])
    report = _report(out)
    assert report["errors"] == []
    [source] = report["run"]["sources"]  # type: ignore[index]
    assert "read with terraform state pull" in source["notes"]
    assert {r["type"] for r in report["resources"]} == {"terraform_data"}  # type: ignore[attr-defined]
    assert result.exit_code == 0


def test_working_directory_without_terraform_cli_is_a_clear_error(tmp_path: Path) -> None:
    from hds_audit.collectors.terraform import TerraformCli, collect_terraform
    from hds_audit.geo import GeoTables

    work = tmp_path / "infra"
    work.mkdir()
    (work / "main.tf").write_text('terraform {\n  backend "local" {}\n}\n', encoding="utf-8")
    collection = collect_terraform(
        [str(work)], GeoTables.default(), TerraformCli(binary="terraform-not-installed")
    )
    [error] = collection.errors
    assert "CLI is not on PATH" in error.message and error.source == str(work)


def test_the_summary_names_the_worst_problems_first_once_per_resource(tmp_path: Path) -> None:
    result = run_cli(
        ["scan", str(FIXTURES / "patient-records"), "-o", str(tmp_path), "--no-history"]
    )
    assert result.exit_code == 1
    lines = [
        line.split()
        for line in result.output.splitlines()
        if line.startswith("  ") and not line.startswith("  ...")
    ]
    shown = [(status, severity, policy, subject) for status, severity, policy, subject, *_ in lines]
    assert shown[0][:3] == ("FAIL", "critical", "HDS_RES_001")
    assert len(set(shown)) == len(shown)  # a plan and a state of one resource: one line
    statuses = [status for status, *_ in shown]
    assert statuses == sorted(statuses, key=["FAIL", "ERROR", "UNKNOWN"].index)
    assert "[terraform-plan, terraform-state]" in result.output
    assert result.output.splitlines()[0].startswith("Audited 58 resources (111 records)")
