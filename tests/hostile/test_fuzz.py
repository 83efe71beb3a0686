"""Property-based fuzzing of the Terraform reader and normaliser (hypothesis).

Arbitrary JSON shapes inside a valid state or plan envelope: reading and normalising either
works or raises the tool's own input error (never another exception), and every secret-shaped
value planted anywhere stays out of every writer's output.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hds_audit.collectors.terraform import TerraformCollector, _normalised
from hds_audit.collectors.terraform.documents import parse_document
from hds_audit.collectors.terraform.normalise import index_slimmer
from hds_audit.collectors.terraform.reading import read_text
from hds_audit.engine import load_policies
from hds_audit.errors import InputError, ShapeError
from hds_audit.geo import GeoTables
from hds_audit.reports.ci_writers import write_ci_format
from hds_audit.reports.html_report import write_html
from hds_audit.reports.json_report import write_json
from hds_audit.scan import ScanOptions, run_scan
from hds_audit.testing import plan_document, state_document

TOKEN = "Tq7zSECRETvalue42"
GEO = GeoTables.default()
ROOTS = ("data", "config", "tags", "environment", "user_data", "region", "location")
# Attribute names the normalisers read: the fuzzing puts odd values exactly there.
READ = (
    "account_replication_type", "arn", "availability_zone", "bucket", "destination",
    "destination_vault_arn", "ebs_block_device", "encrypted", "geo_location",
    "geo_redundant_backup_enabled", "global_cluster_identifier", "key_vault_key_id",
    "kms_key_id", "kms_master_key_id", "replica", "replicate_source_db",
    "replication_configuration", "rule", "root_block_device", "server_id",
    "server_side_encryption_configuration", "source_db_instance_arn", "sqs_managed_sse_enabled",
    "storage_account_id", "storage_encrypted", "copy_action", "region_name", "name", "id",
    "storage_account_type", "identifier", "key_id", "status", "os_disk", "data_disk", "lun",
    "device_name", "kms_key_arn", "storage_os_disk", "disk_encryption_set_id",
)  # fmt: skip
TYPES = (
    "aws_s3_bucket",
    "aws_db_instance",
    "aws_ebs_volume",
    "aws_instance",
    "aws_ecs_task_definition",
    "aws_dynamodb_table",
    "aws_s3_bucket_replication_configuration",
    "aws_backup_plan",
    "azurerm_storage_account",
    "azurerm_mssql_database",
    "azurerm_cosmosdb_account",
    "azurerm_mssql_server",
    "azurerm_managed_disk",
    "aws_kms_key",
    "aws_efs_file_system",
    "aws_sqs_queue",
    "aws_rds_cluster",
    "aws_backup_vault",
    "aws_secretsmanager_secret",
    "aws_lambda_function",
    "azurerm_linux_virtual_machine",
    "azurerm_linux_virtual_machine_scale_set",
    "google_storage_bucket",
)

SECRET_SHAPES: list[Any] = [
    f"Server=db;Password={TOKEN};",
    f"Server = db; User Id = app; Password = {TOKEN}",
    f"postgres://admin:{TOKEN}@db.internal:5432/records",
    f"-----BEGIN RSA PRIVATE KEY-----\n{TOKEN}\n-----END RSA PRIVATE KEY-----",
    f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{TOKEN}\n-----END PGP PRIVATE KEY BLOCK-----",
    f"#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY={TOKEN}\nrun\n",
    json.dumps({"password": TOKEN}),
    json.dumps([{"name": "DB_PASSWORD", "value": TOKEN}]),
    json.dumps({"outer": json.dumps({"client_secret": TOKEN})}),
    {"password": TOKEN},
    {"name": "API_TOKEN", "value": TOKEN},
    {"access_key": {"nested": [TOKEN]}},
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["eu-west-3", "us-east-1", "francecentral", "arn:aws:kms:eu-west-3:1:k"])
)
planted = st.sampled_from(SECRET_SHAPES)


def _trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8) | st.sampled_from(READ), children, max_size=4)
        ),
        max_leaves=12,
    )


# Values (attributes, sensitivity marks) hold planted secrets; the envelope's own fields
# (types, names, index keys: identities shown in every report) get any JSON but no secret.
json_values = _trees(scalars | planted)
plain_values = _trees(scalars)
# Every attribute object holds at least one planted secret under a root a policy reads
# (evidence shows it), besides any other shapes.
planted_trees = st.recursive(
    planted,
    lambda children: (
        st.lists(children, min_size=1, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, min_size=1, max_size=3)
    ),
    max_leaves=4,
)
attributes = st.builds(
    lambda others, root, secret: {**others, root: secret},
    st.dictionaries(
        st.sampled_from(ROOTS) | st.sampled_from(READ) | st.text(max_size=8),
        json_values,
        max_size=8,
    ),
    st.sampled_from(ROOTS),
    planted_trees,
)
index_step = st.fixed_dictionaries(
    {"type": st.just("index"), "value": st.fixed_dictionaries({"value": json_values})}
)
path_step = st.fixed_dictionaries({"type": st.just("get_attr"), "value": json_values}) | index_step
sensitive = st.lists(st.lists(path_step, max_size=3), max_size=2) | json_values


def _odd(realistic: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the realistic shape, sometimes any JSON value at all."""
    return st.one_of(realistic, realistic, realistic, json_values)


