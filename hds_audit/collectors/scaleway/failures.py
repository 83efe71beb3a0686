"""Why a Scaleway call failed, classified, and the collection error a report shows."""

from __future__ import annotations

import json
from typing import Any

from hds_audit.collectors.api_common import api_error
from hds_audit.collectors.failure import Failure, first_line
from hds_audit.i18n import Msg, Quote
from hds_audit.model import CollectionError, SourceKind


def scaleway_error(scope: str, failure: Failure, **extra: Any) -> CollectionError:
    """A collection error on a Scaleway scope (``project/zone``): its findings are unknown."""
    return api_error("scaleway", scope, failure, SourceKind.SCALEWAY_API, **extra)


def _api_message(response: Any) -> str:
    """The ``message`` of a Scaleway API error body (``{"message": ..., "type": ...}``)."""
    try:
        body = json.loads(response.text)
    except (ValueError, AttributeError):
        return first_line(str(getattr(response, "text", "") or ""))
    if isinstance(body, dict):
        return first_line(str(body.get("message") or body.get("type") or body))
    return first_line(str(body))


def classify(error: BaseException) -> Failure:
    """Map an SDK, boto3 or HTTP exception to a failure a report can show."""
    from scaleway_core.api import ScalewayException

    from hds_audit.collectors.scaleway.environment import ReadOnlyViolation

    if isinstance(error, ReadOnlyViolation):
        return Failure("read_only", str(error))
    if isinstance(error, ScalewayException):
        code = error.status_code or 0
        text = _api_message(error.response)
        label = f"HTTP {code}"
        if code in (401, 403):
            return Failure(
                "access_denied", Msg("error.access_denied", code=label, message=Quote(text))
            )
        if code == 429:
            return Failure(
                "throttled", Msg("error.scaleway_throttled", code=label, message=Quote(text))
            )
        if code == 404:
            return Failure("not_found", Msg("error.not_found", code=label, message=Quote(text)))
        return Failure("http", f"HTTP {code}: {text}")
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        code_text = str(error.response.get("Error", {}).get("Code") or "")
        message = first_line(str(error.response.get("Error", {}).get("Message") or code_text))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code_text in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return Failure(
                "access_denied",
                Msg("error.access_denied", code=code_text, message=Quote(message)),
            )
        return Failure("http", f"{code_text or f'HTTP {status}'}: {message}")
    if isinstance(error, BotoCoreError):
        return Failure("unreachable", _unreachable("Object Storage", error))
    import requests

    if isinstance(error, requests.RequestException):
        return Failure("unreachable", _unreachable("Scaleway API", error))
    return Failure("internal", f"{type(error).__name__}: {first_line(str(error))}")


def _unreachable(api: str, error: BaseException) -> Msg:
    return Msg("error.scaleway_unreachable", api=api, message=Quote(first_line(str(error))))
