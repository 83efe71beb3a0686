"""AllowedArea: the eu / eea / fr / list modes, list parsing and verdicts."""

from __future__ import annotations

import pytest

from hds_audit.geo import AllowedArea, GeoTables, Location, eea_would_allow

GEO = GeoTables.default()


def _loc(provider: str, region: str | None) -> Location:
    return GEO.locate(provider, region)


def test_modes_resolve_their_countries() -> None:
    eu = AllowedArea.parse("eu")
    assert (eu.mode, len(eu.countries), eu.regions) == ("eu", 27, frozenset())
    eea = AllowedArea.parse("EEA")
    assert eea.mode == "eea"
    assert eea.countries == eu.countries | {"IS", "LI", "NO"}
    fr = AllowedArea.parse(" fr ")
    assert (fr.mode, fr.countries) == ("fr", frozenset({"FR"}))
    assert AllowedArea.parse(["eu"]) == eu


def test_labels() -> None:
    assert AllowedArea.parse("eu").label == "eu"
    assert AllowedArea.parse("eea").label == "eea"
    assert AllowedArea.parse("fr").label == "fr"
    assert AllowedArea.parse("FR,DE").label == "list:FR,DE"
    assert AllowedArea.parse("fr, de, eu-west-3").label == "list:FR,DE,aws:eu-west-3"


def test_descriptions_in_french_and_english() -> None:
    assert AllowedArea.parse("eu").describe() == "Union européenne (UE-27)"
    assert AllowedArea.parse("eu").describe("en") == "European Union (EU-27)"
    assert AllowedArea.parse("eea").describe("fr") == (
        "Espace économique européen (EEE : UE + IS, LI, NO) — exigence HDS EXI 28"
    )
    assert AllowedArea.parse("eea").describe("en") == (
        "European Economic Area (EEA: EU + IS, LI, NO) — HDS requirement EXI 28"
    )
    assert AllowedArea.parse("fr").describe() == "France uniquement"
    assert AllowedArea.parse("fr").describe("en") == "France only"
    assert AllowedArea.parse("FR,DE").describe() == "Liste explicite : FR, DE"
    assert AllowedArea.parse("FR,DE").describe("en") == "Explicit list: FR, DE"
    with pytest.raises(ValueError, match="unsupported language"):
        AllowedArea.parse("eu").describe("de")


def test_list_mode_parsing() -> None:
    area = AllowedArea.parse("FR, de,eu-west-3, francecentral ,azurerm:West Europe,gcp:EUR4")
    assert area.mode == "list"
    assert area.countries == frozenset({"FR", "DE"})
    assert area.regions == frozenset(
        {
            ("aws", "eu-west-3"),
            ("azure", "francecentral"),
            ("azure", "westeurope"),
            ("gcp", "EUR4"),
        }
    )
    assert AllowedArea.parse(["FR", "DE"]) == AllowedArea.parse("DE,FR")
    assert AllowedArea.parse(["FR,DE", "aws:eu-west-3"]).regions == {("aws", "eu-west-3")}


def test_list_mode_expands_eu_and_eea_keywords() -> None:
    area = AllowedArea.parse("eu,CH")
    assert area.mode == "list"
    assert area.countries == GEO.eu_countries | {"CH"}
    assert area.label == "list:EU,CH"


@pytest.mark.parametrize(
    ("spec", "token"),
    [
        ("FR,XX", "'XX'"),
        ("FR,mars-north-1", "'mars-north-1'"),
        ("FR,aws:mars-north-1", "'aws:mars-north-1'"),
        ("FR,nimbus:eu-west-3", "'nimbus:eu-west-3'"),
        ("UK", "'UK'"),
        ("eu-west-2", "'eu-west-2'"),  # aws (London) and outscale (France): ambiguous
        ("FR,azure:global", "'azure:global'"),
        ("FR,azure:brazilus", "'azure:brazilus'"),  # in the tables, country unknown
        ("aws:us-east-1-wl1-bos-wlz-1", "'aws:us-east-1-wl1-bos-wlz-1'"),
    ],
)
def test_list_mode_errors_name_the_bad_token(spec: str, token: str) -> None:
    with pytest.raises(ValueError, match="allowed area") as excinfo:
        AllowedArea.parse(spec)
    message = str(excinfo.value)
    assert token in message
    assert "\n" not in message


def test_unknown_entry_message() -> None:
    with pytest.raises(ValueError) as excinfo:
        AllowedArea.parse("FR,atlantis-1")
    assert str(excinfo.value) == (
        "allowed area: unknown entry 'atlantis-1' (neither an ISO 3166-1 country code nor a "
        "region known to aws, azure, gcp, ovh, scaleway, outscale)"
    )


