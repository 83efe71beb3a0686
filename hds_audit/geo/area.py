"""Allowed area: where data may be stored (EU by default, EEA = HDS EXI 28, France, a list)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from hds_audit.geo.tables import GeoTables, Location

__all__ = ["AllowedArea", "Mode", "eea_would_allow"]

Mode = Literal["eu", "eea", "fr", "list"]

_MODES: Final[tuple[Mode, ...]] = ("eu", "eea", "fr")

_DESCRIPTIONS: Final[dict[str, dict[str, str]]] = {
    "eu": {"fr": "Union européenne (UE-27)", "en": "European Union (EU-27)"},
    "eea": {
        "fr": "Espace économique européen (EEE : UE + IS, LI, NO) — exigence HDS EXI 28",
        "en": "European Economic Area (EEA: EU + IS, LI, NO) — HDS requirement EXI 28",
    },
    "fr": {"fr": "France uniquement", "en": "France only"},
    "list": {"fr": "Liste explicite : ", "en": "Explicit list: "},
}


@dataclass(frozen=True, slots=True)
class AllowedArea:
    """Countries (and, in list mode, explicit regions) where data may be stored.

    ``countries`` is the resolved set of ISO codes (EU-27 for ``eu``, EU-27 + IS, LI, NO for
    ``eea``, ``{"FR"}`` for ``fr``, the listed ones for ``list``). ``regions`` holds the explicit
    region entries of list mode as ``(provider, canonical region)`` pairs, e.g.
    ``("aws", "eu-west-3")``; it is empty in the other modes. ``entries`` keeps the list-mode
    entries in the order given (``"FR"``, ``"aws:eu-west-3"``...) for the label and description.
    """

    mode: Mode
    countries: frozenset[str]
    regions: frozenset[tuple[str, str]] = frozenset()
    entries: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, spec: str | Sequence[str], tables: GeoTables | None = None) -> AllowedArea:
        """Parse ``"eu"``, ``"eea"``, ``"fr"`` or a list of country codes / regions.

        A list is a comma-separated string or a sequence: ISO 3166-1 alpha-2 codes (``FR``),
        ``eu`` / ``eea`` (expanded to their countries), ``provider:region``
        (``azure:westeurope``) or a bare region known to exactly one provider (``eu-west-3``).
        Raises ``ValueError`` naming the first bad entry.
        """
        geo = tables if tables is not None else GeoTables.default()
        raw = [spec] if isinstance(spec, str) else list(spec)
        tokens = [t.strip() for item in raw for t in str(item).split(",") if t.strip()]
        if not tokens:
            raise ValueError("allowed area: empty specification (expected eu, eea, fr or a list)")
        if len(tokens) == 1 and tokens[0].lower() in _MODES:
            mode = tokens[0].lower()
            if mode == "eu":
                return cls("eu", geo.eu_countries)
            if mode == "eea":
                return cls("eea", geo.eea_countries)
            return cls("fr", frozenset({"FR"}))

        countries: set[str] = set()
        regions: set[tuple[str, str]] = set()
        entries: list[str] = []
        for token in tokens:
            entry = _parse_token(token, geo, countries, regions)
            if entry not in entries:
                entries.append(entry)
        return cls("list", frozenset(countries), frozenset(regions), tuple(entries))

    def allows(self, location: Location) -> bool | None:
        """True / False, or ``None`` when the location's country is unknown (never a pass).

        A multi-region is allowed only if every member is. In list mode a region entry matches
        on ``(provider, region)`` when the location's place is known.
        """
        known = location.country is not None or bool(location.members)
        if known and self.regions and (location.provider, location.region) in self.regions:
            return True
        if location.members:
            verdicts = [self.allows(member) for member in location.members]
            if False in verdicts:
                return False
            if None in verdicts:
                return None
            return True
        if location.country is None:
            return None
        return location.country in self.countries

    def describe(self, lang: str = "fr") -> str:
        """Human description, French by default (``lang="en"`` for English)."""
        texts = _DESCRIPTIONS[self.mode]
        if lang not in texts:
            raise ValueError(f"unsupported language {lang!r} (expected 'fr' or 'en')")
        if self.mode == "list":
            return texts[lang] + ", ".join(self.entries)
        return texts[lang]

    @property
    def label(self) -> str:
        """Stable machine label: ``eu``, ``eea``, ``fr`` or ``list:FR,DE,aws:eu-west-3``."""
        if self.mode == "list":
            return "list:" + ",".join(self.entries)
        return self.mode


def _parse_token(
    token: str, geo: GeoTables, countries: set[str], regions: set[tuple[str, str]]
) -> str:
    """Add one list entry to ``countries`` / ``regions``; return its display form."""
    lowered = token.lower()
    if lowered in ("eu", "eea"):
        countries.update(geo.eu_countries if lowered == "eu" else geo.eea_countries)
        return lowered.upper()
    if len(token) == 2 and token.isalpha():
        if not geo.is_country_code(token):
            raise ValueError(
                f"allowed area: {token!r} is not an ISO 3166-1 alpha-2 country code"
                + (" (the United Kingdom is GB)" if lowered == "uk" else "")
            )
        countries.add(token.upper())
        return token.upper()
    if ":" in token:
        provider_raw, _, region_raw = token.partition(":")
        provider = geo.canonical_provider(provider_raw)
        if provider is None:
            raise ValueError(
                f"allowed area: unknown provider in {token!r} (known: {', '.join(geo.providers)})"
            )
        found = [(provider, geo.canonical_region(provider, region_raw.strip()))]
    else:
        found = [(p, geo.canonical_region(p, token)) for p in geo.providers]
    matches = sorted({(p, r) for p, r in found if r is not None})
    if not matches:
        raise ValueError(
            f"allowed area: unknown entry {token!r} (neither an ISO 3166-1 country code nor a "
            f"region known to {', '.join(geo.providers)})"
        )
    if len(matches) > 1:
        names = ", ".join(f"{p}:{r}" for p, r in matches)
        raise ValueError(f"allowed area: {token!r} is ambiguous ({names}); write provider:region")
    provider, region = matches[0]
    location = geo.locate(provider, region)
    if location.non_regional:
        raise ValueError(f"allowed area: {token!r} is not a region (non-regional location)")
    if location.country is None and not location.members:
        raise ValueError(f"allowed area: {token!r} has no known country, it cannot be allowed")
    regions.add((provider, region))
    return f"{provider}:{region}"


@functools.cache
def _eea_area(tables: GeoTables) -> AllowedArea:
    return AllowedArea.parse("eea", tables)


def eea_would_allow(location: Location, tables: GeoTables | None = None) -> bool | None:
    """Would HDS's EEA rule (EXI 28) accept this location? ``None`` when unknown.

    Used in ``eu`` mode to note resources that fail the EU promise but pass the EEA rule
    (e.g. Norway).
    """
    return _eea_area(tables if tables is not None else GeoTables.default()).allows(location)
