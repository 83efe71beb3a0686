"""The policy engine: load and validate YAML policies, evaluate them purely."""

from hds_audit.engine.evaluate import evaluate, unknown_for_errors
from hds_audit.engine.policies import (
    Policy,
    builtin_policies,
    load_policies,
    load_policy_text,
    policy_set_digest,
)

__all__ = [
    "Policy",
    "builtin_policies",
    "evaluate",
    "load_policies",
    "load_policy_text",
    "policy_set_digest",
    "unknown_for_errors",
]
