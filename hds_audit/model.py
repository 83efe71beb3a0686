"""The normalised model every collector produces and every policy judges.

One model for every source: a Terraform ``aws_db_instance.storage_encrypted``, boto3's
``StorageEncrypted`` and an Azure SQL TDE protector all land on :class:`Encryption`.
Instances are frozen and slotted: a benchmark state holds 100,000 of them.
"""

from __future__ import annotations

import copyreg
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from hds_audit.geo import Location

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})


def empty_mapping() -> Mapping[str, Any]:
    """Default for mapping fields: one shared read-only empty mapping, not a dict each."""
    return EMPTY_MAPPING


def read_only(items: dict[str, Any]) -> Mapping[str, Any]:
    """A read-only mapping of ``items`` (the shared empty one when there are none)."""
    return MappingProxyType(items) if items else EMPTY_MAPPING


# Resources travel between processes (Dask workers return them): read-only mappings are
# pickled as their items and rebuilt read-only.
def _reduce_read_only(mapping: MappingProxyType[str, Any]) -> tuple[Any, tuple[dict[str, Any]]]:
    return read_only, (dict(mapping),)


copyreg.pickle(MappingProxyType, _reduce_read_only)


class Status(StrEnum):
    """Verdict of one policy on one resource. ``unknown`` is never a pass."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    ERROR = "error"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"


class Severity(StrEnum):
    """Severity of a policy, ordered by :attr:`rank` (critical highest)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info."""
        return _SEVERITY_RANK[self._value_]


_SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


class Kind(StrEnum):
    """Provider-neutral kind of resource."""

    OBJECT_STORAGE = "object_storage"
    BLOCK_STORAGE = "block_storage"
    DATABASE = "database"
    FILE_STORAGE = "file_storage"
    KEY = "key"
    BACKUP = "backup"
    LOG = "log"
    COMPUTE = "compute"
    NETWORK = "network"
    IDENTITY = "identity"
    OTHER = "other"


DATA_KINDS = frozenset(
    {
        Kind.OBJECT_STORAGE,
        Kind.BLOCK_STORAGE,
        Kind.DATABASE,
        Kind.FILE_STORAGE,
        Kind.BACKUP,
        Kind.LOG,
    }
)


class KeyOwner(StrEnum):
    """Who holds the key that encrypts data at rest."""

    CUSTOMER = "customer"
    PROVIDER = "provider"


class SourceKind(StrEnum):
    """Where a resource was read from."""

    TERRAFORM_STATE = "terraform-state"
    TERRAFORM_PLAN = "terraform-plan"
    AWS_API = "aws-api"
    AZURE_API = "azure-api"
    GCP_API = "gcp-api"
    OVH_API = "ovh-api"
    OUTSCALE_API = "outscale-api"
    SCALEWAY_API = "scaleway-api"
    # Host-level verdicts (HDS certificates): judged from the certified-host registry.
    REGISTRY = "registry"


@dataclass(frozen=True, slots=True)
class Source:
    """One input of a run: a file, or an account and region. Shared by its resources."""

    kind: SourceKind
    file: str | None = None
    account: str | None = None
    region: str | None = None

    def label(self) -> str:
        """Short human label: the file, or ``account/region``."""
        if self.file:
            return self.file
        return "/".join(part for part in (self.account, self.region) if part) or self.kind.value


@dataclass(frozen=True, slots=True)
class Encryption:
    """Encryption at rest. ``None`` fields are unknown, never assumed."""

    at_rest: bool | None
    key_owner: KeyOwner | None = None
    key_id: str | None = None


#: Every kind of copy a collector records (``Replica.kind``); each has its words in the HTML
#: report's catalogues (``reports/i18n/{en,fr}.yaml``, ``replica.*``), and a collector that
#: records another kind fails the assertion in ``add_replica``.
REPLICA_KINDS: Final = frozenset(
    {
        "replication",
        "read_replica",
        "backup_replication",
        "global_database",
        "global_table",
        "key_replica",
        "backup_copy",
        "geo_pair",
        "object_replication",
        "geo_backup",
        "geo_replica",
        "backup",
        "snapshot",
        "snapshot_copy",
        "dataset_copy",
        "failover_group",
        "geo_replication",
        "geo_location",
        "service_dr_pair",
        "dual_region",
        "storage_location",
        "allowed_region",
        "cluster",
        "spanner_replica",
        "node",
    }
)


@dataclass(frozen=True, slots=True)
class Replica:
    """A place a copy of the data goes: replication, read replica, geo pair, backup copy."""

    kind: str
    location: Location
    target: str | None = None


def stores_data_of(kind: Kind, holds_data: bool | None) -> bool:
    """:attr:`Resource.stores_data` of a resource of ``kind`` and ``holds_data``."""
    return kind in DATA_KINDS if holds_data is None else holds_data


@dataclass(frozen=True, slots=True)
class Resource:
    """A normalised resource.

    ``replicas`` is ``None`` when the copies could not be established; an empty tuple means
    the audited sources show none. ``unknowns`` maps a field path (``encryption.at_rest``) to
    the reason it is unknown (``known after apply``), so a finding can say why; ``notes`` does
    the same for a known value that no attribute stated.
    """

    id: str
    provider: str
    type: str
    kind: Kind
    location: Location
    source: Source
    encryption: Encryption | None = None
    replicas: tuple[Replica, ...] | None = ()
    name: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=empty_mapping)
    unknowns: Mapping[str, str] = field(default_factory=empty_mapping)
    holds_data: bool | None = None
    #: Why a known value holds when the source did not say it (a provider default, with the
    #: documentation that states it; an account setting): field path -> note for the evidence.
    notes: Mapping[str, str] = field(default_factory=empty_mapping)

    @property
    def stores_data(self) -> bool:
        """True where the resource holds data at rest: its kind's default unless the
        collector knows better (an AWS Backup *plan* is of kind backup but holds nothing)."""
        return stores_data_of(self.kind, self.holds_data)

    @property
    def region(self) -> str | None:
        return self.location.region

    @property
    def country(self) -> str | None:
        return self.location.country

    @property
    def in_eu(self) -> bool | None:
        return self.location.in_eu

    @property
    def in_eea(self) -> bool | None:
        return self.location.in_eea


@dataclass(frozen=True, slots=True)
class PolicyMeta:
    """What a report needs to know about a policy (the engine adds its compiled rule)."""

    id: str
    name: str
    category: str
    severity: Severity
    rationale: str
    remediation: str
    remediation_terraform: str = ""
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=empty_mapping)
    file: str = ""
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=empty_mapping)

    def text(self, field: str, lang: str) -> str:
        """``name``, ``rationale`` or ``remediation`` in ``lang``, else in English."""
        translated = self.translations.get(lang, EMPTY_MAPPING).get(field)
        return translated if translated is not None else str(getattr(self, field))


class Evidence(NamedTuple):
    """One value a policy looked at: its path on the normalised resource and what it was.

    ``unknown`` marks a value that could not be established (``note`` says why);
    ``missing`` a raw attribute that is absent. Tuples: a benchmark makes 400,000 of them.
    """

    path: str
    value: Any
    note: str | None = None
    unknown: bool = False
    missing: bool = False


#: ``Resource.type`` of the subject of a host-level finding (see :attr:`Finding.covers`).
HOST_SCOPE_TYPE = "hds_host_scope"


@functools.cache
def project_of(source: Source) -> str:
    """The project a record belongs to: its file's directory, or the source kind and account.

    A plan and a state in one directory are one project; ``aws-api:111122223333`` is one
    account (an ARN already names its region). Two projects may hold the same address.
    """
    if source.file:
        return _directory_of(source.file)
    return f"{source.kind.value}:{source.account or ''}"


@functools.lru_cache(maxsize=4096)
def _directory_of(file: str) -> str:
    """The directory of a source file (asked once per record: files are few, records many)."""
    return str(PurePosixPath(file.replace("\\", "/")).parent)


class Covered(NamedTuple):
    """A resource a host-level finding covers: its id within its project."""

    id: str
    project: str


class Finding(NamedTuple):
    """The verdict of one policy on one resource, with the evidence it looked at.

    A host-level finding (an HDS certificate judged once per host and certificate scope) has
    a synthetic subject of type :data:`HOST_SCOPE_TYPE` as its ``resource`` and lists, in
    ``covers``, the resources it covers (each distinct resource once: an id within its
    project); ``covers`` is ``None`` on every other finding.
    """

    policy: PolicyMeta
    resource: Resource
    status: Status
    evidence: tuple[Evidence, ...] = ()
    reason: str | None = None
    covers: tuple[Covered, ...] | None = None

    @property
    def host_level(self) -> bool:
        """Whether the finding is about a host scope rather than one resource."""
        return self.covers is not None

    @property
    def policy_id(self) -> str:
        return self.policy.id

    @property
    def category(self) -> str:
        return self.policy.category

    @property
    def severity(self) -> Severity:
        return self.policy.severity

    @property
    def resource_id(self) -> str:
        return self.resource.id


@dataclass(frozen=True, slots=True)
class CollectionError:
    """Something a collector could not read; its scope's findings become ``unknown``."""

    source: str
    scope: str
    message: str
    kind: str = "input"
    details: Mapping[str, Any] = field(default_factory=empty_mapping)


@dataclass(slots=True)
class CollectedSource:
    """One input as the report lists it."""

    path: str
    kind: str
    resources: int
    terraform_version: str | None = None
    notes: list[str] = field(default_factory=list)
    # A file: the size and sha256 of the bytes read (the state pulled, for a backend).
    size: int | None = None
    sha256: str | None = None
    # A live source: the identity that read it (ARN, object id; never a secret), the regions.
    identity: str | None = None
    regions: list[str] | None = None