instances = st.lists(
    _odd(
        st.fixed_dictionaries(
            {"attributes": _odd(attributes)},
            optional={"sensitive_attributes": sensitive, "index_key": plain_values},
        )
    ),
    min_size=1,
    max_size=3,
)
resources = st.lists(
    _odd(
        st.fixed_dictionaries(
            {
                "mode": st.sampled_from(["managed", "data"]) | plain_values,
                "type": st.sampled_from(TYPES) | plain_values,
                "name": st.text(min_size=1, max_size=6),
                "provider": st.sampled_from(
                    [
                        'provider["registry.terraform.io/hashicorp/aws"]',
                        'provider["registry.terraform.io/hashicorp/azurerm"]',
                    ]
                )
                | plain_values,
                "instances": _odd(instances),
            }
        )
    ),
    max_size=3,
)
changes = st.lists(
    _odd(
        st.fixed_dictionaries(
            {
                "address": st.text(max_size=10),
                "type": st.sampled_from(TYPES) | plain_values,
                "name": st.text(max_size=6),
                "provider_name": st.just("registry.terraform.io/hashicorp/aws") | plain_values,
                "change": _odd(
                    st.fixed_dictionaries(
                        {
                            "actions": st.just(["create"]) | plain_values,
                            "after": _odd(attributes),
                            "after_unknown": json_values,
                            "after_sensitive": st.booleans() | json_values,
                        }
                    )
                ),
            }
        )
    ),
    max_size=3,
)


def _state(resource_list: list[Any]) -> dict[str, Any]:
    document = state_document([])
    document["resources"] = resource_list
    return document


def _plan(change_list: list[Any], configuration: Any) -> dict[str, Any]:
    document = plan_document([])
    document["resource_changes"] = change_list
    if configuration is not None:
        document["configuration"] = configuration
    return document


def _shown_state(values: list[Any]) -> dict[str, Any]:
    """What ``terraform show -json`` prints for a state."""
    return {
        "format_version": "1.0",
        "terraform_version": "1.11.4",
        "values": {"root_module": {"resources": values}},
    }


shown = st.lists(
    _odd(
        st.fixed_dictionaries(
            {
                "address": st.text(max_size=10),
                "mode": st.just("managed"),
                "type": st.sampled_from(TYPES) | plain_values,
                "name": st.text(max_size=6),
                "provider_name": st.just("registry.terraform.io/hashicorp/aws"),
                "values": _odd(attributes),
                "sensitive_values": st.booleans() | json_values,
            }
        )
    ),
    max_size=3,
)
documents = (
    st.builds(_state, resources)
    | st.builds(_shown_state, shown)
    | st.builds(
        _plan, changes, st.none() | plain_values | st.just({"provider_config": {"aws": {}}})
    )
)


def _read_and_normalise(path: Path) -> None:
    """What :func:`collect_file` does, without its last-resort conversion of stray errors:
    the fuzzing must see them."""
    label = str(path)
    parsed = parse_document(read_text(path, label), label, slim=index_slimmer())
    _normalised(parsed, label, GEO)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@FUZZ
@given(document=documents)
def test_reader_raises_only_input_errors(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with contextlib.suppress(InputError, ShapeError):
        _read_and_normalise(path)


@pytest.fixture(scope="module")
def reading_policies(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The built-in policies and one policy per attribute root: evidence shows the values."""
    folder = tmp_path_factory.mktemp("policies")
    for n, root in enumerate(ROOTS):
        (folder / f"p{n}.yaml").write_text(
            f"""\
metadata:
  id: FUZZ_{n:03}
  name: Reads {root}
  category: residency
  severity: high
  rationale: fuzz
  remediation: fuzz
  frameworks: {{hds-v2: ["EXI 28"]}}
definition:
  cond_type: attribute
  attribute: attributes.{root}
  operator: not_equals
  value: nothing
""",
            encoding="utf-8",
        )
    return load_policies([str(folder)])


WRITERS = ("sarif", "junit", "csv", "markdown")


@settings(FUZZ, max_examples=80)
@given(document=documents)
def test_planted_secrets_reach_no_output(
    tmp_path: Path, reading_policies: list[Any], document: dict[str, Any]
) -> None:
    source = tmp_path / "fuzz.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "out"
    options = ScanOptions(collectors=[TerraformCollector((str(source),))])
    report = run_scan(options, geo=GEO, policies=reading_policies)
    write_json(report, out / "report.json")
    write_html(report, out / "report.html", "en")
    for name in WRITERS:
        write_ci_format(name, report, out / f"report.{name}")
    for written in out.iterdir():
        text = written.read_text(encoding="utf-8")
        assert TOKEN not in text, written.name
    json.loads((out / "report.json").read_text(encoding="utf-8"), parse_constant=_refuse)


def _refuse(constant: str) -> None:
    raise ValueError(constant)
