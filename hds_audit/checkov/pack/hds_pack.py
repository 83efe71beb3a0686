"""Checkov loads this file from ``--external-checks-dir``: it builds the HDS checks.

Nothing here judges anything: each check evaluates one of hds-audit's own policies through its
own normaliser (``hds_audit.checkov.checks``). ``HDS_AUDIT_ALLOWED`` sets the allowed area
(default ``eu``), as ``--allowed`` does for ``hds-audit scan``.
"""

from hds_audit.checkov.checks import build_checks, pack_policies, unregister

unregister(p.meta.id for p in pack_policies())
CHECKS = build_checks()
