"""A public test helper: a credential for loopback Resource Manager servers.

Workers of a cluster cannot be handed a credential object; they import a factory named in
the spec (``import:hds_audit.collectors.azure.testing:loopback_credential``). The token is a
fixed placeholder: only a test server that accepts any bearer token takes it.
"""

from __future__ import annotations

import time
from typing import Any

LOOPBACK_TOKEN = "hds-audit-loopback-token"
LOOPBACK_CREDENTIAL = "import:hds_audit.collectors.azure.testing:loopback_credential"


class StaticTokenCredential:
    """A TokenCredential that always has the same placeholder token."""

    def __init__(self, token: str = LOOPBACK_TOKEN) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def loopback_credential() -> StaticTokenCredential:
    """The zero-argument factory a ``credential_spec`` names."""
    return StaticTokenCredential()
