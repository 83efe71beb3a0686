"""The evidence an Azure scan records (issue 19): the identity that read each subscription
(its object id, from the token's claims; never the token) — against the loopback ARM server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from arm_server import ArmServer, StaticCredential
from click.testing import CliRunner
from conftest import loopback_cloud

from hds_audit.cli import main
from hds_audit.collectors.azure import AzureRuntime
from hds_audit.collectors.azure.clouds import token_identity

OBJECT_ID = "5b1d1e0c-9a0e-4f5e-8d3f-2f3f6a1b7c11"


def _jwt(claims: dict[str, str]) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_each_subscription_names_the_identity_that_read_it(
    arm: tuple[ArmServer, str], tmp_path: Path
) -> None:
    server, ca = arm
    token = _jwt({"oid": OBJECT_ID, "tid": "tenant", "appid": "client"})
    runtime = AzureRuntime(
        credential=StaticCredential(token), cloud=loopback_cloud(server), connection_verify=ca
    )
    args = ["scan", "--azure", "--quiet", "--format", "json", "--output", str(tmp_path)]
    CliRunner().invoke(main, [*args, "--no-history"], obj=runtime, catch_exceptions=False)
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    sources = json.loads(text)["run"]["sources"]
    subscriptions = [
        s for s in sources if s["path"].startswith("azure:") and "tenant" not in s["path"]
    ]
    assert subscriptions
    assert {s["identity"] for s in subscriptions} == {f"oid:{OBJECT_ID}"}
    assert token not in text and token.split(".")[1] not in text


def test_a_token_without_readable_claims_gives_no_identity() -> None:
    assert token_identity("loopback-test-token") is None
    assert token_identity("a.!!!.c") is None
    assert token_identity(_jwt({"appid": "client-id"})) == "appid:client-id"
    assert token_identity(_jwt({"tid": "tenant only"})) is None
