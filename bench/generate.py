#!/usr/bin/env python3
"""Writes N realistic maritime datasets as NDJSON for `fathom import`, deterministically from a seed.

usage: bench/generate.py N [SEED] > datasets.ndjson   (organisations: bench/organisations.ndjson)
"""
import json
import random
import sys

ORGANISATIONS = ["cmre", "nhs", "ukho", "geomar", "nrl"]
INSTRUMENTS = [
    ("CTD casts", ["ctd", "temperature", "salinity", "conductivity"]),
    ("ADCP current profiles", ["adcp", "currents", "velocity"]),
    ("Multibeam bathymetry", ["multibeam", "bathymetry", "seabed"]),
    ("Sidescan sonar mosaic", ["sidescan", "sonar", "seabed"]),
    ("Glider section", ["glider", "temperature", "oxygen", "chlorophyll"]),
    ("Passive acoustic recordings", ["acoustics", "marine mammals", "hydrophone"]),
    ("Wave buoy spectra", ["waves", "buoy", "spectra"]),
    ("AIS vessel traffic", ["ais", "vessel traffic", "shipping"]),
    ("Sea surface temperature", ["sst", "temperature", "satellite"]),
    ("Sediment cores", ["sediment", "geology", "cores"]),
]
REGIONS = [
    ("Ligurian Sea", [7.5, 42.8, 10.5, 44.5]),
    ("Norwegian Sea", [-2.0, 62.0, 12.0, 71.0]),
    ("North Sea", [-3.0, 51.0, 9.0, 61.0]),
    ("Baltic Sea", [10.0, 53.5, 30.0, 66.0]),
    ("Celtic Sea", [-11.0, 48.0, -5.0, 52.0]),
    ("Fram Strait", [-10.0, 76.0, 12.0, 81.0]),
    ("Tyrrhenian Sea", [9.5, 37.5, 16.0, 42.5]),
    ("Gulf of Mexico", [-98.0, 18.0, -81.0, 30.5]),
    ("Central Pacific", [170.0, -15.0, -170.0, 10.0]),
]
PLATFORMS = ["RV Alliance", "RV Leonardo", "HU Sverdrup II", "RV Poseidon", "USNS Pathfinder", "Slocum glider", "Seaglider"]
FORMATS = [("NetCDF", "application/x-netcdf"), ("CSV", "text/csv"), ("GeoTIFF", "image/tiff"), ("GeoJSON", "application/geo+json")]
LICENSES = ["CC-BY-4.0", "CC0-1.0", "ODbL-1.0"]
THEMES = ["ENVI", "TECH", "REGI", "TRAN"]


def dataset(rng, i):
    name, keywords = rng.choice(INSTRUMENTS)
    region, (w, s, e, n) = rng.choice(REGIONS)
    platform = rng.choice(PLATFORMS)
    year = rng.randint(2008, 2026)
    month = rng.randint(1, 12)
    lat0 = rng.uniform(s, n - 0.5)
    lon_span = (e - w) % 360 or 360
    lon0 = w + rng.uniform(0, max(lon_span - 0.5, 0.1))
    lon0 = lon0 - 360 if lon0 > 180 else lon0
    lon1 = lon0 + rng.uniform(0.1, 0.5)
    lon1 = lon1 - 360 if lon1 > 180 else lon1
    bbox = [round(lon0, 4), round(lat0, 4), round(lon1, 4), round(lat0 + rng.uniform(0.1, 0.5), 4)]
    distributions = []
    for d in range(rng.randint(1, 3)):
        fmt, media = rng.choice(FORMATS)
        distributions.append({
            "title": f"{fmt} file {d + 1}",
            "access_url": f"https://data.example.org/bench/{i}/{d}",
            "media_type": media,
            "format": fmt,
            "byte_size": rng.randint(10_000, 5_000_000_000),
            "checksum": {"algorithm": "sha256", "value": "%064x" % rng.getrandbits(256)},
        })
    return {
        "title": f"{name}, {region} {year}, {platform} #{i}",
        "description": f"{name} collected by {platform} in the {region} during a {year} campaign. "
        "Processed to level 2 and quality-controlled following the organisation's procedures.",
        "organisation": ORGANISATIONS[i % len(ORGANISATIONS)],
        "keywords": keywords + [region.lower()],
        "themes": [f"http://publications.europa.eu/resource/authority/data-theme/{rng.choice(THEMES)}"],
        "contact_points": [{"name": "Data Centre", "email": "data@example.org", "role": "pointOfContact"}],
        "creators": [{"name": f"Researcher {rng.randint(1, 400)}"}],
        "issued": f"{year}-{month:02d}-01",
        "temporal": {"start": f"{year}-{month:02d}-01T00:00:00Z", "end": f"{year}-{month:02d}-{rng.randint(2, 28):02d}T00:00:00Z"},
        "spatial": {"bbox": bbox},
        "language": ["en"],
        "license": rng.choice(LICENSES),
        "access_rights": "public",
        "version": f"1.{rng.randint(0, 5)}",
        "landing_page": f"https://data.example.org/bench/{i}",
        "distributions": distributions,
    }


def main():
    count = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    out = sys.stdout
    for i in range(count):
        out.write(json.dumps(dataset(rng, i), separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
