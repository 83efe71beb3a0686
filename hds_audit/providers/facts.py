"""Per-run facts about the host of a resource, for the ``host.*`` policy paths.

A policy judges a resource's host through these paths, resolved from the registry and the
audit date. Evidence is memoised per (path, provider, region, kind): an estate of 100,000
resources has a handful of distinct combinations, so each finding costs one dict lookup.
Unknown stays unknown: a fact the registry does not know gives ``unknown`` evidence whose
note names the source that was checked. A resource outside a scope the registry knows (a
region or service kind the certificate does not cover) fails ``host.in_scope``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Final, NamedTuple

from hds_audit.i18n import Msg, Quote, join
from hds_audit.model import Evidence, Kind, Resource
from hds_audit.providers.registry import Host, Registry, builtin_registry

#: Days before expiry from which a certificate is reported as expiring (a warning).
EXPIRY_WARNING_DAYS: Final = 90

HOST_PATHS: Final[tuple[str, ...]] = (
    "host.name",
    "host.certificate_status",
    "host.covers_storage",
    "host.in_scope",
    "host.days_to_expiry",
    "host.secnumcloud",
    "host.extra_eu_law",
)
#: ``host.certificate_status`` values. valid and expiring pass; the others fail.
CERTIFICATE_VERDICTS: Final = ("valid", "expiring", "expired", "not_yet_valid", "missing")
# Activities (R.1111-9 CSP) a certificate needs for data at rest: 2 (hardware infrastructure,
# where the data is stored; activity 1, the physical site, may sit with a certified
# sub-processor) and, for backups, 6 (backup).
_STORAGE_ACTIVITIES: Final = frozenset({2})
_BACKUP_ACTIVITIES: Final = frozenset({2, 6})


def today_utc() -> date:
    return datetime.now(UTC).date()


class HostScope(NamedTuple):
    """What a host-level verdict depends on: the host and, only where the verdict changes
    with them, the resource's region outside the certificate's known regions, its kind
    outside the known services, or a backup the certified activities do not cover.

    Resources of one scope get the same ``host.*`` evidence from the paths a policy reads,
    so a host-only policy is judged once per scope (see :func:`hds_audit.engine.evaluate`).
    """

    host: str  # registry key, or ``unregistered-<provider>``
    host_name: str
    provider: str
    region: str | None = None  # outside the certificate's known regions
    kind: str | None = None  # outside the certificate's known services
    backup: bool = False  # a backup, and activity 6 (backup) is not certified

    @property
    def subject_id(self) -> str:
        """``hds-host:aws``, ``hds-host:aws/us-east-1``: the finding's resource id."""
        parts = (self.host, self.region, self.kind, "backup" if self.backup else None)
        return "hds-host:" + "/".join(p for p in parts if p)

    @property
    def label(self) -> str:
        """The host's name and what sets the scope apart, for people."""
        scope = ", ".join(p for p in (self.region, self.kind) if p)
        if self.backup:
            key = "host.scope_backup" if scope else "host.scope_backup_only"
            return Msg(key, host=self.host_name, scope=scope)
        return f"{self.host_name} ({scope})" if scope else self.host_name


#: Paths whose evidence reads the resource's region or kind (the others read the host only).
_REGION_PATHS: Final = frozenset({"host.in_scope"})
_KIND_PATHS: Final = frozenset({"host.in_scope", "host.covers_storage"})


