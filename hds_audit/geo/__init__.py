"""Region -> country -> EU/EEA tables per provider, and the allowed-area modes.

>>> from hds_audit.geo import GeoTables, AllowedArea
>>> geo = GeoTables.default()
>>> geo.locate("azurerm", "France Central").country
'FR'
>>> AllowedArea.parse("eu").allows(geo.locate("aws", "eu-west-2"))
False
"""

from __future__ import annotations

from hds_audit.geo.area import AllowedArea, Mode, eea_would_allow
from hds_audit.geo.tables import PROVIDERS, GeoDataError, GeoTables, Location

__all__ = [
    "PROVIDERS",
    "AllowedArea",
    "GeoDataError",
    "GeoTables",
    "Location",
    "Mode",
    "eea_would_allow",
]
