"""The CI examples parse, and every hds-audit option they use exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import click
import jsonschema
import pytest
import yaml
from ruamel.yaml import YAML

from hds_audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("github-actions.yml", "gitlab-ci.yml")


def _options(command: click.Command) -> set[str]:
    names = set()
    for param in command.params:
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    return names


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_parses_and_uses_real_options(name: str) -> None:
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    assert isinstance(main, click.Group)
    commands = {"scan": main.commands["scan"]}
    history = main.commands["history"]
    assert isinstance(history, click.Group)
    commands.update({f"history {k}": v for k, v in history.commands.items()})
    flat = re.sub(r"\\\n\s*|\n\s+(?=--)", " ", text)
    used = re.findall(r"hds-audit (scan|history list|history diff)\b([^\n|;&]*)", flat)
    assert used
    for command, rest in used:
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", rest):
            assert option in _options(commands[command]), f"{name}: {command} {option}"
    assert "report.sarif" in text and "report.junit.xml" in text and "report.md" in text


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_audit_ci_runs_the_gate_with_a_baseline() -> None:
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "audit-ci", "REPORTS=/tmp/hds-ci-dry"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "--format json,html,sarif,junit,csv,markdown" in dry.stdout
    assert "--baseline /tmp/hds-ci-dry/ci-baseline/report.json" in dry.stdout


# -- issue 13: the examples are valid CI files, and the flow they describe works ---------------

VENDORED = files("check_jsonschema") / "builtin_schemas" / "vendor"
SCHEMAS = {"github-actions.yml": "github-workflows.json", "gitlab-ci.yml": "gitlab-ci.json"}
PLAN = ROOT / "terraform_fixtures" / "patient-records" / "plan.json"


def _load_ci(name: str) -> dict[str, Any]:
    """A CI file as the CI service reads it: YAML 1.2 (`on` is a key, not true)."""
    loaded: dict[str, Any] = YAML(typ="safe").load((ROOT / "examples" / name).read_text("utf-8"))
    return loaded


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_valid_against_its_ci_schema(name: str) -> None:
    """Validated offline against the schema check-jsonschema vendors (SchemaStore's)."""
    schema = json.loads((VENDORED / SCHEMAS[name]).read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(_load_ci(name))
    ]
    assert errors == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_installs_from_the_repository_and_makes_waivers_optional(name: str) -> None:
    text = (ROOT / "examples" / name).read_text(encoding="utf-8")
    assert not re.search(r"pip install ['\"]?hds-audit(\[[a-z,]+\])?['\"]?\s*$", text, re.M)
    assert re.search(r'HDS_AUDIT_PACKAGE: "hds-audit\[aws,azure\] @ git\+https://', text)
    assert text.count('pip install "$HDS_AUDIT_PACKAGE"') >= 2
    for line in text.splitlines():  # every use of waivers.yaml sits behind a test that it exists
        if "--waivers waivers.yaml" in line:
            assert "[ -f waivers.yaml ]" in line, line


def test_github_permissions_and_cloud_credentials_for_the_plan() -> None:
    job = _load_ci("github-actions.yml")["jobs"]["plan-audit"]
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "actions": "read",
        "checks": "write",
        "security-events": "write",
        "pull-requests": "write",
    }
    uses = [step.get("uses", "") for step in job["steps"]]
    plan = next(i for i, s in enumerate(job["steps"]) if s.get("name") == "Terraform plan as JSON")
    aws = uses.index("aws-actions/configure-aws-credentials@v4")
    azure = uses.index("azure/login@v2")
    assert aws < plan and azure < plan
    assert "role-to-assume" in job["steps"][aws]["with"]


def test_gitlab_plan_job_has_oidc_tokens() -> None:
    ci = _load_ci("gitlab-ci.yml")
    assert ci["terraform-plan"]["extends"] == ".cloud-credentials"
    tokens = ci[".cloud-credentials"]["id_tokens"]
    assert tokens["AWS_OIDC_TOKEN"] == {"aud": "sts.amazonaws.com"}
    assert "AZURE_OIDC_TOKEN" in tokens
    assert "[ -f waivers.yaml ]" in " ".join(ci["hds-audit-nightly"]["script"])


