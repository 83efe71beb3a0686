"""Shared fixtures: the geo tables, the built-in policies, the repository's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from hds_audit.engine import Policy, builtin_policies
from hds_audit.geo import AllowedArea, GeoTables

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "terraform_fixtures"
TEST_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def geo() -> GeoTables:
    return GeoTables.default()


@pytest.fixture(scope="session")
def policies() -> tuple[Policy, ...]:
    return builtin_policies()


@pytest.fixture(scope="session")
def eu() -> AllowedArea:
    return AllowedArea.parse("eu")
