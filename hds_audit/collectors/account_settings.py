"""Account settings that one source reads and another source's resources depend on.

A Terraform plan cannot tell whether a volume it leaves without an ``encrypted`` flag (an
instance's implicit root volume) will be encrypted: the account's *EBS encryption by default*
decides, and the plan rarely holds it. The live AWS collector reads that setting in every region
it scans and records it on the volumes it reads; a Terraform volume of the same account and
region, in the same run, then takes that reading instead of staying unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from hds_audit.collectors.terraform.facts import EBS_DEFAULT_UNKNOWN, EBS_SNAPSHOT
from hds_audit.i18n import Msg
from hds_audit.model import Encryption, Resource, SourceKind, read_only

_ACCOUNT_IN_ARN = re.compile(r"^arn:[\w-]+:[\w-]+:[a-z0-9-]*:(\d{12}):")


def _live_readings(resources: Iterable[Resource]) -> dict[tuple[str, str], set[bool]]:
    """(account, region) -> the EBS-encryption-by-default values the live collector read."""
    found: dict[tuple[str, str], set[bool]] = {}
    for resource in resources:
        if resource.source.kind is not SourceKind.AWS_API or not resource.region:
            continue
        value = resource.attributes.get("ebs_encryption_by_default")
        account = resource.attributes.get("account") or resource.source.account
        if isinstance(value, bool) and account:
            found.setdefault((str(account), resource.region), set()).add(value)
    return found


def _account_of(resource: Resource) -> str | None:
    for name in ("arn", "owner_id"):
        value = resource.attributes.get(name)
        if isinstance(value, str):
            match = _ACCOUNT_IN_ARN.match(value)
            if match:
                return match.group(1)
            if name == "owner_id" and value.isdigit():
                return value
    return None


def settle_ebs_defaults(resources: list[Resource]) -> list[Resource]:
    """Terraform volumes whose encryption waits on the EBS default, decided by the run's
    live reading of it (one account in that region, or the resource's own account)."""
    readings = _live_readings(resources)
    if not readings:
        return resources
    out: list[Resource] = []
    for resource in resources:
        reason = resource.unknowns.get("encryption.at_rest") if resource.unknowns else None
        if (
            reason is None
            or EBS_DEFAULT_UNKNOWN not in reason
            or not resource.source.kind.startswith("terraform")
            or not resource.region
        ):
            out.append(resource)
            continue
        account = _account_of(resource)
        here = {
            acct: values
            for (acct, region), values in readings.items()
            if region == resource.region and account in (None, acct)
        }
        if len(here) != 1:  # no reading, or several accounts: which one is meant is unknown
            out.append(resource)
            continue
        [(acct, values)] = here.items()
        if len(values) != 1:
            out.append(resource)
            continue
        out.append(_decided(resource, acct, values.pop()))
    return out


def _decided(resource: Resource, account: str, enabled: bool) -> Resource:
    where = {"account": account, "region": resource.region}
    unknowns = dict(resource.unknowns)
    notes = dict(resource.notes)
    del unknowns["encryption.at_rest"]
    if enabled:
        notes["encryption.at_rest"] = Msg("collect.ebs.live_on", **where)
        unknowns["encryption.key_owner"] = Msg("collect.ebs.live_key", **where)
        encryption = Encryption(at_rest=True)
    else:
        unknowns["encryption.at_rest"] = Msg("collect.ebs.live_off", why=EBS_SNAPSHOT, **where)
        encryption = Encryption(at_rest=None)
    return replace(
        resource, encryption=encryption, unknowns=read_only(unknowns), notes=read_only(notes)
    )
