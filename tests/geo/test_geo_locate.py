"""GeoTables.locate: normalisation and the tricky region -> country cases."""

from __future__ import annotations

import time

import pytest

from hds_audit.geo import GeoTables, Location

GEO = GeoTables.default()


def _where(
    provider: str, region: str | None
) -> tuple[str | None, str | None, bool | None, bool | None]:
    loc = GEO.locate(provider, region)
    return loc.region, loc.country, loc.in_eu, loc.in_eea


@pytest.mark.parametrize(
    ("provider", "region", "expected"),
    [
        # AWS
        ("aws", "eu-west-3", ("eu-west-3", "FR", True, True)),
        ("aws", "eu-west-2", ("eu-west-2", "GB", False, False)),
        ("aws", "eu-central-2", ("eu-central-2", "CH", False, False)),
        ("aws", "eu-west-1", ("eu-west-1", "IE", True, True)),
        ("aws", "eu-south-2", ("eu-south-2", "ES", True, True)),
        ("aws", "il-central-1", ("il-central-1", "IL", False, False)),
        ("aws", "us-east-1", ("us-east-1", "US", False, False)),
        ("aws", "cn-northwest-1", ("cn-northwest-1", "CN", False, False)),
        ("aws", "us-gov-west-1", ("us-gov-west-1", "US", False, False)),
        ("aws", "eusc-de-east-1", ("eusc-de-east-1", "DE", True, True)),
        ("aws", "EU-WEST-3", ("eu-west-3", "FR", True, True)),
        ("aws", " eu-west-3 ", ("eu-west-3", "FR", True, True)),
        ("aws", "eu-west-3a", ("eu-west-3", "FR", True, True)),
        ("aws", "euw3-az1", ("eu-west-3", "FR", True, True)),
        ("aws", "EU", ("eu-west-1", "IE", True, True)),
        ("aws", "us-east-1-bos-1a", ("us-east-1", "US", False, False)),
        ("aws", "us-east-1-bue-1a", ("us-east-1", "AR", False, False)),
        ("aws", "eu-central-1-waw-1a", ("eu-central-1", "PL", True, True)),
        ("aws", "use1-bue1-az1", ("us-east-1", "AR", False, False)),
        # Azure
        ("azure", "francecentral", ("francecentral", "FR", True, True)),
        ("azure", "France Central", ("francecentral", "FR", True, True)),
        ("azurerm", "FRANCE CENTRAL", ("francecentral", "FR", True, True)),
        ("azure", "norwayeast", ("norwayeast", "NO", False, True)),
        ("azure", "switzerlandnorth", ("switzerlandnorth", "CH", False, False)),
        ("azure", "uksouth", ("uksouth", "GB", False, False)),
        ("azure", "westeurope", ("westeurope", "NL", True, True)),
        ("azure", "northeurope", ("northeurope", "IE", True, True)),
        ("azure", "chinaeast3", ("chinaeast3", "CN", False, False)),
        ("azure", "usdodcentral", ("usdodcentral", "US", False, False)),
        ("azure", "germanynortheast", ("germanynortheast", "DE", True, True)),
        # GCP
        ("gcp", "europe-west9", ("europe-west9", "FR", True, True)),
        ("google", "EUROPE-WEST9", ("europe-west9", "FR", True, True)),
        ("gcp", "europe-west9-b", ("europe-west9", "FR", True, True)),
        ("gcp", "europe-west2", ("europe-west2", "GB", False, False)),
        ("gcp", "europe-west6", ("europe-west6", "CH", False, False)),
        ("gcp", "me-west1", ("me-west1", "IL", False, False)),
        # OVHcloud
        ("ovh", "GRA11", ("eu-west-gra", "FR", True, True)),
        ("ovh", "GRA7", ("eu-west-gra", "FR", True, True)),
        ("ovh", "gra", ("eu-west-gra", "FR", True, True)),
        ("ovh", "eu-west-gra", ("eu-west-gra", "FR", True, True)),
        ("ovh", "SBG5", ("eu-west-sbg", "FR", True, True)),
        ("ovh", "DE1", ("eu-west-lim", "DE", True, True)),
        ("ovh", "UK1", ("eu-west-eri", "GB", False, False)),
        ("ovh", "WAW1", ("eu-central-waw", "PL", True, True)),
        ("ovh", "BHS5", ("ca-east-bhs", "CA", False, False)),
        ("ovh", "SGP1", ("ap-southeast-sgp", "SG", False, False)),
        ("ovh", "SYD1", ("ap-southeast-syd", "AU", False, False)),
        ("ovh", "US-EAST-VA-1", ("us-east-vin", "US", False, False)),
        ("ovh", "US-WEST-OR-1", ("us-west-hil", "US", False, False)),
        ("ovh", "EU-WEST-PAR", ("eu-west-par", "FR", True, True)),
        ("ovh", "EU-WEST-PAR-A", ("eu-west-par", "FR", True, True)),
        ("ovh", "EU-SOUTH-MIL", ("eu-south-mil", "IT", True, True)),
        ("ovh", "eu-west-sbg-snc", ("eu-west-sbg-snc", "FR", True, True)),
        ("ovh", "eu-north-lz-osl", ("eu-north-lz-osl", "NO", False, True)),
        ("ovh", "eu-west-lz-zrh", ("eu-west-lz-zrh", "CH", False, False)),
        ("ovh", "EU-WEST-LZ-LUX-A", ("eu-west-lz-lux", "LU", True, True)),
        ("ovhcloud", "ca-east-tor", ("ca-east-tor", "CA", False, False)),
        # Scaleway
        ("scaleway", "fr-par", ("fr-par", "FR", True, True)),
        ("scaleway", "fr-par-2", ("fr-par", "FR", True, True)),
        ("scaleway", "nl-ams-3", ("nl-ams", "NL", True, True)),
        ("scaleway", "pl-waw-1", ("pl-waw", "PL", True, True)),
        ("scaleway", "par1", ("fr-par", "FR", True, True)),
        # Outscale
        ("outscale", "eu-west-2", ("eu-west-2", "FR", True, True)),
        ("outscale", "eu-west-2a", ("eu-west-2", "FR", True, True)),
        ("outscale", "cloudgouv-eu-west-1a", ("cloudgouv-eu-west-1", "FR", True, True)),
        ("outscale", "us-east-2", ("us-east-2", "US", False, False)),
        ("outscale", "ap-northeast-1a", ("ap-northeast-1", "JP", False, False)),
    ],
)
def test_locate(
    provider: str, region: str, expected: tuple[str, str | None, bool | None, bool | None]
) -> None:
    assert _where(provider, region) == expected


