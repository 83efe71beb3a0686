"""Live AWS accounts: every enabled region, every account of an organisation, read-only.

The calls are data (``data/services.yaml``, see :mod:`.table`); :mod:`.normalise` turns the
responses into the same normalised resources the Terraform collector produces.
"""

from __future__ import annotations

from hds_audit.collectors.aws.collector import AwsCollector
from hds_audit.collectors.aws.progress import LiveProgress, LogProgress, NoProgress, Progress
from hds_audit.collectors.aws.session import (
    AwsSettings,
    CallRecord,
    ReadOnlyViolation,
    SessionFactory,
    default_session_factory,
)
from hds_audit.collectors.aws.table import iam_policy, iam_policy_json, service_table

__all__ = [
    "AwsCollector",
    "AwsSettings",
    "CallRecord",
    "LiveProgress",
    "LogProgress",
    "NoProgress",
    "Progress",
    "ReadOnlyViolation",
    "SessionFactory",
    "default_session_factory",
    "iam_policy",
    "iam_policy_json",
    "service_table",
]
