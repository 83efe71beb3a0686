"""Azure clouds (endpoints) and credentials. No Azure SDK import at module level."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hds_audit.errors import UsageError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


@dataclass(frozen=True, slots=True)
class AzureCloud:
    """Where a cloud's Resource Manager and Entra ID live.

    ``authority_host`` is one of :class:`azure.identity.AzureAuthorityHosts`; tests build a
    cloud whose ``resource_manager`` is the loopback ARM server.
    """

    name: str
    resource_manager: str
    authority_host: str
    credential_scope: str
    data_boundaries: bool = False

    @property
    def base_url(self) -> str:
        return self.resource_manager.rstrip("/")


# Endpoints: azure.mgmt.core / msrestazure cloud definitions; authority hosts:
# azure.identity.AzureAuthorityHosts (AZURE_PUBLIC_CLOUD, AZURE_CHINA, AZURE_GOVERNMENT).
# The EU Data Boundary exists only in the public cloud.
CLOUDS: dict[str, AzureCloud] = {
    "public": AzureCloud(
        "public",
        "https://management.azure.com",
        "login.microsoftonline.com",
        "https://management.azure.com/.default",
        data_boundaries=True,
    ),
    "china": AzureCloud(
        "china",
        "https://management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
    ),
    "usgov": AzureCloud(
        "usgov",
        "https://management.usgovcloudapi.net",
        "login.microsoftonline.us",
        "https://management.usgovcloudapi.net/.default",
    ),
}


def cloud_named(name: str) -> AzureCloud:
    try:
        return CLOUDS[name.lower()]
    except KeyError:
        raise UsageError(f"unknown Azure cloud {name!r}; use one of {', '.join(CLOUDS)}") from None


def custom_cloud(
    endpoint_url: str,
    base: AzureCloud,
    authority_host: str | None = None,
    credential_scope: str | None = None,
) -> AzureCloud:
    """A cloud whose Resource Manager is ``endpoint_url`` (Azure Stack Hub, a private ARM).

    Sign-in goes to ``authority_host`` (default: the ``base`` cloud's); the token is asked for
    ``credential_scope`` (default: ``ENDPOINT/.default``; Azure Stack Hub publishes its audience
    at ``ENDPOINT/metadata/endpoints``). No EU Data Boundary outside the public cloud.
    """
    url = endpoint_url.rstrip("/")
    return AzureCloud(
        name=f"custom ({url})",
        resource_manager=url,
        authority_host=authority_host or base.authority_host,
        credential_scope=credential_scope or f"{url}/.default",
    )


def default_credential(cloud: AzureCloud) -> TokenCredential:
    """DefaultAzureCredential for ``cloud``: environment, workload identity, managed identity,
    Azure CLI login... (azure-identity decides, in its documented order)."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise UsageError("--azure needs the Azure SDK: pip install 'hds-audit[azure]'") from None
    return DefaultAzureCredential(authority=cloud.authority_host)


def check_credential(credential: TokenCredential, cloud: AzureCloud) -> None:
    """Get one token now, so a missing login fails in one line before anything is audited."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import CredentialUnavailableError

    # DefaultAzureCredential also logs every credential it tried, over many lines, as a
    # warning: the one line below says it all, so that log is held back for this call only.
    identity_log = logging.getLogger("azure.identity")
    level = identity_log.level
    identity_log.setLevel(logging.ERROR)
    try:
        credential.get_token(cloud.credential_scope)
    except (CredentialUnavailableError, ClientAuthenticationError) as error:
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        raise UsageError(
            f"no Azure credential available for the {cloud.name} cloud ({first[:200]}); "
            "sign in with 'az login', or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, "
            "or run with a managed or workload identity"
        ) from None
    finally:
        identity_log.setLevel(level)


def token_identity(token: str) -> str | None:
    """Who a Microsoft Entra access token was issued to: ``oid:<object id>`` (a user,
    a service principal, a managed identity), else ``appid:<client id>``; None when the
    token carries no readable claims. Only these ids are kept, never the token."""
    import base64
    import binascii
    import json

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    for claim in ("oid", "appid", "azp"):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            return f"{'oid' if claim == 'oid' else 'appid'}:{value}"
    return None
