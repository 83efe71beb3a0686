"""Region -> country -> EU/EEA lookups over the YAML tables in ``hds_audit/geo/data``.

The tables are data, not code: each provider file lists its regions with a country code, and the
EU / EEA flags are derived here from ``countries.yaml`` (one source of truth). An unknown
provider or region gives a :class:`Location` whose country and flags are ``None``: never a guess.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml

__all__ = ["PROVIDERS", "GeoDataError", "GeoTables", "Location"]

#: Provider files shipped in ``data/``, in display order.
PROVIDERS: Final[tuple[str, ...]] = ("aws", "azure", "gcp", "ovh", "scaleway", "outscale")

_LANGS: Final = ("fr", "en")
_MEMO_MAX: Final = 65_536

_TOP_KEYS: Final = frozenset(
    {
        "provider",
        "provider_aliases",
        "sources",
        "zone_rules",
        "ignore_spaces",
        "regions",
        "aliases",
        "non_regional",
        "s3_location_constraints",
        "az_id_prefixes",
        "local_zones",
        "multi_regions",
        "prefixes",
    }
)
_REGION_KEYS: Final = frozenset(
    {
        "country",
        "name",
        "city",
        "cloud",
        "restricted",
        "pair",
        "note",
        "verified",
        "partition",
        "zones",
    }
)
_NON_REGIONAL_KEYS: Final = frozenset({"note", "partition", "name"})
_LOCAL_ZONE_KEYS: Final = frozenset({"parent", "city", "country", "verified", "note"})
_MULTI_KEYS: Final = frozenset({"name", "members", "verified", "note"})
_ZONE_RULES: Final = frozenset(
    {"trailing_letter", "dash_letter", "dash_digits", "trailing_digits", "az_id", "local_zone"}
)


class GeoDataError(ValueError):
    """A geo data file is malformed (unknown key, dangling reference, unknown country...)."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a resource (or one copy of it) is, as far as the tables know.

    ``region`` is the canonical region code, or the raw string when the region is unknown.
    ``country`` / ``in_eu`` / ``in_eea`` are ``None`` when unknown. ``members`` lists the
    locations of a multi- or dual-region (GCP ``EU``, ``EUR5``...); its country is ``None`` when
    the members disagree. ``verified`` is false when the table row behind it is marked unverified.
    """

    provider: str
    region: str | None
    country: str | None
    in_eu: bool | None
    in_eea: bool | None
    name: str | None = None
    non_regional: bool = False
    members: tuple[Location, ...] = ()
    verified: bool = True


@dataclass(frozen=True, slots=True)
class _Place:
    """A resolved table entry before the EU/EEA flags are attached."""

    region: str
    country: str | None
    name: str | None
    verified: bool
    non_regional: bool = False
    members: tuple[str, ...] = ()


def _fail(source: str, message: str) -> GeoDataError:
    return GeoDataError(f"{source}: {message}")


def _mapping(value: object, source: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _fail(source, f"{what} must be a mapping with string keys")
    return value


def _check_keys(row: Mapping[str, Any], allowed: frozenset[str], source: str, what: str) -> None:
    extra = set(row) - allowed
    if extra:
        raise _fail(source, f"{what}: unexpected key(s) {sorted(extra)}")
    if row.get("verified", True) is False and not row.get("note"):
        raise _fail(source, f"{what}: 'verified: false' needs a 'note'")


class _ProviderTable:
    """One provider's regions, aliases and normalisation rules, indexed for dict lookups."""

    __slots__ = (
        "az_ids",
        "ignore_spaces",
        "index",
        "local_zones",
        "multi",
        "name",
        "non_regional",
        "pairs",
        "prefixes",
        "rows",
        "rule_funcs",
        "rules",
        "s3_constraints",
    )

    def __init__(self, raw: Mapping[str, Any], source: str, country_codes: frozenset[str]) -> None:
        _check_keys(raw, _TOP_KEYS, source, "top level")
        name = raw.get("provider")
        if not isinstance(name, str):
            raise _fail(source, "missing 'provider'")
        self.name: str = name
        sources = raw.get("sources")
        if not isinstance(sources, list) or not sources:
            raise _fail(source, "a non-empty 'sources' list is required")
        self.ignore_spaces: bool = bool(raw.get("ignore_spaces", False))
        rules = raw.get("zone_rules") or []
        unknown_rules = set(rules) - _ZONE_RULES
        if unknown_rules:
            raise _fail(source, f"unknown zone_rules {sorted(unknown_rules)}")
        self.rules: tuple[str, ...] = tuple(rules)
        self.rule_funcs: tuple[Callable[[str], _Place | None], ...] = tuple(
            getattr(self, "_rule_" + rule) for rule in self.rules
        )

        def country_of(value: object, what: str) -> str | None:
            if value is None:
                return None
            if not isinstance(value, str) or value not in country_codes:
                raise _fail(source, f"{what}: unknown country code {value!r}")
            return value

        self.rows: dict[str, Mapping[str, Any]] = {}
        self.index: dict[str, _Place] = {}
        self.pairs: dict[str, str | None] = {}
        for code, row_raw in _mapping(raw.get("regions"), source, "regions").items():
            row = _mapping(row_raw, source, f"region {code}")
            _check_keys(row, _REGION_KEYS, source, f"region {code}")
            place = _Place(
                region=code,
                country=country_of(row.get("country"), f"region {code}"),
                name=row.get("name"),
                verified=row.get("verified", True) is not False,
            )
            self.rows[code] = MappingProxyType(dict(row))
            self.index[self._key(code)] = place
            if "pair" in row:
                self.pairs[code] = row["pair"]
        for code, pair in self.pairs.items():
            if pair is not None and pair not in self.rows:
                raise _fail(source, f"region {code}: pair {pair!r} is not a known region")

        self.multi: dict[str, Mapping[str, Any]] = {}
        for code, mr_raw in _mapping(raw.get("multi_regions"), source, "multi_regions").items():
            mr = _mapping(mr_raw, source, f"multi-region {code}")
            _check_keys(mr, _MULTI_KEYS, source, f"multi-region {code}")
            members = tuple(mr.get("members") or ())
            if len(members) < 2 or any(m not in self.rows for m in members):
                raise _fail(source, f"multi-region {code}: members must be >= 2 known regions")
            self.multi[code] = MappingProxyType(dict(mr))
            self.index[self._key(code)] = _Place(
                region=code,
                country=None,
                name=mr.get("name"),
                verified=mr.get("verified", True) is not False,
                members=members,
            )

        def target(code: object, what: str) -> _Place:
            place = self.index.get(self._key(str(code)))
            if place is None:
                raise _fail(source, f"{what}: {code!r} is not a known region")
            return place

        for alias, code in _mapping(raw.get("aliases"), source, "aliases").items():
            self.index.setdefault(self._key(alias), target(code, f"alias {alias}"))
        for code, stored in self.rows.items():
            for zone in stored.get("zones") or ():
                self.index.setdefault(self._key(zone), self.index[self._key(code)])

        self.non_regional: dict[str, _Place] = {}
        for code, nr_raw in _mapping(raw.get("non_regional"), source, "non_regional").items():
            nr = _mapping(nr_raw, source, f"non-regional {code}")
            _check_keys(nr, _NON_REGIONAL_KEYS, source, f"non-regional {code}")
            self.non_regional[self._key(code)] = _Place(
                region=code,
                country=None,
                name=nr.get("name") or "global (non-regional)",
                verified=True,
                non_regional=True,
            )
            self.rows[code] = MappingProxyType(dict(nr, non_regional=True))

        self.s3_constraints: dict[str, str] = {}
        for constraint, code in _mapping(
            raw.get("s3_location_constraints"), source, "s3_location_constraints"
        ).items():
            self.s3_constraints[constraint.upper()] = target(code, f"s3 {constraint!r}").region

        self.prefixes: dict[str, str] = {
            prefix.lower(): target(code, f"prefix {prefix}").region
            for prefix, code in _mapping(raw.get("prefixes"), source, "prefixes").items()
        }
        self.az_ids: dict[str, str] = {
            prefix.lower(): target(code, f"az id prefix {prefix}").region
            for prefix, code in _mapping(
                raw.get("az_id_prefixes"), source, "az_id_prefixes"
            ).items()
        }
        self.local_zones: dict[str, _Place] = {}
        for group, lz_raw in _mapping(raw.get("local_zones"), source, "local_zones").items():
            lz = _mapping(lz_raw, source, f"local zone {group}")
            _check_keys(lz, _LOCAL_ZONE_KEYS, source, f"local zone {group}")
            parent = target(lz.get("parent"), f"local zone {group}")
            if not group.startswith(parent.region + "-"):
                raise _fail(source, f"local zone {group}: does not start with its parent region")
            self.local_zones[group] = _Place(
                region=parent.region,
                country=country_of(lz.get("country"), f"local zone {group}"),
                name=f"{parent.name or parent.region} – Local Zone {lz.get('city') or group}",
                verified=lz.get("verified", True) is not False,
            )

    def _key(self, value: str) -> str:
        key = value.strip().lower()
        return key.replace(" ", "") if self.ignore_spaces else key

    def resolve(self, value: str) -> _Place | None:
        """Canonical entry for a region/zone/alias string, or ``None`` when unknown."""
        key = self._key(value)
        place = self.index.get(key) or self.non_regional.get(key)
        if place is not None:
            return place
        for rule in self.rule_funcs:
            place = rule(key)
            if place is not None:
                return place
        return None

    # -- zone rules: each takes a normalised key and returns a place or None -------------------

    def _rule_trailing_letter(self, key: str) -> _Place | None:
        """``eu-west-3a`` -> ``eu-west-3`` (AWS / Outscale availability zone)."""
        if len(key) > 1 and key[-1].isalpha() and key[-2].isdigit():
            return self.index.get(key[:-1])
        return None

    def _rule_dash_letter(self, key: str) -> _Place | None:
        """``europe-west9-a`` / ``eu-west-par-a`` -> region (GCP zone, OVH 3-AZ / Local Zone)."""
        if len(key) > 2 and key[-2] == "-" and key[-1].isalpha():
            base = key[:-2]
            place = self.index.get(base)
            if place is None and "trailing_digits" in self.rules:
                place = self._rule_trailing_digits(base)
            return place
        return None

    def _rule_dash_digits(self, key: str) -> _Place | None:
        """``fr-par-2`` -> ``fr-par`` (Scaleway zone)."""
        base, sep, tail = key.rpartition("-")
        if sep and tail.isdigit():
            return self.index.get(base)
        return None

    def _rule_trailing_digits(self, key: str) -> _Place | None:
        """``gra11`` -> prefix ``gra``; ``us-east-va-1`` -> ``us-east-va`` (OVH legacy names)."""
        base = key.rstrip("0123456789")
        if base == key or not base:
            return None
        base = base.removesuffix("-")
        code = self.prefixes.get(base)
        if code is not None:
            return self.index.get(code)
        return self.index.get(base)

    def _rule_az_id(self, key: str) -> _Place | None:
        """``euw3-az1`` -> region; ``use1-bos1-az1`` -> Local Zone (AWS availability-zone ID)."""
        parts = key.split("-")
        tail = parts[-1]
        code = self.az_ids.get(parts[0])
        if code is None or len(parts) < 2 or not (tail.startswith("az") and tail[2:].isdigit()):
            return None
        if len(parts) == 2:
            return self.index.get(code)
        # Local Zone AZ ID: "use1-bos1-az1" -> zone group "us-east-1-bos-1".
        middle = "-".join(parts[1:-1])
        letters = middle.rstrip("0123456789")
        digits = middle[len(letters) :]
        group = f"{code}-{letters}-{digits}" if digits else f"{code}-{letters}"
        return self._rule_local_zone(group)

    def _rule_local_zone(self, key: str) -> _Place | None:
        """``us-east-1-bos-1a`` -> its Local Zone row (region = parent, country = the zone's).

        A zone of a known region missing from ``local_zones`` keeps its own name as region and
        gets no country: Local/Wavelength Zones can be in another country than their parent.
        """
        parts = key.split("-")
        for i in range(len(parts) - 1, 1, -1):
            prefix = "-".join(parts[:i])
            parent = self.index.get(prefix)
            if parent is None or parent.members or parent.region != prefix:
                continue
            group = key[:-1] if key[-1].isalpha() and key[-2].isdigit() else key
            known = self.local_zones.get(group) or self.local_zones.get(key)
            if known is not None:
                return known
            return _Place(
                region=key,
                country=None,
                name=f"zone of {parent.region} ({parent.name or parent.region}), location unknown",
                verified=False,
            )
        return None


