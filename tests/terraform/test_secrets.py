"""Secrets are redacted by Terraform's marks, by name and by value; references are kept."""

from __future__ import annotations

from hds_audit.secrets import REDACTED, is_secret_name, redact


def test_names() -> None:
    for name in (
        "password",
        "administrator_login_password",
        "primary_access_key",
        "primary_connection_string",
        "private_key_pem",
        "client_secret",
        "sas_token",
    ):
        assert is_secret_name(name), name
    for name in (
        "kms_key_id",
        "kms_master_key_id",
        "key_vault_key_id",
        "secret_arn",
        "password_enabled",
        "key_name",
        "customer_managed_key",
        "result",
    ):
        assert not is_secret_name(name), name


def test_marks_paths_names_and_values() -> None:
    attributes = {
        "custom": "hunter2",
        "nested": [{"token": "t0k3n", "kms_key_id": "arn:aws:kms:eu-west-3:1:key/k"}],
        "user_data": "mysql://admin:S3cret@db.internal/records",
        "note": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==",
        "plain": "eu-west-3",
    }
    out = redact(
        attributes, "aws_instance", sensitive_paths=[[{"type": "get_attr", "value": "custom"}]]
    )
    assert out["custom"] == REDACTED
    assert out["nested"][0]["token"] == REDACTED
    assert out["nested"][0]["kms_key_id"].startswith("arn:aws:kms")
    assert out["user_data"] == REDACTED
    assert out["note"] == REDACTED
    assert out["plain"] == "eu-west-3"
    assert attributes["custom"] == "hunter2"  # the input is not mutated


def test_plan_marks_and_secret_types() -> None:
    out = redact({"result": "pw", "length": 24}, "random_password")
    assert out == {"result": REDACTED, "length": 24}
    out = redact({"a": {"b": "x", "c": "y"}}, "t", sensitive_marks={"a": {"b": True}})
    assert out == {"a": {"b": REDACTED, "c": "y"}}