def _plan_variant(target: Path, change: str) -> Path:
    """The bundled plan, changed as a merge request would change it."""
    plan = json.loads(PLAN.read_text(encoding="utf-8"))
    if change == "new-finding":  # a second unencrypted volume: new findings
        for items in (plan["resource_changes"], plan["planned_values"]["root_module"]["resources"]):
            source = next(r for r in items if r["address"] == "aws_ebs_volume.imports")
            copy = json.loads(json.dumps(source))
            copy["address"], copy["name"] = "aws_ebs_volume.imports_copy", "imports_copy"
            if "change" in copy:
                copy["change"]["actions"], copy["change"]["before"] = ["create"], None
            items.append(copy)
    elif change == "tag-only":  # a tag on a compliant key: nothing new
        for items in (plan["resource_changes"], plan["planned_values"]["root_module"]["resources"]):
            resource = next(r for r in items if r["address"] == "aws_kms_key.main")
            values = resource["change"]["after"] if "change" in resource else resource["values"]
            values["tags"] = {**values["tags"], "Owner": "platform-team"}
            if "change" in resource:
                resource["change"]["actions"] = ["update"]
    target.mkdir(parents=True, exist_ok=True)
    (target / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return target


def _shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a CI script as the runner does (bash, stop at the first failing command)."""
    bin_dir = Path(sys.executable).parent  # hds-audit's console script is installed here
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(cwd),
            "PYTHONPATH": str(ROOT),
            **env,
        },
    )


def _github_step(name: str) -> str:
    steps = _load_ci("github-actions.yml")["jobs"]["plan-audit"]["steps"]
    script: str = next(s for s in steps if s.get("name") == name)["run"]
    assert "${{" not in script, "expressions go through env:, so the script runs as written"
    return script


def _github_gate(cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    outputs = cwd / "github_output"
    outputs.write_text("", encoding="utf-8")
    done = _shell(
        _github_step("Gate"),
        cwd,
        {**env, "GITHUB_OUTPUT": str(outputs), "REPORT_URL": "https://ci"},
    )
    assert done.returncode == 0, done.stderr  # the gate's code is kept for the last step
    [code] = re.findall(r"^code=(\d+)$", outputs.read_text(encoding="utf-8"), re.M)
    return int(code), done.stdout + done.stderr


def test_github_flow_main_records_the_baseline_and_pull_requests_gate_on_new_findings(
    tmp_path: Path,
) -> None:
    workflow = _load_ci("github-actions.yml")
    env = {k: str(v) for k, v in workflow["env"].items() if k.startswith("HDS_AUDIT_FAIL")}
    main_dir = _plan_variant(tmp_path / "main", "unchanged")
    done = _shell(_github_step("Record the baseline (main)"), main_dir, env)
    assert done.returncode == 0, done.stderr  # findings on main never fail the baseline run
    baseline = json.loads((main_dir / "hds-baseline" / "report.json").read_text("utf-8"))
    assert baseline["summary"]["by_status"]["fail"] > 0
    # what main publishes is what pull requests download, where the gate reads it
    steps = {s.get("name"): s for s in workflow["jobs"]["plan-audit"]["steps"]}
    published = steps["Publish the baseline (the artifact pull requests download)"]["with"]
    assert published == {"name": "hds-audit-baseline", "path": "hds-baseline/"}
    download = steps["Download the baseline (report.json of the last successful run on main)"]
    assert "--name hds-audit-baseline --dir baseline" in download["run"]

    outcomes = {}
    for change in ("new-finding", "tag-only"):
        pr = _plan_variant(tmp_path / change, change)
        shutil.copytree(main_dir / "hds-baseline", pr / "baseline")
        outcomes[change] = _github_gate(pr, env)[0]
        assert (pr / "hds-reports" / "report.junit.xml").is_file()
    assert outcomes == {"new-finding": 1, "tag-only": 0}

    # before main has run once: no baseline, every finding gates, and the log says why
    code, log = _github_gate(_plan_variant(tmp_path / "first", "tag-only"), env)
    assert code == 1 and "no baseline from main yet" in log


class _ArtifactApi(BaseHTTPRequestHandler):
    """GitLab's `jobs/artifacts/REF/raw/PATH?job=NAME` for one project, on loopback."""

    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path) if self.headers["JOB-TOKEN"] == "job-token" else None
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


