"""Checkov runs shared by the tests of this folder (each costs a second or two)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hds_audit.checkov.runner import CheckovResult


# Without Checkov (pip install hds-audit[checkov]) this folder's tests are not collected.
def _checkov_installed() -> bool:
    try:
        return importlib.util.find_spec("checkov.common") is not None
    except ModuleNotFoundError:
        return False


if not _checkov_installed():
    collect_ignore_glob = ["test_*.py"]

HCL = Path(__file__).parent / "hcl"


@pytest.fixture(scope="session")
def aws_run() -> CheckovResult:
    from hds_audit.checkov.runner import run_checkov

    return run_checkov(str(HCL / "aws"))


@pytest.fixture(scope="session")
def azure_run() -> CheckovResult:
    from hds_audit.checkov.runner import run_checkov

    return run_checkov(str(HCL / "azure"))


@pytest.fixture(scope="session")
def broken_run() -> CheckovResult:
    from hds_audit.checkov.runner import run_checkov

    return run_checkov(str(HCL / "broken"))
