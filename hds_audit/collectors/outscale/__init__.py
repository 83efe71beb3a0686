"""3DS Outscale collector: the account's volumes, snapshots and VMs in each region read, through
the OSC API (``osc-sdk-python``, ``outscale`` extra), read-only.

The SDK is imported only when a collection runs.
"""

from __future__ import annotations

from hds_audit.collectors.outscale.collect import OutscaleCollector

__all__ = ["OutscaleCollector"]
