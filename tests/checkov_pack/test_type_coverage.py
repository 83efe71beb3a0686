"""Coverage cannot silently fall behind the field: every Terraform type Checkov checks for
encryption at rest or customer keys is either in hds-audit's type facts or on the short list of
types that hold no customer data (``data/no_customer_data.yaml``, each with its reason)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources as package_files

import pytest
import yaml

from hds_audit.collectors.terraform.normalise import type_table

# A check is about encryption at rest or keys when its name says so (Checkov names are prose).
_ENCRYPTION_CHECK = re.compile(r"encrypt|\bkms\b|\bcmk\b|customer[- ]managed", re.IGNORECASE)
_PROVIDERS = ("aws", "azurerm")


@cache
def checkov_encryption_types() -> dict[str, tuple[str, ...]]:
    """Terraform type -> ids of Checkov's resource checks about encryption or customer keys."""
    from checkov.terraform.checks.resource.registry import resource_registry

    found: dict[str, set[str]] = {}
    for rtype, checks in resource_registry.checks.items():
        for check in checks:
            if _ENCRYPTION_CHECK.search(check.name or ""):
                found.setdefault(rtype, set()).add(check.id)
    return {t: tuple(sorted(ids)) for t, ids in found.items() if t.startswith(_PROVIDERS)}


@cache
def no_customer_data() -> dict[str, str]:
    text = (
        package_files.files("hds_audit.collectors.terraform")
        .joinpath("data/no_customer_data.yaml")
        .read_text(encoding="utf-8")
    )
    return {str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()}


def _provider(rtype: str) -> str:
    return rtype.split("_", 1)[0]


def test_checkov_registry_is_enumerated() -> None:
    # The meta-test means something only if Checkov's registry is really read.
    counts = {p: sum(_provider(t) == p for t in checkov_encryption_types()) for p in _PROVIDERS}
    assert counts["aws"] >= 50 and counts["azurerm"] >= 20, counts


@pytest.mark.parametrize("provider", _PROVIDERS)
def test_every_type_checkov_checks_for_encryption_is_known(provider: str) -> None:
    known = type_table().specs
    excluded = no_customer_data()
    checked = {t: ids for t, ids in checkov_encryption_types().items() if _provider(t) == provider}
    missing = {t: ids for t, ids in sorted(checked.items()) if t not in known and t not in excluded}
    covered = sum(t in known for t in checked)
    print(
        f"{provider}: {covered}/{len(checked)} in the type facts, "
        f"{sum(t in excluded for t in checked)} hold no customer data"
    )
    assert missing == {}, (
        "add these types to data/types.yaml (or, with a reason, to data/no_customer_data.yaml)"
    )


def test_no_customer_data_list_stays_short_and_true() -> None:
    checked = checkov_encryption_types()
    known = type_table().specs
    excluded = no_customer_data()
    stale = sorted(t for t in excluded if t not in checked)
    both = sorted(t for t in excluded if t in known)
    assert stale == [], "types no longer checked by Checkov: remove them from the list"
    assert both == [], "types in the type facts need no exclusion"
    assert all(len(reason) > 20 for reason in excluded.values())
