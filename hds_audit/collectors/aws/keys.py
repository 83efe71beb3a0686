"""Who holds a KMS key: ``kms:DescribeKey`` once per key, cached for the whole scan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hds_audit.collectors.aws.session import Account, Connector, OnceCache, classify
from hds_audit.i18n import Msg
from hds_audit.model import KeyOwner

_KMS_ARN = re.compile(r"^arn:[\w-]+:kms:([a-z0-9-]+):(\d{12}):")


@dataclass(frozen=True, slots=True)
class KeyVerdict:
    """The owner of a key, the key as named, and why the owner is unknown when it is."""

    owner: KeyOwner | None
    key_id: str | None
    reason: str | None = None


class KeyResolver:
    """Resolves key ownership through ``KeyMetadata.KeyManager`` (AWS or CUSTOMER)."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.cache: OnceCache[dict[str, Any]] = OnceCache()

    def metadata(self, account: Account, region: str, key_id: str) -> dict[str, Any]:
        """``KeyMetadata`` of a key id, ARN or alias; raises what the API raised."""
        match = _KMS_ARN.match(key_id)
        call_region = match.group(1) if match else region
        cache_key = key_id if match else f"{account.id}:{call_region}:{key_id}"

        def describe() -> dict[str, Any]:
            client = self.connector.client(account, call_region, "kms")
            metadata: dict[str, Any] = client.describe_key(KeyId=key_id)["KeyMetadata"]
            return metadata

        metadata = self.cache.get(cache_key, describe)
        arn = metadata.get("Arn")
        if isinstance(arn, str):
            self.cache.put(arn, metadata)
        return metadata

    def owner(self, account: Account, region: str, key_id: Any) -> KeyVerdict:
        """Owner of the key that encrypts a resource; ``None`` key => the service's own key."""
        if not isinstance(key_id, str) or not key_id:
            return KeyVerdict(KeyOwner.PROVIDER, None)
        if "alias/aws/" in key_id:
            return KeyVerdict(KeyOwner.PROVIDER, key_id)
        try:
            metadata = self.metadata(account, region, key_id)
        except Exception as error:  # every failure becomes an unknown with its reason
            _kind, message = classify(error)
            return KeyVerdict(
                None, key_id, Msg("collect.aws.describe_key_failed", key=key_id, error=message)
            )
        manager = metadata.get("KeyManager")
        if manager == "CUSTOMER":
            return KeyVerdict(KeyOwner.CUSTOMER, str(metadata.get("Arn") or key_id))
        if manager == "AWS":
            return KeyVerdict(KeyOwner.PROVIDER, str(metadata.get("Arn") or key_id))
        return KeyVerdict(
            None, key_id, Msg("collect.aws.unexpected_manager", key=key_id, manager=repr(manager))
        )
