"""The planted Google Cloud estate the tests audit: one organisation, three projects.

``alpha`` is readable and holds a pass / fail / unknown resource per family; ``beta``
answers 403 PERMISSION_DENIED; ``gamma`` has the Cloud Asset API disabled. Pages hold two
results so every search is paginated.
"""

from __future__ import annotations

from asset_server import AssetEstate

ORG = "organizations/4242"
ALPHA = "projects/1001"
BETA = "projects/1002"
GAMMA = "projects/1003"
KEY = "projects/alpha-hds/locations/europe-west9/keyRings/hds/cryptoKeys/records"

# full resource name suffix -> (asset type, location, KMS keys)
ASSETS = {
    "pass_eu_bucket": ("storage.googleapis.com/Bucket", "eu", [KEY]),
    "fail_us_bucket": ("storage.googleapis.com/Bucket", "us", [KEY]),
    "unknown_location_bucket": ("storage.googleapis.com/Bucket", "europe-moon1", [KEY]),
    "default_key_disk": ("compute.googleapis.com/Disk", "europe-west9-a", None),
    "cmek_sql": ("sqladmin.googleapis.com/Instance", "europe-west9", [KEY]),
    "eur5_bucket": ("storage.googleapis.com/Bucket", "eur5", [KEY]),
    "ring": ("cloudkms.googleapis.com/KeyRing", "europe-west9", None),
    "vm": ("compute.googleapis.com/Instance", "europe-west9-b", None),
}


def planted() -> AssetEstate:
    estate = AssetEstate(page_size=2)
    alpha = estate.project("1001", "alpha-hds", ORG)
    beta = estate.project("1002", "beta-hds", ORG)
    gamma = estate.project("1003", "gamma-hds", ORG)
    for name, (asset_type, location, keys) in ASSETS.items():
        estate.asset(alpha, asset_type, name, location, keys)
    estate.asset(beta, "storage.googleapis.com/Bucket", "hidden", "us")
    estate.asset(gamma, "storage.googleapis.com/Bucket", "hidden", "us")
    estate.denied.add(beta)
    estate.disabled.add(gamma)
    return estate


BENCH_TYPES = (
    ("storage.googleapis.com/Bucket", "eu"),
    ("compute.googleapis.com/Disk", "europe-west9-a"),
    ("sqladmin.googleapis.com/Instance", "europe-west9"),
    ("bigquery.googleapis.com/Dataset", "eu"),
    ("compute.googleapis.com/Instance", "europe-west1-b"),
    ("pubsub.googleapis.com/Topic", "europe-west4"),
)


def bench_estate(projects: int, resources: int, latency: float, page_size: int) -> AssetEstate:
    """``projects`` projects under one organisation, ``resources`` spread evenly over them."""
    estate = AssetEstate(page_size=page_size, latency=latency)
    names = [estate.project(str(2000 + i), f"bench-{i}", ORG) for i in range(projects)]
    for n in range(resources):
        asset_type, location = BENCH_TYPES[n % len(BENCH_TYPES)]
        keys = [KEY] if n % 2 else None
        estate.asset(names[n % projects], asset_type, f"r{n:05d}", location, keys)
    return estate
