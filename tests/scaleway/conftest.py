"""Fixtures: the loopback Scaleway API with a planted estate, moto's S3 server for Object
Storage, and Scaleway credentials in the environment only (no config file is read)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_server import ScalewayApiServer, ScalewayEstate, serve
from scw_estates import ACCESS_KEY, ALPHA, ORG, SECRET_KEY, planted

from hds_audit.testing import moto_server_process

BUCKETS = {"pass-par-sse": ("fr-par", True), "fail-ams-plain": ("nl-ams", False)}


@pytest.fixture(autouse=True)
def scw_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The credentials as `scw init` users export them; no profile file."""
    for name in ("SCW_PROFILE", "SCW_API_URL", "SCW_DEFAULT_REGION", "SCW_DEFAULT_ZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCW_CONFIG_PATH", str(tmp_path / "scw" / "config.yaml"))
    monkeypatch.setenv("SCW_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("SCW_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("SCW_DEFAULT_ORGANIZATION_ID", ORG)
    monkeypatch.setenv("SCW_DEFAULT_PROJECT_ID", ALPHA)


@pytest.fixture
def estate() -> ScalewayEstate:
    return planted()


@pytest.fixture
def api(estate: ScalewayEstate) -> Iterator[ScalewayApiServer]:
    with serve(estate) as server:
        yield server


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    """moto's server (real HTTP on 127.0.0.1) holding two buckets: SSE in fr-par, none in
    nl-ams. In a process of its own: moto keeps its state per process, and the AWS tests'
    buckets must not show up among Scaleway's."""
    with moto_server_process() as url:
        for name, (region, sse) in BUCKETS.items():
            client = _s3(url, region)
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
            )
            if sse:
                rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                client.put_bucket_encryption(
                    Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]}
                )
        yield url


def _s3(url: str, region: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
