"""OVHcloud collector: every Public Cloud project the credentials can read, through the OVH API
(the ``ovh`` SDK, ``ovh`` extra), read-only.

The SDK is imported only when a collection runs; the table and the access rules of
``hds-audit permissions ovh`` work without it.
"""

from __future__ import annotations

from hds_audit.collectors.ovh.collect import OvhCollector
from hds_audit.collectors.ovh.table import ovh_table

__all__ = ["OvhCollector", "ovh_table"]