def test_gitlab_flow_default_branch_records_the_baseline_and_merge_requests_gate(
    tmp_path: Path,
) -> None:
    ci = _load_ci("gitlab-ci.yml")
    env = {"HDS_AUDIT_FAIL_ON": str(ci["variables"]["HDS_AUDIT_FAIL_ON"])}
    main_dir = _plan_variant(tmp_path / "main", "unchanged")
    shutil.copy(ROOT / "examples" / "waivers.yaml", main_dir / "waivers.yaml")
    done = _shell("\n".join(ci["hds-audit-baseline"]["script"]), main_dir, env)
    assert done.returncode == 0, done.stderr
    assert ci["hds-audit-baseline"]["artifacts"]["paths"] == ["hds-baseline/"]
    report = (main_dir / "hds-baseline" / "report.json").read_bytes()
    assert json.loads(report)["summary"]["by_status"]["waived"] > 0  # waivers.yaml applied

    api = "/api/v4/projects/42/jobs/artifacts/main/raw/hds-baseline/report.json"
    _ArtifactApi.files = {f"{api}?job=hds-audit-baseline": report}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ArtifactApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gitlab = {
        **env,
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_DEFAULT_BRANCH": "main",
        "CI_JOB_TOKEN": "job-token",
        "CI_JOB_URL": "https://gitlab.example/job/1",
    }
    try:
        outcomes = {}
        for change in ("new-finding", "tag-only"):
            mr = _plan_variant(tmp_path / change, change)  # the same repository: same waivers
            shutil.copy(main_dir / "waivers.yaml", mr / "waivers.yaml")
            done = _shell("\n".join(ci["hds-audit-gate"]["script"]), mr, gitlab)
            assert (mr / "baseline.json").read_bytes() == report
            outcomes[change] = done.returncode
        assert outcomes == {"new-finding": 1, "tag-only": 0}
    finally:
        server.shutdown()
        server.server_close()


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make -f ROOT/Makefile ARGS` in ``cwd``, with this interpreter's environment as .venv."""
    venv = Path(sys.executable).parent.parent
    return subprocess.run(
        ["make", "-f", str(ROOT / "Makefile"), "-o", f"{venv}/.installed", f"VENV={venv}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_audit_audits_what_hds_audit_yaml_names(tmp_path: Path) -> None:
    """Issue 13: with ./hds-audit.yaml, `make audit` audits it; the scan's exit code is kept."""
    plan = ROOT / "terraform_fixtures" / "compliant" / "plan.json"
    (tmp_path / "hds-audit.yaml").write_text(
        f"terraform: [{plan}]\nfail_on: none\nexecutor: local\n", encoding="utf-8"
    )
    done = _make(tmp_path, "audit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "auditing what hds-audit.yaml names" in done.stdout
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in report["run"]["sources"]] == [str(plan)]
    assert report["run"]["config_file"] == "hds-audit.yaml"
    assert (tmp_path / "reports" / "report.html").is_file()
    # findings at or above the threshold of your own estate fail the target (not the demo's 0)
    (tmp_path / "hds-audit.yaml").write_text(
        f"terraform: [{PLAN}]\nfail_on: high\n", encoding="utf-8"
    )
    failed = _make(tmp_path, "audit")
    assert failed.returncode != 0 and "Exit 1:" in failed.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_audit_without_hds_audit_yaml_audits_the_bundled_default(tmp_path: Path) -> None:
    done = _make(tmp_path, "-n", "audit")
    assert done.returncode == 0, done.stderr
    assert "scan terraform_fixtures/patient-records terraform_fixtures/compliant" in done.stdout
    assert "--attestations terraform_fixtures/attestations.yaml" in done.stdout
    assert "--config" not in done.stdout
