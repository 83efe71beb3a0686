"""Why a Google Cloud call failed, classified, and the collection error a report shows."""

from __future__ import annotations

from typing import Any

from hds_audit.collectors.api_common import api_error
from hds_audit.collectors.failure import Failure, first_line
from hds_audit.i18n import Msg, Quote
from hds_audit.model import CollectionError, SourceKind


def gcp_error(scope: str, failure: Failure, **extra: Any) -> CollectionError:
    """A collection error on a Google Cloud scope: its findings become ``unknown``."""
    return api_error("gcp", scope, failure, SourceKind.GCP_API, **extra)


def classify(error: BaseException) -> Failure:
    """Map a client exception to a failure a report can show."""
    from google.api_core import exceptions
    from google.auth.exceptions import GoogleAuthError

    from hds_audit.collectors.gcp.environment import ReadOnlyViolation

    if isinstance(error, ReadOnlyViolation):
        return Failure("read_only", str(error))
    if isinstance(error, exceptions.GoogleAPICallError):
        code = int(error.code) if error.code is not None else 0
        text = str(error.message or error)
        if text.startswith(("GET ", "POST ")) and ": " in text:  # "GET <url>: message"
            text = text.split(": ", 1)[1]
        text = first_line(text)
        reason = error.reason
        label = f"HTTP {code}" + (f" {reason}" if reason else "")
        if reason == "SERVICE_DISABLED":
            return Failure(
                "api_disabled",
                Msg("error.gcp_disabled", code=label, message=Quote(text)),
            )
        if code in (401, 403):
            return Failure(
                "access_denied", Msg("error.access_denied", code=label, message=Quote(text))
            )
        if code == 429:
            return Failure("throttled", Msg("error.gcp_quota", code=label, message=Quote(text)))
        if code == 404:
            return Failure("not_found", Msg("error.not_found", code=label, message=Quote(text)))
        return Failure("http", f"{label}: {text}")
    if isinstance(error, GoogleAuthError):
        return Failure("credentials", first_line(str(error)))
    import requests

    if isinstance(error, requests.RequestException):
        return Failure(
            "unreachable", Msg("error.gcp_unreachable", message=Quote(first_line(str(error))))
        )
    return Failure("internal", f"{type(error).__name__}: {first_line(str(error))}")