@pytest.mark.parametrize(
    ("provider", "region"),
    [
        ("aws", "mars-north-1"),
        ("aws", "eu-west-9"),
        ("aws", "euw9-az1"),
        ("azure", "francenorth"),
        ("gcp", "europe-west99"),
        ("ovh", "XYZ1"),
        ("scaleway", "de-fra-1"),
        ("outscale", "eu-west-3"),
    ],
)
def test_unknown_region_gives_unknown_country_not_a_guess(provider: str, region: str) -> None:
    loc = GEO.locate(provider, region)
    assert loc == Location(provider, region, None, None, None)


def test_unknown_provider_gives_unknown_country() -> None:
    loc = GEO.locate("DigitalOcean", "fra1")
    assert (loc.provider, loc.region, loc.country, loc.in_eu, loc.in_eea) == (
        "digitalocean",
        "fra1",
        None,
        None,
        None,
    )


@pytest.mark.parametrize("region", [None, "", "   "])
def test_missing_region_is_unknown(region: str | None) -> None:
    loc = GEO.locate("aws", region)
    assert (loc.region, loc.country, loc.in_eu, loc.in_eea) == (None, None, None, None)


@pytest.mark.parametrize(
    ("provider", "region"),
    [("aws", "global"), ("aws", "aws-global"), ("azure", "global"), ("azure", "Global")],
)
def test_global_is_non_regional_with_no_country(provider: str, region: str) -> None:
    loc = GEO.locate(provider, region)
    assert loc.non_regional is True
    assert (loc.country, loc.in_eu, loc.in_eea) == (None, None, None)
    assert loc.region is not None and loc.region.lower() == region.lower()


