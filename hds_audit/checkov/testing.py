"""Test helper: the ``planned_values`` Checkov reads, for plans built by ``hds_audit.testing``.

``terraform show -json`` prints both ``resource_changes`` (what hds-audit reads) and
``planned_values`` (what Checkov's plan runner reads); ``hds_audit.testing.plan_document``
writes only the first. This fills the second from it, as Terraform would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def with_planned_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a plan document whose ``planned_values`` lists every root-module change."""
    resources = [
        {
            "address": change["address"],
            "mode": change.get("mode", "managed"),
            "type": change["type"],
            "name": change["name"],
            "provider_name": change.get("provider_name", ""),
            "schema_version": 0,
            "values": (change.get("change") or {}).get("after") or {},
            "sensitive_values": {},
        }
        for change in document.get("resource_changes") or ()
        if not change.get("module_address")
    ]
    return {**document, "planned_values": {"root_module": {"resources": resources}}}
