"""Why an Azure call failed, classified, and the collection error a report shows for it.

The SDK is imported only when an exception is classified (a collection is running).
"""

from __future__ import annotations

import re
from typing import Any

from hds_audit.collectors.failure import Failure as Failure
from hds_audit.collectors.failure import first_line as first_line
from hds_audit.collectors.failure import lost as lost
from hds_audit.errors import unreachable_reason
from hds_audit.i18n import Msg, Quote
from hds_audit.model import CollectionError, SourceKind

ERROR_DETAILS = {"provider": "azure", "source_kind": SourceKind.AZURE_API.value}


def azure_error(source: str, scope: str, failure: Failure, **extra: Any) -> CollectionError:
    """A collection error on an Azure scope: that scope's findings become ``unknown``."""
    return CollectionError(
        source=source,
        scope=scope,
        message=failure.message,
        kind=failure.kind,
        details={**ERROR_DETAILS, **extra},
    )


_POOL = re.compile(r"(HTTPS?)ConnectionPool\(host='([^']+)', port=(\d+)\)")


def unreachable_message(text: str) -> str:
    """``Azure Resource Manager https://host:port could not be reached (why)``."""
    where = _POOL.search(text)
    endpoint = f" {where[1].lower()}://{where[2]}:{where[3]}" if where else ""
    return Msg("net.azure_unreachable", endpoint=endpoint, why=unreachable_reason(text))


def classify(error: BaseException) -> Failure:
    """Map an SDK exception to a failure a report can show."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    from hds_audit.collectors.azure.pipeline import ReadOnlyViolation

    if isinstance(error, ReadOnlyViolation):
        namespace = error.registering
        if namespace:
            return Failure(
                "not_registered",
                Msg("error.azure_read_only_registration", namespace=namespace),
            )
        return Failure("read_only", str(error))
    if isinstance(error, HttpResponseError):
        status = error.status_code
        code = getattr(error.error, "code", None) if error.error is not None else None
        text = first_line(str(getattr(error.error, "message", None) or error.message or error))
        label = f"HTTP {status}" + (f" {code}" if code else "")
        if isinstance(error, ClientAuthenticationError) or status in (401, 403):
            return Failure(
                "access_denied", Msg("error.access_denied", code=label, message=Quote(text))
            )
        if status == 409 and code == "MissingSubscriptionRegistration":
            return Failure(
                "not_registered", Msg("error.azure_not_registered", code=label, message=Quote(text))
            )
        if status == 429:
            return Failure(
                "throttled", Msg("error.azure_throttled", code=label, message=Quote(text))
            )
        if status == 404:
            return Failure("not_found", Msg("error.not_found", code=label, message=Quote(text)))
        return Failure("http", f"{label}: {text}")
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return Failure("unreachable", unreachable_message(str(error)))
    if isinstance(error, AzureError):
        return Failure("error", first_line(str(error)))
    return Failure("internal", f"{type(error).__name__}: {first_line(str(error))}")