class HostFacts:
    """Resolves ``host.*`` paths for one run (one registry, one audit date)."""

    __slots__ = ("_audit_date", "_memo", "_registry", "_scopes")

    def scope(self, resource: Resource, paths: frozenset[str] = frozenset(HOST_PATHS)) -> HostScope:
        """The certificate scope ``resource`` falls in for a policy reading ``paths``: the
        ``host.*`` evidence of those paths is the same for every resource of the scope."""
        key = (paths, resource.provider, resource.location.region, resource.kind)
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = self._scope(resource, paths)
        return found

    def _scope(self, resource: Resource, paths: frozenset[str]) -> HostScope:
        provider = resource.provider
        host = self.registry.by_provider.get(provider)
        if host is None:
            return HostScope(f"unregistered-{provider}", provider, provider)
        region = kind = None
        backup = False
        if paths & _REGION_PATHS:
            regions = host.known("scope_regions")
            if regions is not None and resource.location.region not in regions:
                region = resource.location.region or "unknown-region"
        if paths & _KIND_PATHS:
            kinds = host.known("scope_kinds")
            if "host.in_scope" in paths and kinds is not None and resource.kind.value not in kinds:
                kind = resource.kind.value
            activities = host.known("activities")
            if "host.covers_storage" in paths and activities is not None:
                backup = resource.kind is Kind.BACKUP and not set(activities) >= _BACKUP_ACTIVITIES
        return HostScope(host.key, host.name, provider, region, kind, backup)

    def __init__(self, registry: Registry | None = None, audit_date: date | None = None) -> None:
        self._registry = registry
        self._audit_date = audit_date
        self._memo: dict[tuple[str, str, str | None, Kind], Evidence] = {}
        self._scopes: dict[tuple[frozenset[str], str, str | None, Kind], HostScope] = {}

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = builtin_registry()
        return self._registry

    @property
    def audit_date(self) -> date:
        if self._audit_date is None:
            self._audit_date = today_utc()
        return self._audit_date

    def evidence(self, path: str, resource: Resource) -> Evidence:
        key = (path, resource.provider, resource.location.region, resource.kind)
        found = self._memo.get(key)
        if found is None:
            host = self.registry.by_provider.get(resource.provider)
            found = self._memo[key] = self._resolve(path, host, resource)
        return found

    # ------------------------------------------------------------------ resolution

    def _unknown(self, path: str, host: Host, fact: str) -> Evidence:
        detail = host.fact(fact)
        what = Msg(f"host.fact_unknown.{fact}")
        if detail.note:
            note = Msg(
                "host.unknown_noted",
                host=host.name,
                fact=what,
                source=detail.source,
                note=Quote(detail.note),
            )
        else:
            note = Msg("host.unknown", host=host.name, fact=what, source=detail.source)
        return Evidence(path, None, note, unknown=True)

    def _no_host(self, path: str, resource: Resource) -> Evidence:
        note = Msg("host.no_host", provider=resource.provider, version=self.registry.version)
        if path == "host.certificate_status":
            return Evidence(path, "missing", note)
        return Evidence(path, None, note, unknown=True)

    def _resolve(self, path: str, host: Host | None, resource: Resource) -> Evidence:
        if host is None:
            return self._no_host(path, resource)
        if path == "host.name":
            return Evidence(path, host.name)
        if path == "host.certificate_status":
            return self._status(path, host)
        if path == "host.days_to_expiry":
            expires = host.expires()
            if expires is None:
                return self._unknown(path, host, "expires")
            days = (expires - self.audit_date).days
            note = Msg("host.expires", expires=expires, source=host.fact("expires").source)
            return Evidence(path, days, note)
        if path == "host.covers_storage":
            return self._covers(path, host, resource)
        if path == "host.in_scope":
            return self._in_scope(path, host, resource)
        if path == "host.secnumcloud":
            offers = host.known("secnumcloud")
            if offers is None:
                return self._unknown(path, host, "secnumcloud")
            return Evidence(path, list(offers), f"[{host.fact('secnumcloud').source}]")
        if path == "host.extra_eu_law":
            exposed = host.known("extra_eu_law")
            if exposed is None:
                return self._unknown(path, host, "extra_eu_law")
            return Evidence(path, exposed, f"[{host.fact('extra_eu_law').source}]")
        raise KeyError(path)

    def _status(self, path: str, host: Host) -> Evidence:
        fact = host.fact("certificate_status")
        if not fact.known:
            return self._unknown(path, host, "certificate_status")
        if fact.value == "not_certified":
            note = Msg("host.not_certified", host=host.name, source=fact.source)
            return Evidence(path, "missing", note)
        expires = host.expires()
        if expires is None:
            note = Msg(
                "host.expiry_unknown",
                host=host.name,
                source=fact.source,
                expires_source=host.fact("expires").source,
                audit_date=self.audit_date,
            )
            return Evidence(path, None, note, unknown=True)
        issued = host.issued()
        audit = self.audit_date
        if issued is not None and issued > audit:
            verdict = "not_yet_valid"
        elif expires < audit:
            verdict = "expired"
        elif (expires - audit).days <= EXPIRY_WARNING_DAYS:
            verdict = "expiring"
        else:
            verdict = "valid"
        source = host.fact("expires").source
        note = Msg("host.judged", expires=expires, audit_date=audit, source=source)
        return Evidence(path, verdict, note)

    def _covers(self, path: str, host: Host, resource: Resource) -> Evidence:
        activities = host.known("activities")
        if activities is None:
            return self._unknown(path, host, "activities")
        needed = _BACKUP_ACTIVITIES if resource.kind is Kind.BACKUP else _STORAGE_ACTIVITIES
        covered = needed <= set(activities)
        listed = ", ".join(str(a) for a in activities)
        source = host.fact("activities").source
        if covered:  # the same note for every resource the activities cover
            return Evidence(path, True, Msg("host.activities", listed=listed, source=source))
        wanted = ", ".join(str(a) for a in sorted(needed))
        need = "backup" if resource.kind is Kind.BACKUP else "storage"
        note = Msg(f"host.activities_missing.{need}", listed=listed, wanted=wanted, source=source)
        return Evidence(path, False, note)

    def _in_scope(self, path: str, host: Host, resource: Resource) -> Evidence:
        """In the certified scope: a region or kind outside a known scope fails with the scope
        named; a scope the registry does not know, or a resource with no region, is unknown."""
        regions = host.known("scope_regions")
        kinds = host.known("scope_kinds")
        outside: list[Msg] = []
        unknown: list[Msg] = []
        region = resource.location.region
        if regions is None:
            source = host.fact("scope_regions").source
            unknown.append(Msg("host.regions_unpublished", source=source))
        elif region is None:
            unknown.append(
                Msg(
                    "host.region_unplaced",
                    regions=", ".join(regions),
                    source=host.fact("scope_regions").source,
                )
            )
        elif region not in regions:
            outside.append(
                Msg(
                    "host.region_outside",
                    region=region,
                    regions=", ".join(regions),
                    source=host.fact("scope_regions").source,
                )
            )
        if kinds is None:
            unknown.append(Msg("host.kinds_unpublished", source=host.fact("scope_kinds").source))
        elif resource.kind.value not in kinds:
            outside.append(
                Msg(
                    "host.kind_outside",
                    kind=kind_words(resource.kind.value),
                    kinds=kinds_words(kinds),
                    source=host.fact("scope_kinds").source,
                )
            )
        if outside:
            note = Msg("host.out_of_scope", host=host.name, reasons=join([*outside, *unknown]))
            return Evidence(path, False, note)
        if unknown:
            note = Msg("host.out_of_scope", host=host.name, reasons=join(unknown))
            return Evidence(path, None, note, unknown=True)
        assert regions is not None and kinds is not None
        note = Msg(
            "host.in_scope",
            regions=", ".join(regions),
            kinds=kinds_words(kinds),
            source=host.fact("scope_regions").source,
        )
        return Evidence(path, True, note)


def kind_words(kind: str) -> Msg:
    """A kind of resource (``object_storage``) in the reader's words (``stockage objet``)."""
    return Msg(f"kind.{kind}")


def kinds_words(kinds: Iterable[str]) -> tuple[Msg, ...]:
    """Kinds of resources, a list rendered in the reader's words, comma-separated."""
    return tuple(kind_words(kind) for kind in kinds)


def certificate_verdict(host: Host | None, audit_date: date) -> tuple[str, int | None]:
    """A host's certificate on ``audit_date``: (valid | expiring | expired | not_yet_valid |
    missing | unknown, days to expiry or None) — the same rules as ``host.certificate_status``."""
    if host is None:
        return "missing", None
    status = host.fact("certificate_status")
    if not status.known:
        return "unknown", None
    if status.value == "not_certified":
        return "missing", None
    expires = host.expires()
    if expires is None:
        return "unknown", None
    days = (expires - audit_date).days
    issued = host.issued()
    if issued is not None and issued > audit_date:
        return "not_yet_valid", days
    if days < 0:
        return "expired", days
    return ("expiring" if days <= EXPIRY_WARNING_DAYS else "valid"), days
