"""Cloud Asset Inventory search results -> normalised resources, on the shared draft.

A ``ResourceSearchResult`` carries the resource's full name, asset type, project, location
(region, zone, multi-region such as ``eu``, or ``global``) and its Cloud KMS keys: enough to
judge residency, encryption at rest (always on in Google Cloud: the table cites the source)
and who holds the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hds_audit.collectors.draft import ResourceDraft
from hds_audit.collectors.gcp.table import GcpTable
from hds_audit.geo import GeoTables
from hds_audit.model import DATA_KINDS, Encryption, KeyOwner, Resource, Source

_KEPT = ("project", "location", "display_name", "kms_keys", "state", "labels", "folders")


def normalise(item: Mapping[str, Any], table: GcpTable, geo: GeoTables, source: Source) -> Resource:
    """One search result as a :class:`Resource` of provider ``gcp``."""
    asset_type = str(item.get("asset_type") or "")
    kind = table.kind(asset_type)
    place = item.get("location")
    draft = ResourceDraft(
        id=str(item.get("name") or ""),
        type=asset_type,
        kind=kind,
        location=geo.locate("gcp", place if isinstance(place, str) and place else None),
        name=str(item.get("display_name") or "") or None,
        attributes={k: item[k] for k in _KEPT if item.get(k) not in (None, "", [], {})},
    )
    if not place:
        draft.unknowns["region"] = "no location in the Cloud Asset Inventory search result"
    if kind in DATA_KINDS:
        keys = [str(k) for k in item.get("kms_keys") or () if k] or (
            [str(item["kms_key"])] if item.get("kms_key") else []
        )
        if keys:
            draft.encryption = Encryption(True, KeyOwner.CUSTOMER, keys[0])
        else:
            draft.encryption = Encryption(True, KeyOwner.PROVIDER, table.default_key_id)
    return draft.resource("gcp", source)
