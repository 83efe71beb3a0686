"""The moto server (real HTTP on 127.0.0.1), started once per session, and a fault proxy."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from hds_audit.collectors.aws.testing import FaultProxy

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "AWS_CONFIG_FILE": "/nonexistent/hds-audit-test-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/hds-audit-test-credentials",
}


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Dummy credentials; no profile files; no instance metadata lookups."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in DUMMY_ENV.items():
            patch.setenv(key, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="session")
def moto_url(aws_env: None) -> Iterator[str]:
    # moto answers unimplemented calls (EFS replication) with a 500 and a logged traceback
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    with FaultProxy(moto_url) as running:
        yield running


@pytest.fixture()
def faults(proxy: FaultProxy) -> Iterator[FaultProxy]:
    """The proxy, with no faults and no recorded requests, cleared again afterwards."""
    proxy.reset()
    yield proxy
    proxy.reset()
