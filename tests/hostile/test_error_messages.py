"""Error messages are outputs too: the secrets they may carry (an endpoint URL with
credentials, an API's own words quoting a connection string) never reach stderr or a report."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hds_audit.secrets import REDACTED, scrub_message

SECRET = "hunter2"


@pytest.mark.parametrize(
    "message",
    [
        f"AWS endpoint http://admin:{SECRET}@127.0.0.1:9/ could not be reached",
        f"login failed for Server=db;Password={SECRET};User=app",
        f"script said: export DB_PASSWORD={SECRET} && run",
        f"refused token: {SECRET} (HTTP 401)",
        f"Password = {SECRET} rejected",
        f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}\n-----END RSA PRIVATE KEY----- in the body",
    ],
)
def test_secrets_in_a_message_are_masked(message: str) -> None:
    scrubbed = scrub_message(message)
    assert SECRET not in scrubbed
    assert REDACTED in scrubbed or "withheld" in scrubbed


def test_the_access_key_id_of_a_message_is_masked() -> None:
    assert scrub_message("key AKIAABCDEFGHIJKLMNOP was denied") == f"key {REDACTED} was denied"


@pytest.mark.parametrize(
    "message",
    [
        "access denied (HTTP 403) on arn:aws:s3:::records",
        "region eu-west-3: throttled after 5 retries",
        "tfonly: no Terraform state here",
    ],
)
def test_a_message_without_a_secret_is_unchanged(message: str) -> None:
    assert scrub_message(message) == message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_url_with_credentials_never_reaches_stderr(tmp_path: Path) -> None:
    url = f"http://admin:{SECRET}@127.0.0.1:{_closed_port()}"
    done = subprocess.run(
        [sys.executable, "-c", "from hds_audit.cli import main; main()", "scan", "--aws",
         "--aws-endpoint-url", url, "--aws-regions", "eu-west-3", "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
        env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "PATH": "/usr/bin:/bin",
             "PYTHONPATH": ":".join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert SECRET not in done.stderr + done.stdout
    assert f"http://{REDACTED}@127.0.0.1" in done.stderr
