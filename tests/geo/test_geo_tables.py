"""Integrity of the geo data files and of the loader's validation."""

from __future__ import annotations

import copy
import time
from importlib import resources
from typing import Any

import pytest
import yaml

from hds_audit.geo import PROVIDERS, GeoDataError, GeoTables

GEO = GeoTables.default()
DATA = resources.files("hds_audit.geo").joinpath("data")


def _doc(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load(DATA.joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _documents() -> dict[str, dict[str, Any]]:
    return {name: _doc(name) for name in ("countries", *PROVIDERS)}


def test_eu_has_27_members_and_eea_adds_iceland_liechtenstein_norway() -> None:
    assert len(GEO.eu_countries) == 27
    assert GEO.eea_countries - GEO.eu_countries == {"IS", "LI", "NO"}
    assert GEO.eu_countries < GEO.eea_countries
    assert {"FR", "DE", "IE", "NL", "SE", "HR", "CY", "MT"} <= GEO.eu_countries
    for outside in ("GB", "CH", "US", "IL"):
        assert outside not in GEO.eea_countries


def test_no_is_the_string_norway_not_yaml_false() -> None:
    countries = _doc("countries")
    assert "NO" in countries["eea_only"]
    assert "NO" in countries["names"]
    assert GEO.country_name("NO", "fr") == "Norvège"


def test_every_provider_table_is_loaded() -> None:
    assert GEO.providers == PROVIDERS
    for provider in PROVIDERS:
        assert GEO.known_regions(provider), provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_region_country_has_french_and_english_names(provider: str) -> None:
    for region in GEO.known_regions(provider):
        location = GEO.locate(provider, region)
        for code in {location.country, *(m.country for m in location.members)} - {None}:
            assert code is not None
            assert GEO.country_name(code, "fr") != code, (provider, region, code)
            assert GEO.country_name(code, "en") != code, (provider, region, code)


def test_aws_local_zone_countries_have_names() -> None:
    for group, row in _doc("aws")["local_zones"].items():
        assert GEO.country_name(row["country"], "en") != row["country"], group


@pytest.mark.parametrize("name", ["countries", *PROVIDERS])
def test_every_file_cites_sources(name: str) -> None:
    sources = _doc(name)["sources"]
    assert sources
    for source in sources:
        assert source.get("note"), source
        assert source.get("url") or source.get("repo") or source.get("path"), source


@pytest.mark.parametrize("provider", PROVIDERS)
def test_region_rows_carry_no_eu_flags_and_unverified_rows_have_notes(provider: str) -> None:
    doc = _doc(provider)
    rows = list(doc["regions"].values()) + list((doc.get("local_zones") or {}).values())
    rows += list((doc.get("multi_regions") or {}).values())
    for row in rows:
        assert "in_eu" not in row
        assert "in_eea" not in row
        if row.get("verified") is False:
            assert row.get("note"), row


def test_every_azure_pair_target_is_a_known_region() -> None:
    known = set(GEO.known_regions("azure"))
    with_pair = 0
    for region in known:
        target = GEO.pair("azure", region)
        if target is not None:
            with_pair += 1
            assert target in known, (region, target)
    assert with_pair >= 50


def test_azure_pairs_of_eea_regions_stay_in_the_eea() -> None:
    for region in GEO.known_regions("azure"):
        location = GEO.locate("azure", region)
        target = GEO.pair("azure", region)
        if location.in_eea and target is not None:
            assert GEO.locate("azure", target).in_eea is True, (region, target)


def test_azure_pair_table_facts() -> None:
    assert GEO.pair("azure", "francecentral") == "francesouth"
    assert GEO.pair("azure", "francesouth") == "francecentral"
    assert GEO.pair("azure", "northeurope") == "westeurope"
    assert GEO.pair("azure", "norwayeast") == "norwaywest"
    assert GEO.pair("azure", "uksouth") == "ukwest"
    # asymmetric pairs
    assert GEO.pair("azure", "brazilsouth") == "southcentralus"
    assert GEO.pair("azure", "southcentralus") == "northcentralus"
    assert GEO.pair("azure", "westus3") == "eastus"
    assert GEO.pair("azure", "eastus") == "westus"
    assert GEO.pair("azure", "westindia") == "southindia"
    assert GEO.pair("azure", "southindia") == "centralindia"
    # sovereign clouds
    assert GEO.pair("azure", "chinanorth3") == "chinaeast3"
    assert GEO.pair("azure", "usdodeast") == "usdodcentral"


def test_has_pair_entry_separates_no_pair_from_unknown() -> None:
    for unpaired in ("italynorth", "polandcentral", "spaincentral", "austriaeast", "israelcentral"):
        assert GEO.has_pair_entry("azure", unpaired) is True
        assert GEO.pair("azure", unpaired) is None
    assert GEO.has_pair_entry("azure", "usgovtexas") is False  # pair not stated by the sources
    assert GEO.has_pair_entry("azure", "atlantiscentral") is False
    assert GEO.pair("azure", "atlantiscentral") is None
    assert GEO.has_pair_entry("aws", "eu-west-3") is False
    assert GEO.has_pair_entry("azure", "France Central") is True


def test_azure_restricted_regions_and_clouds() -> None:
    restricted = {
        r
        for r in GEO.known_regions("azure")
        if (GEO.region_info("azure", r) or {}).get("restricted")
    }
    assert {"francesouth", "germanynorth", "norwaywest", "swedensouth", "switzerlandwest"} <= (
        restricted
    )
    assert "francecentral" not in restricted
    clouds = {
        r: (GEO.region_info("azure", r) or {}).get("cloud") for r in GEO.known_regions("azure")
    }
    assert set(clouds.values()) == {"public", "china", "usgov", "germany"}
    for code in (
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
    ):
        assert clouds[code] == "china"
    for code in ("usgovvirginia", "usgovtexas", "usgovarizona", "usdodeast", "usdodcentral"):
        assert clouds[code] == "usgov"
    assert clouds["germanycentral"] == clouds["germanynortheast"] == "germany"


def test_aws_partitions() -> None:
    partitions = {
        (GEO.region_info("aws", r) or {}).get("partition") for r in GEO.known_regions("aws")
    }
    assert {"aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b"} <= partitions
    assert (GEO.region_info("aws", "eusc-de-east-1") or {})["partition"] == "aws-eusc"
    assert (GEO.region_info("aws", "cn-north-1") or {})["partition"] == "aws-cn"


def test_country_names_in_both_languages() -> None:
    assert GEO.country_name("DE") == "Allemagne"
    assert GEO.country_name("de", "en") == "Germany"
    assert GEO.country_name("GB", "fr") == "Royaume-Uni"
    assert GEO.country_name("CH", "en") == "Switzerland"
    assert GEO.country_name("ZZ") == "ZZ"
    with pytest.raises(ValueError, match="unsupported language"):
        GEO.country_name("FR", "de")


def test_country_predicates() -> None:
    assert GEO.is_eu_country("fr") is True
    assert GEO.is_eu_country("NO") is False
    assert GEO.is_eea_country("NO") is True
    assert GEO.is_eea_country("CH") is False
    assert GEO.is_country_code("MC") is True
    assert GEO.is_country_code("UK") is False


def test_loading_all_files_is_fast() -> None:
    directory = str(DATA)
    best = min(_timed_load(directory) for _ in range(3))
    assert best < 0.1, f"loading the geo tables took {best * 1000:.0f} ms"


def _timed_load(directory: str) -> float:
    start = time.perf_counter()
    GeoTables.from_directory(directory)
    return time.perf_counter() - start


def test_default_is_loaded_once() -> None:
    assert GeoTables.default() is GeoTables.default()


# -- the loader rejects malformed data ---------------------------------------------------------


def test_dangling_pair_is_rejected() -> None:
    docs = _documents()
    docs["azure"]["regions"]["francecentral"]["pair"] = "francenowhere"
    with pytest.raises(GeoDataError, match="francenowhere"):
        GeoTables(docs)


def test_unknown_country_is_rejected() -> None:
    docs = _documents()
    docs["aws"]["regions"]["eu-west-3"]["country"] = False  # what an unquoted NO becomes
    with pytest.raises(GeoDataError, match="unknown country code"):
        GeoTables(docs)


def test_eu_flag_in_a_region_row_is_rejected() -> None:
    docs = _documents()
    docs["gcp"]["regions"]["europe-west9"]["in_eu"] = True
    with pytest.raises(GeoDataError, match="unexpected key"):
        GeoTables(docs)


def test_unverified_row_without_note_is_rejected() -> None:
    docs = _documents()
    row = docs["scaleway"]["regions"]["it-mil"]
    del row["note"]
    with pytest.raises(GeoDataError, match="needs a 'note'"):
        GeoTables(docs)


def test_sources_are_required() -> None:
    docs = copy.deepcopy(_documents())
    docs["outscale"]["sources"] = []
    with pytest.raises(GeoDataError, match="sources"):
        GeoTables(docs)