@pytest.mark.parametrize("spec", ["", " , ", []])
def test_empty_specification_is_an_error(spec: str | list[str]) -> None:
    with pytest.raises(ValueError, match="empty"):
        AllowedArea.parse(spec)


def test_eu_mode_verdicts() -> None:
    eu = AllowedArea.parse("eu")
    assert eu.allows(_loc("aws", "eu-west-3")) is True
    assert eu.allows(_loc("aws", "eusc-de-east-1")) is True
    assert eu.allows(_loc("aws", "eu-west-2")) is False
    assert eu.allows(_loc("aws", "eu-central-2")) is False
    assert eu.allows(_loc("azure", "norwayeast")) is False
    assert eu.allows(_loc("aws", "mars-north-1")) is None
    assert eu.allows(_loc("aws", "global")) is None
    assert eu.allows(_loc("aws", None)) is None


def test_eea_mode_accepts_norway_but_not_switzerland_or_uk() -> None:
    eea = AllowedArea.parse("eea")
    assert eea.allows(_loc("azure", "norwayeast")) is True
    assert eea.allows(_loc("ovh", "eu-north-lz-osl")) is True
    assert eea.allows(_loc("azure", "switzerlandnorth")) is False
    assert eea.allows(_loc("gcp", "europe-west2")) is False


def test_fr_mode() -> None:
    fr = AllowedArea.parse("fr")
    assert fr.allows(_loc("ovh", "GRA11")) is True
    assert fr.allows(_loc("scaleway", "fr-par-2")) is True
    assert fr.allows(_loc("aws", "eu-west-1")) is False
    assert fr.allows(_loc("gcp", "EU")) is False


def test_gcp_eur5_not_allowed_in_eu_mode_because_a_member_is_gb() -> None:
    eur5 = _loc("gcp", "EUR5")
    assert AllowedArea.parse("eu").allows(eur5) is False
    assert AllowedArea.parse("eea").allows(eur5) is False
    assert AllowedArea.parse("eu").allows(_loc("gcp", "EUR4")) is True
    assert AllowedArea.parse("eu").allows(_loc("gcp", "EU")) is True
    assert AllowedArea.parse("eu").allows(_loc("gcp", "EUR8")) is False  # Zurich member


def test_multi_region_with_an_unknown_member_is_unknown() -> None:
    known = _loc("gcp", "europe-west9")
    unknown = Location("gcp", "europe-west99", None, None, None)
    multi = Location("gcp", "CUSTOM", None, None, None, members=(known, unknown))
    assert AllowedArea.parse("eu").allows(multi) is None
    failing = Location(
        "gcp", "CUSTOM", None, None, None, members=(unknown, _loc("gcp", "us-east1"))
    )
    assert AllowedArea.parse("eu").allows(failing) is False


def test_list_mode_verdicts() -> None:
    area = AllowedArea.parse("DE,aws:eu-west-3")
    assert area.allows(_loc("aws", "eu-west-3")) is True
    assert area.allows(_loc("aws", "eu-west-3b")) is True
    assert area.allows(_loc("azure", "francecentral")) is False  # FR only through that region
    assert area.allows(_loc("azure", "germanywestcentral")) is True
    assert area.allows(_loc("aws", "eu-west-1")) is False
    assert area.allows(_loc("aws", "mars-north-1")) is None


def test_list_region_entry_does_not_vouch_for_an_unlisted_zone_of_that_region() -> None:
    area = AllowedArea.parse("aws:us-east-1")
    assert area.allows(_loc("aws", "us-east-1")) is True
    assert area.allows(_loc("aws", "us-east-1-wl1-bos-wlz-1")) is None


def test_list_multi_region_entry() -> None:
    area = AllowedArea.parse("gcp:EUR5")
    assert area.allows(_loc("gcp", "EUR5")) is True
    assert area.allows(_loc("gcp", "europe-west2")) is False


def test_eea_would_allow() -> None:
    assert eea_would_allow(_loc("azure", "norwayeast")) is True
    assert eea_would_allow(_loc("aws", "eu-west-2")) is False
    assert eea_would_allow(_loc("aws", "eu-central-2")) is False
    assert eea_would_allow(_loc("aws", "mars-north-1")) is None
    assert eea_would_allow(_loc("aws", "eu-west-3"), GEO) is True


def test_parse_with_explicit_tables() -> None:
    assert AllowedArea.parse("eu", GEO).countries == GEO.eu_countries
