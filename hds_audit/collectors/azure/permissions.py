"""The custom role ``hds-audit permissions azure`` prints: exactly the table's read actions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hds_audit.collectors.azure.table import AzureTable, azure_table

ROLE_NAME = "hds-audit reader"


def role_definition(
    subscriptions: Sequence[str] = (), table: AzureTable | None = None
) -> dict[str, Any]:
    """An Azure custom role (``az role definition create --role-definition @role.json``)."""
    table = table or azure_table()
    scopes = [f"/subscriptions/{s}" for s in subscriptions] or [
        "/subscriptions/00000000-0000-0000-0000-000000000000"
    ]
    return {
        "Name": ROLE_NAME,
        "IsCustom": True,
        "Description": (
            "Read-only access for hds-audit (HDS residency, replication and key audit). Every "
            "action is a read. Microsoft.Resources/dataBoundaries/read is tenant-level: assign "
            "it at scope '/' to audit the EU Data Boundary setting."
        ),
        "Actions": table.actions(),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": scopes,
    }


def role_definition_json(subscriptions: Sequence[str] = ()) -> str:
    return json.dumps(role_definition(subscriptions), indent=2) + "\n"