def test_unlisted_aws_local_or_wavelength_zone_has_no_country() -> None:
    loc = GEO.locate("aws", "us-east-1-wl1-bos-wlz-1")
    assert (loc.region, loc.country, loc.in_eu, loc.verified) == (
        "us-east-1-wl1-bos-wlz-1",
        None,
        None,
        False,
    )
    assert loc.name is not None and "us-east-1" in loc.name
    # AZ ID of an unlisted Local Zone
    assert GEO.locate("aws", "use1-xyz1-az1").country is None


def test_s3_location_constraints() -> None:
    assert GEO.s3_bucket_location(None).region == "us-east-1"
    assert GEO.s3_bucket_location("").region == "us-east-1"
    assert GEO.s3_bucket_location("EU").region == "eu-west-1"
    assert GEO.s3_bucket_location("eu-west-3").country == "FR"
    # elsewhere an absent region stays unknown, it is not us-east-1
    assert GEO.locate("aws", None).country is None


def test_gcp_dual_region_resolves_to_members() -> None:
    eur5 = GEO.locate("gcp", "EUR5")
    assert eur5.region == "EUR5"
    assert [m.region for m in eur5.members] == ["europe-west1", "europe-west2"]
    assert [m.country for m in eur5.members] == ["BE", "GB"]
    assert (eur5.country, eur5.in_eu, eur5.in_eea) == (None, False, False)

    eur4 = GEO.locate("gcp", "eur4")
    assert [m.country for m in eur4.members] == ["FI", "NL"]
    assert (eur4.country, eur4.in_eu, eur4.in_eea) == (None, True, True)

    nam4 = GEO.locate("gcp", "NAM4")
    assert (nam4.country, nam4.in_eu) == ("US", False)  # members agree


def test_gcp_eu_multi_region_is_all_eu_and_excludes_london_and_zurich() -> None:
    eu = GEO.locate("gcp", "EU")
    assert eu.in_eu is True
    assert {m.region for m in eu.members}.isdisjoint({"europe-west2", "europe-west6"})
    assert GEO.locate("gcp", "ASIA").in_eu is False


def test_azure_pair_accepts_display_names() -> None:
    assert GEO.pair("azurerm", "France Central") == "francesouth"
    assert GEO.pair("azure", "Germany West Central") == "germanynorth"


def test_canonical_names() -> None:
    assert GEO.canonical_provider("azurerm") == "azure"
    assert GEO.canonical_provider("google") == "gcp"
    assert GEO.canonical_provider("Google-Beta") == "gcp"
    assert GEO.canonical_provider("alibaba") is None
    assert GEO.canonical_region("ovh", "GRA9") == "eu-west-gra"
    assert GEO.canonical_region("aws", "mars-north-1") is None


def test_known_regions() -> None:
    aws = GEO.known_regions("aws")
    assert aws == sorted(aws)
    assert {"eu-west-3", "eusc-de-east-1", "cn-north-1", "us-gov-west-1"} <= set(aws)
    assert "global" not in aws
    assert "EUR5" in GEO.known_regions("google")
    assert GEO.known_regions("nimbus") == []


def test_locate_is_memoised_and_fast() -> None:
    assert GEO.locate("aws", "eu-west-3") is GEO.locate("aws", "eu-west-3")
    inputs = [
        ("aws", "eu-west-3"),
        ("aws", "eu-west-3a"),
        ("azurerm", "France Central"),
        ("gcp", "EUR5"),
        ("ovh", "GRA11"),
        ("scaleway", "fr-par-2"),
        ("aws", "mars-north-1"),
        ("outscale", "eu-west-2a"),
    ]
    start = time.perf_counter()
    for i in range(200_000):
        provider, region = inputs[i % len(inputs)]
        GEO.locate(provider, region)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"200k locate() calls took {elapsed:.2f} s"