def _load_yaml(text: str, source: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)
    return _mapping(data, source, "document")


class GeoTables:
    """Region -> country -> EU/EEA tables for every provider, with memoised lookups."""

    __slots__ = ("_codes", "_eea", "_eu", "_iso", "_memo", "_names", "_provider_alias", "_tables")

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        """Build from parsed documents: ``countries`` plus one per provider (keyed by name)."""
        countries = _mapping(documents.get("countries"), "countries.yaml", "document")
        iso = countries.get("iso_codes")
        self._iso: frozenset[str] = frozenset(iso.split()) if isinstance(iso, str) else frozenset()
        names = _mapping(countries.get("names"), "countries.yaml", "names")
        for code, pair in names.items():
            if (
                code not in self._iso
                or not isinstance(pair, dict)
                or any(not isinstance(pair.get(lang), str) for lang in _LANGS)
            ):
                raise _fail("countries.yaml", f"bad names entry for {code!r}")
        self._names: dict[str, Mapping[str, str]] = names
        codes = frozenset(names)
        eu = frozenset(countries.get("eu") or ())
        eea_only = frozenset(countries.get("eea_only") or ())
        if not eu <= codes or not eea_only <= codes or eu & eea_only:
            raise _fail("countries.yaml", "eu / eea_only must be disjoint lists of named codes")
        self._eu: frozenset[str] = eu
        self._eea: frozenset[str] = eu | eea_only

        self._tables: dict[str, _ProviderTable] = {}
        self._provider_alias: dict[str, str] = {}
        for key, doc in documents.items():
            if key == "countries":
                continue
            table = _ProviderTable(doc, f"{key}.yaml", codes)
            self._tables[table.name] = table
            self._provider_alias[table.name] = table.name
            for alias in doc.get("provider_aliases") or ():
                self._provider_alias[str(alias).lower()] = table.name
        self._memo: dict[tuple[str, str | None], Location] = {}
        self._codes: dict[tuple[str, str], tuple[_ProviderTable | None, str | None]] = {}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls) -> GeoTables:
        """The tables shipped with the package, loaded once per process."""
        return _default_tables()

    @classmethod
    def from_directory(cls, directory: str | Path) -> GeoTables:
        """Load ``countries.yaml`` and every provider file found in ``directory``."""
        root = Path(directory)
        documents: dict[str, Mapping[str, Any]] = {}
        for name in ("countries", *PROVIDERS):
            path = root / f"{name}.yaml"
            if path.exists():
                documents[name] = _load_yaml(path.read_text(encoding="utf-8"), path.name)
        return cls(documents)

    # -- lookups ------------------------------------------------------------------------------

    @property
    def providers(self) -> tuple[str, ...]:
        """Canonical provider names that have a table."""
        return tuple(self._tables)

    @property
    def eu_countries(self) -> frozenset[str]:
        """ISO codes of the 27 EU member states."""
        return self._eu

    @property
    def eea_countries(self) -> frozenset[str]:
        """ISO codes of the EEA (EU-27 + IS, LI, NO)."""
        return self._eea

    @property
    def country_codes(self) -> frozenset[str]:
        """Every ISO 3166-1 alpha-2 code."""
        return self._iso

    def canonical_provider(self, provider: str | None) -> str | None:
        """``azurerm`` -> ``azure``, ``google`` -> ``gcp``; ``None`` when unknown."""
        if not provider:
            return None
        return self._provider_alias.get(provider.strip().lower())

    def canonical_region(self, provider: str, region: str | None) -> str | None:
        """Canonical region code for a region/zone/alias string, ``None`` when unknown."""
        table = self._tables.get(self.canonical_provider(provider) or "")
        if table is None or not region:
            return None
        place = table.resolve(region)
        return place.region if place is not None else None

    def locate(self, provider: str, region: str | None) -> Location:
        """Normalise ``region`` for ``provider`` and return where it is (memoised)."""
        key = (provider, region)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        location = self._locate(provider, region)
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[key] = location
        return location

    def s3_bucket_location(self, location_constraint: str | None) -> Location:
        """Location of an S3 bucket from ``GetBucketLocation``'s ``LocationConstraint``.

        Only for that API: ``None`` / ``""`` mean us-east-1 and ``"EU"`` means eu-west-1.
        """
        table = self._tables.get("aws")
        constraint = (location_constraint or "").strip()
        if table is not None:
            constraint = table.s3_constraints.get(constraint.upper(), constraint)
        return self.locate("aws", constraint or None)

    def pair(self, provider: str, region: str) -> str | None:
        """Paired region (Azure), ``None`` when there is no pair or it is not known."""
        table, code = self._table_and_code(provider, region)
        if table is None or code is None:
            return None
        return table.pairs.get(code)

    def has_pair_entry(self, provider: str, region: str) -> bool:
        """True when the tables state the pair, including "known to have no pair"."""
        table, code = self._table_and_code(provider, region)
        return table is not None and code is not None and code in table.pairs

    def region_info(self, provider: str, region: str) -> Mapping[str, Any] | None:
        """The raw table row (partition, cloud, restricted, note...) of a region, read-only."""
        table, code = self._table_and_code(provider, region)
        if table is None or code is None:
            return None
        return table.rows.get(code) or table.multi.get(code)

    def known_regions(self, provider: str) -> list[str]:
        """Canonical region codes (and multi-regions) of a provider, sorted; [] if unknown."""
        table = self._tables.get(self.canonical_provider(provider) or "")
        if table is None:
            return []
        return sorted({p.region for p in table.index.values()})

    def country_name(self, code: str, lang: str = "fr") -> str:
        """Country name in French (default) or English; the code itself when unknown."""
        if lang not in _LANGS:
            raise ValueError(f"unsupported language {lang!r} (expected one of {_LANGS})")
        names = self._names.get(code.strip().upper())
        return names[lang] if names is not None else code

    def is_eu_country(self, code: str) -> bool:
        """True for the 27 EU member states."""
        return code.strip().upper() in self._eu

    def is_eea_country(self, code: str) -> bool:
        """True for the EEA: EU-27 + Iceland, Liechtenstein, Norway."""
        return code.strip().upper() in self._eea

    def is_country_code(self, code: str) -> bool:
        """True for an ISO 3166-1 alpha-2 code (case-insensitive)."""
        return code.strip().upper() in self._iso

    # -- internals ----------------------------------------------------------------------------

    def _table_and_code(
        self, provider: str, region: str
    ) -> tuple[_ProviderTable | None, str | None]:
        """The provider's table and the canonical code of ``region`` (memoised: a state
        asks for the same few regions' pairs once per resource)."""
        key = (provider, region)
        found = self._codes.get(key)
        if found is None:
            table = self._tables.get(self.canonical_provider(provider) or "")
            if table is None or not region:
                found = (None, None)
            else:
                place = table.resolve(region)
                found = (table, place.region if place is not None else None)
            if len(self._codes) >= _MEMO_MAX:
                self._codes.clear()
            self._codes[key] = found
        return found

    def _flags(self, country: str | None) -> tuple[bool | None, bool | None]:
        if country is None:
            return None, None
        return country in self._eu, country in self._eea

    def _locate(self, provider: str, region: str | None) -> Location:
        name = self.canonical_provider(provider)
        table = self._tables.get(name or "")
        if table is None or name is None:
            return Location((provider or "").strip().lower(), region or None, None, None, None)
        if region is None or not region.strip():
            return Location(name, None, None, None, None)
        place = table.resolve(region)
        if place is None:
            return Location(name, region, None, None, None)
        if place.non_regional:
            return Location(name, place.region, None, None, None, place.name, non_regional=True)
        if place.members:
            return self._multi(name, place)
        in_eu, in_eea = self._flags(place.country)
        return Location(
            name, place.region, place.country, in_eu, in_eea, place.name, verified=place.verified
        )

    def _multi(self, provider: str, place: _Place) -> Location:
        members = tuple(self.locate(provider, code) for code in place.members)
        countries = {m.country for m in members}
        country = countries.pop() if len(countries) == 1 else None
        return Location(
            provider,
            place.region,
            country,
            _all_of(m.in_eu for m in members),
            _all_of(m.in_eea for m in members),
            place.name,
            members=members,
            verified=place.verified and all(m.verified for m in members),
        )


def _all_of(flags: Iterable[bool | None]) -> bool | None:
    """False if any flag is False, else None if any is unknown, else True."""
    values = list(flags)
    if False in values:
        return False
    if None in values:
        return None
    return True


@functools.cache
def _default_tables() -> GeoTables:
    data = resources.files("hds_audit.geo").joinpath("data")
    documents: dict[str, Mapping[str, Any]] = {}
    for name in ("countries", *PROVIDERS):
        text = data.joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        documents[name] = _load_yaml(text, f"{name}.yaml")
    return GeoTables(documents)
