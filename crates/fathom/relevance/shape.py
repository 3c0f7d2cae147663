#!/usr/bin/env python3
"""Writes the judged relevance set of the search: 500 maritime records shaped after real ones
(`records.ndjson`, imported beside the demo catalogue) and the queries people type, each with graded
judgements of every record (`judgements.json`), deterministically.

The judgements come from what each record is about (what was measured, where, from what, when),
which this script decides before it writes a word of the record's text; never from what a search
returns. The text then says it in the ways catalogues do: other words for the same instrument, a
region named once in the description, and mentions of other instruments and seas that a record is not
about (a CTD calibration beside a glider mission, a transit through another sea).

Grades, for a query's need (what was measured and where; when and from what):
  3  the record is about all of it;
  2  what was measured and where, but another year (or another platform);
  1  one of what was measured and where, when the need names both (a CTD in the next sea, a glider
     in the same sea);
  0  anything else (not written).

usage: crates/fathom/relevance/shape.py   (rewrites the two files beside it)
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_LINES = os.path.join(HERE, "..", "demo", "datasets.ndjson")

# What was measured: the words of titles, the keywords, and a sentence of the description.
MEASUREMENTS = {
    "ctd": (["CTD casts", "CTD profiles", "Conductivity-temperature-depth stations", "Hydrographic CTD sections"],
            ["ctd", "temperature", "salinity"],
            "Conductivity, temperature and depth profiles from a rosette, calibrated against bottle salinities."),
    "glider": (["Underwater glider sections", "Glider transects", "Glider missions", "Ocean glider profiles"],
               ["glider", "temperature", "salinity"],
               "Sawtooth profiles to 1000 m by autonomous underwater gliders, with dive-averaged currents."),
    "adcp": (["ADCP current profiles", "Acoustic Doppler current profiler records", "Current profiles from a moored ADCP"],
             ["adcp", "currents"],
             "Velocity profiles from an acoustic Doppler current profiler, averaged over ten minutes."),
    "multibeam": (["Multibeam bathymetry", "Multibeam echosounder survey", "Bathymetric grid from multibeam soundings"],
                  ["multibeam", "bathymetry"],
                  "Swath soundings gridded at 5 m, corrected for tides and sound velocity."),
    "sidescan": (["Sidescan sonar mosaic", "Side-scan sonar survey", "Sidescan sonar imagery of the seabed"],
                 ["sidescan", "sonar", "seabed"],
                 "High-frequency side-scan imagery of the seafloor, mosaicked and georeferenced."),
    "pam": (["Passive acoustic recordings", "Hydrophone recordings of marine mammals", "Passive acoustic monitoring"],
            ["passive acoustics", "hydrophone", "marine mammals"],
            "Continuous recordings from autonomous hydrophones, with detections of cetacean calls."),
    "noise": (["Ambient noise measurements", "Underwater noise levels", "Ambient sound and shipping noise"],
              ["ambient noise", "acoustics", "shipping"],
              "Third-octave sound pressure levels of the ambient noise field and passing ships."),
    "sediment": (["Sediment cores", "Seabed sediment samples", "Grab samples of seabed sediments"],
                 ["sediment", "cores", "geology"],
                 "Gravity cores and grab samples described for grain size, carbon content and sound speed."),
    "xbt": (["XBT profiles", "Expendable bathythermograph drops", "XBT temperature sections"],
            ["xbt", "temperature"],
            "Temperature profiles from expendable bathythermographs launched while under way."),
    "argo": (["Argo float profiles", "Profiling float observations", "Argo floats, delayed-mode profiles"],
             ["argo", "floats", "temperature", "salinity"],
             "Delayed-mode temperature and salinity profiles from autonomous profiling floats."),
    "waves": (["Wave buoy spectra", "Directional wave measurements", "Wave rider buoy records"],
              ["waves", "buoy"],
              "Directional wave spectra, significant wave height and peak period every 30 minutes."),
    "tides": (["Tide gauge records", "Sea level from tide gauges", "Tidal height observations"],
              ["tides", "sea level", "tide gauge"],
              "Sea level every ten minutes from a radar tide gauge, referred to chart datum."),
    "chlorophyll": (["Chlorophyll fluorescence profiles", "Phytoplankton pigment samples", "Chlorophyll-a concentrations"],
                    ["chlorophyll", "phytoplankton"],
                    "Chlorophyll-a from fluorometers, calibrated with HPLC pigment samples."),
    "oxygen": (["Dissolved oxygen time series", "Oxygen measurements", "Near-bottom oxygen records"],
               ["oxygen", "hypoxia"],
               "Dissolved oxygen from optodes, checked against Winkler titrations."),
    "sst": (["Sea surface temperature from satellite", "Satellite SST composites", "Daily sea surface temperature analysis"],
            ["sea surface temperature", "satellite"],
            "Daily composites of infrared and microwave sea surface temperature at 1 km."),
    "seaice": (["Sea ice thickness", "Sea ice concentration charts", "Sea ice draft from upward-looking sonar"],
               ["sea ice", "arctic"],
               "Ice draft and concentration, with the position of the marginal ice zone."),
    "turbulence": (["Microstructure turbulence profiles", "Turbulent mixing measurements"],
                   ["turbulence", "microstructure", "mixing"],
                   "Dissipation rates from free-falling microstructure profilers."),
    "ais": (["AIS vessel traffic", "Ship traffic density from AIS"],
            ["ais", "shipping", "vessel traffic"],
            "Positions broadcast by ships, gridded as hours of presence per cell."),
}

# A measurement another record's text may mention in passing.
IN_PASSING = {
    "ctd": "CTD casts at the start and end of the mission calibrated the sensors.",
    "glider": "Two gliders flew nearby during the same weeks.",
    "multibeam": "A multibeam survey of the site preceded the deployment.",
    "adcp": "A moored ADCP recorded the currents at the site.",
    "sst": "Satellite sea surface temperature was used to plan the stations.",
    "xbt": "XBT drops filled the gaps between stations.",
}

REGIONS = {
    "ligurian": ("Ligurian Sea", [8.0, 43.2, 10.2, 44.4]),
    "tyrrhenian": ("Tyrrhenian Sea", [10.0, 38.5, 15.5, 42.5]),
    "adriatic": ("Adriatic Sea", [12.5, 40.5, 19.0, 45.7]),
    "norwegian": ("Norwegian Sea", [0.0, 62.0, 15.0, 72.0]),
    "barents": ("Barents Sea", [20.0, 70.0, 50.0, 80.0]),
    "baltic": ("Baltic Sea", [10.0, 53.5, 30.0, 66.0]),
    "northsea": ("North Sea", [-3.0, 51.0, 9.0, 61.0]),
    "channel": ("English Channel", [-5.7, 48.5, 1.8, 51.1]),
    "celtic": ("Celtic Sea", [-11.0, 48.0, -5.0, 52.0]),
    "biscay": ("Bay of Biscay", [-10.0, 43.3, -1.2, 48.5]),
    "irish": ("Irish Sea", [-6.5, 52.0, -2.8, 55.0]),
    "mexico": ("Gulf of Mexico", [-98.0, 18.0, -81.0, 30.5]),
    "labrador": ("Labrador Sea", [-64.0, 53.0, -44.0, 66.0]),
    "fram": ("Fram Strait", [-10.0, 76.0, 12.0, 81.0]),
    "sargasso": ("Sargasso Sea", [-70.0, 22.0, -40.0, 35.0]),
}

# Platforms, and what each carries.
PLATFORMS = {
    "alliance": ("NRV Alliance", ["ctd", "xbt", "multibeam", "sidescan", "noise", "pam", "sediment", "chlorophyll", "turbulence"]),
    "poseidon": ("RV Poseidon", ["ctd", "sediment", "oxygen", "chlorophyll", "turbulence", "multibeam"]),
    "explorer": ("RV Celtic Explorer", ["ctd", "multibeam", "sediment", "xbt", "chlorophyll"]),
    "echo": ("HMS Echo", ["multibeam", "sidescan", "xbt", "ctd"]),
    "pathfinder": ("USNS Pathfinder", ["multibeam", "ctd", "xbt", "sidescan"]),
    "merian": ("RV Maria S. Merian", ["ctd", "oxygen", "sediment", "adcp", "chlorophyll"]),
    "haakon": ("RV Kronprins Haakon", ["ctd", "seaice", "pam", "sediment"]),
    "slocum": ("Slocum glider", ["glider"]),
    "seaglider": ("Seaglider", ["glider"]),
    "mooring": ("a deep-water mooring", ["adcp", "noise", "pam", "oxygen", "seaice", "waves"]),
    "coast": ("a coastal station", ["tides", "waves", "oxygen"]),
    "floats": ("the Argo array", ["argo"]),
    "satellite": ("Sentinel-3", ["sst"]),
    "shore": ("shore receivers", ["ais"]),
}

# Where there is sea ice to measure.
ARCTIC = ["barents", "fram", "labrador", "norwegian"]
# Platforms that sail from one sea to another.
SHIPS = ["alliance", "poseidon", "explorer", "echo", "pathfinder", "merian", "haakon"]

ORGANISATIONS = ["cmre", "ffi-ocean", "hydro-survey-uk", "kiel-ocean", "navo-lab"]
FORMATS = [("NetCDF", "application/x-netcdf"), ("CSV", "text/csv"), ("GeoTIFF", "image/tiff")]
LICENCES = ["CC-BY-4.0", "CC0-1.0"]
CAMPAIGNS = ["LOGMEC", "REP-MUS", "NORLAB", "BALTEX", "CELTIC-X", "GLISTEN", "ARCTIC-EDGE", "MEXSEA",
             "BISCAY-OBS", "FRAMFLUX"]

# What the demo catalogue's datasets are about, as the judge reads them (by title): what was measured
# (one or several), where, when and from what.
DEMO = {
    "CTD casts, Ligurian Sea glider trial LOGMEC 2021": ("ctd", "ligurian", 2021, "alliance"),
    "Underwater glider sections, Ligurian Sea, spring 2022": ("glider", "ligurian", 2022, None),
    "Acoustic propagation loss measurements, Ligurian Sea 2019": ("propagation", "ligurian", 2019, None),
    "Sound speed profiles from XBT and CTD, Tyrrhenian Sea 2020": (("xbt", "ctd", "soundspeed"), "tyrrhenian", 2020, None),
    "Autonomous underwater vehicle mission logs, REP-MUS 2023": ("auv", "tyrrhenian", 2023, None),
    "Wave buoy spectra, Gulf of La Spezia": ("waves", "ligurian", None, None),
    "Ambient noise recordings, Ligurian Sea deep mooring": ("noise", "ligurian", None, "mooring"),
    "Multibeam bathymetry, Palmaria canyon": ("multibeam", "ligurian", None, None),
    "Gridded temperature and salinity, Ligurian Sea, LOGMEC 2021": ("gridded", "ligurian", 2021, None),
    "Sidescan sonar survey for mine countermeasures trial, 2022": ("sidescan", "ligurian", 2022, None),
    "Ocean acoustic tomography array, Fram Strait 2010-2012": ("tomography", "fram", 2011, "mooring"),
    "Sonar performance trial, Norwegian Sea 2021": ("sonar", "norwegian", 2021, None),
    "Marine mammal detections from passive acoustic monitoring, Vestfjorden": ("pam", "norwegian", None, None),
    "CTD sections across the Norwegian Atlantic Current": ("ctd", "norwegian", None, None),
    "Sea ice edge and under-ice acoustics, Barents Sea 2022": ("seaice", "barents", 2022, None),
    "Underwater glider mission, Lofoten basin eddy": ("glider", "norwegian", None, None),
    "Shipping noise footprint model outputs, Norwegian coast": ("noise", "norwegian", None, None),
    "Seabed sediment cores, Barents Sea shelf": ("sediment", "barents", None, None),
    "Current meter moorings, Bear Island trough": ("adcp", "barents", None, "mooring"),
    "Acoustic communication trial records, 2020": ("modem", "norwegian", 2020, None),
    "Multibeam bathymetry, Dover Strait 2019": ("multibeam", "channel", 2019, None),
    "Tide gauge records, south coast of England": ("tides", "channel", None, "coast"),
    "Wreck and obstruction survey, Celtic Sea": ("sidescan", "celtic", None, None),
    "Seabed sediment classification, English Channel": ("sediment", "channel", None, None),
    "Sound velocity profiles from charting surveys, 2015-2023": ("soundspeed", "northsea", None, None),
    "AIS vessel traffic density, UK waters 2023": ("ais", "northsea", 2023, "shore"),
    "Tidal stream diamonds, Solent and approaches": ("tides", "channel", None, None),
    "Coastal lidar bathymetry, Isles of Scilly": ("lidar", "celtic", None, None),
    "Magnetometer survey of a cable route, North Sea": ("magnetometer", "northsea", None, None),
    "Sea surface currents from HF radar, Celtic Sea": ("hfradar", "celtic", None, None),
    "Baltic Sea oxygen time series, Boknis Eck": ("oxygen", "baltic", None, "coast"),
    "Argo float profiles, central Baltic": ("argo", "baltic", None, "floats"),
    "Microstructure turbulence profiles, Bornholm basin": ("turbulence", "baltic", None, None),
    "Carbon dioxide partial pressure on a ferry line": ("co2", "baltic", None, None),
    "Saltwater inflow moorings, Arkona basin 2014-2015": ("adcp", "baltic", 2014, "mooring"),
    "Phytoplankton pigments, Kiel Bight": ("chlorophyll", "baltic", None, None),
    "Glider sections, Sargasso Sea mode water": ("glider", "sargasso", None, None),
    "Seabed photographs, munitions dump site Kolberger Heide": ("photographs", "baltic", None, None),
    "North Sea bottom temperature climatology": ("climatology", "northsea", None, None),
    "Sediment cores with microplastics, Baltic basins": ("sediment", "baltic", None, None),
    "Glider observations, Gulf of Mexico hurricane season 2023": ("glider", "mexico", 2023, None),
    "Expendable bathythermograph archive, Central Pacific": ("xbt", "pacific", None, None),
    "Ocean model hindcast, Gulf of Mexico 1 km": ("model", "mexico", None, None),
    "Bering Sea ice-edge acoustic experiment": ("seaice", "bering", None, None),
    "Surface drifter velocities, Loop Current": ("drifters", "mexico", None, None),
    "Bioluminescence profiles, Sargasso Sea": ("bioluminescence", "sargasso", None, None),
    "Satellite altimetry eddy atlas, Gulf of Mexico": ("altimetry", "mexico", None, "satellite"),
    "Shallow water reverberation trial, 2019": ("sonar", "mexico", 2019, None),
    "Mixed layer depth climatology, global": ("climatology", "global", None, None),
    "Tropical cyclone upper-ocean response, Central Pacific": ("argo", "pacific", None, "floats"),
    "Passive acoustic signatures, North Atlantic 2024": ("signatures", "atlantic", 2024, None),
}

# The queries: as typed, and the need behind them (measurements accepted, region, year, platform).
QUERIES = [
    ("CTD Ligurian Sea", {"m": ["ctd"], "r": "ligurian"}),
    ("CTD Ligurian Sea 2021", {"m": ["ctd"], "r": "ligurian", "y": 2021}),
    ("ligurain sea ctd", {"m": ["ctd"], "r": "ligurian"}),
    ("glider Norwegian Sea", {"m": ["glider"], "r": "norwegian"}),
    ("glidr norwegian sea", {"m": ["glider"], "r": "norwegian"}),
    ("glider salinity", {"m": ["glider"]}),
    ("underwater glider Barents Sea 2019", {"m": ["glider"], "r": "barents", "y": 2019}),
    ("passive acoustic Norwegian", {"m": ["pam"], "r": "norwegian"}),
    ("hydrophone marine mammals", {"m": ["pam"]}),
    ("marine mammal recordings Barents", {"m": ["pam"], "r": "barents"}),
    ("ambient noise North Sea", {"m": ["noise"], "r": "northsea"}),
    ('"ambient noise" Adriatic', {"m": ["noise"], "r": "adriatic"}),
    ("shipping noise", {"m": ["noise", "ais"]}),
    ("multibeam bathymetry North Sea", {"m": ["multibeam"], "r": "northsea"}),
    ("multibem bathymetry", {"m": ["multibeam"]}),
    ("bathymetry English Channel", {"m": ["multibeam"], "r": "channel"}),
    ("multibeam HMS Echo", {"m": ["multibeam"], "p": "echo"}),
    ("USNS Pathfinder", {"p": "pathfinder"}),
    ("RV Poseidon Baltic", {"p": "poseidon", "r": "baltic"}),
    ("sidescan sonar", {"m": ["sidescan"]}),
    ("side-scan sonar Celtic Sea", {"m": ["sidescan"], "r": "celtic"}),
    ("sidescan irish sea 2016", {"m": ["sidescan"], "r": "irish", "y": 2016}),
    ("sediment cores Baltic", {"m": ["sediment"], "r": "baltic"}),
    ("seidment cores baltic", {"m": ["sediment"], "r": "baltic"}),
    ("seabed sediment Barents Sea", {"m": ["sediment"], "r": "barents"}),
    ("XBT", {"m": ["xbt"]}),
    ("expendable bathythermograph Tyrrhenian", {"m": ["xbt"], "r": "tyrrhenian"}),
    ("argo floats", {"m": ["argo"]}),
    ("argo float profiles Labrador Sea", {"m": ["argo"], "r": "labrador"}),
    ("temperature salinity profiles Baltic", {"m": ["ctd", "argo", "glider"], "r": "baltic"}),
    ("temperature profiles Sargasso Sea", {"m": ["ctd", "argo", "glider", "xbt"], "r": "sargasso"}),
    ("wave buoy", {"m": ["waves"]}),
    ("wave spectra Bay of Biscay", {"m": ["waves"], "r": "biscay"}),
    ("tide gauge", {"m": ["tides"]}),
    ("sea level English Channel", {"m": ["tides"], "r": "channel"}),
    ("tides irish sea", {"m": ["tides"], "r": "irish"}),
    ("chlorophyll Baltic", {"m": ["chlorophyll"], "r": "baltic"}),
    ("phytoplankton pigments", {"m": ["chlorophyll"]}),
    ("chlorophyl fluorescence Celtic Sea", {"m": ["chlorophyll"], "r": "celtic"}),
    ("oxygen Baltic Sea", {"m": ["oxygen"], "r": "baltic"}),
    ("hypoxia", {"m": ["oxygen"]}),
    ("dissolved oxygen Gulf of Mexico 2020", {"m": ["oxygen"], "r": "mexico", "y": 2020}),
    ("sea surface temperature satellite", {"m": ["sst"]}),
    ("SST Gulf of Mexico", {"m": ["sst"], "r": "mexico"}),
    ('"sea ice" Barents', {"m": ["seaice"], "r": "barents"}),
    ("sea ice Fram Strait", {"m": ["seaice"], "r": "fram"}),
    ("ice thickness Fram Strait 2018", {"m": ["seaice"], "r": "fram", "y": 2018}),
    ("turbulence microstructure", {"m": ["turbulence"]}),
    ("mixing Baltic", {"m": ["turbulence"], "r": "baltic"}),
    ("AIS vessel traffic", {"m": ["ais"]}),
    ("ADCP currents Celtic Sea", {"m": ["adcp"], "r": "celtic"}),
    ("current profiles Norwegian Sea 2015", {"m": ["adcp"], "r": "norwegian", "y": 2015}),
    ("adcp mooring", {"m": ["adcp"], "p": "mooring"}),
    ("Fram Strait", {"r": "fram"}),
    ("Bay of Biscay", {"r": "biscay"}),
    ("Labrador Sea", {"r": "labrador"}),
    ("Adriatic", {"r": "adriatic"}),
    ("Irish Sea 2012", {"r": "irish", "y": 2012}),
    ("Gulf of Mexico glider", {"m": ["glider"], "r": "mexico"}),
    ("gulf of mexico hurricane glider 2023", {"m": ["glider"], "r": "mexico", "y": 2023}),
    ("Slocum glider Ligurian", {"m": ["glider"], "r": "ligurian", "p": "slocum"}),
    ("seaglider Labrador", {"m": ["glider"], "r": "labrador", "p": "seaglider"}),
    ("NRV Alliance CTD 2014", {"m": ["ctd"], "p": "alliance", "y": 2014}),
    ("Celtic Explorer sediment", {"m": ["sediment"], "p": "explorer"}),
    ("Kronprins Haakon sea ice", {"m": ["seaice"], "p": "haakon"}),
    ("Maria Merian oxygen", {"m": ["oxygen"], "p": "merian"}),
    ("CTD Tyrrhenian Sea 2020", {"m": ["ctd"], "r": "tyrrhenian", "y": 2020}),
    ("tyrhenian ctd", {"m": ["ctd"], "r": "tyrrhenian"}),
    ("CTD -glider Ligurian", {"m": ["ctd"], "r": "ligurian"}),
    ("ocean acoustic tomography", {"m": ["tomography"]}),
    ("Kiel Bight phytoplankton", {"m": ["chlorophyll"], "r": "baltic"}),
    ("sound speed profiles", {"m": ["xbt", "soundspeed"]}),
    ("mine countermeasures sidescan", {"m": ["sidescan"]}),
    ("North Sea 2023", {"r": "northsea", "y": 2023}),
]


def demo_truths():
    truths = {}
    with open(DEMO_LINES) as lines:
        for line in lines:
            title = json.loads(line)["title"]
            measured, region, year, platform = DEMO[title]
            measured = (measured,) if isinstance(measured, str) else measured
            truths[title] = {"m": measured, "r": region, "y": year, "p": platform}
    return truths


def lower_first(name):
    """`name` as it reads after a colon: "CTD casts" stays, "Glider missions" → "glider missions"."""
    first = name.split()[0]
    return name if first.isupper() or "-" in first and first[1].isupper() else name[0].lower() + name[1:]


def record(rng, number, titles):
    measured = rng.choice(sorted(MEASUREMENTS))
    names, keywords, sentence = MEASUREMENTS[measured]
    platform = rng.choice(sorted(p for p, (_, carries) in PLATFORMS.items() if measured in carries))
    platform_name = PLATFORMS[platform][0]
    region = rng.choice(ARCTIC if measured == "seaice" else sorted(REGIONS))
    region_name, (west, south, east, north) = REGIONS[region]
    year = rng.randint(2008, 2025)
    campaign = rng.choice(CAMPAIGNS)
    name = rng.choice(names)
    shapes = [
        f"{name}, {region_name} {year}",
        f"{name} from {platform_name}, {region_name}, {year}",
        f"{region_name}: {lower_first(name)} ({year})",
        f"{name}, {campaign} {year}",
        f"{campaign} {year}: {lower_first(name)}",
    ]
    title = rng.choice(shapes)
    while title in titles:
        title = f"{title}, leg {rng.randint(2, 9)}"
    titles.add(title)
    # Where: always in the description, and in the title or the keywords only sometimes.
    description = [f"{sentence} Collected in the {region_name} in {year}, from {platform_name}."]
    if campaign in title:
        description.append(f"Part of the {campaign} campaign.")
    if rng.random() < 0.35:
        others = [m for m in IN_PASSING if m != measured]
        description.append(IN_PASSING[rng.choice(others)])
    if platform in SHIPS and rng.random() < 0.3:
        elsewhere = REGIONS[rng.choice([r for r in REGIONS if r != region])][0]
        description.append(f"The ship sailed from the {elsewhere} on its way to the site.")
    words = list(keywords)
    if rng.random() < 0.6:
        words.append(region_name.lower())
    inset = 0.3 * rng.random()
    bbox = [round(west + inset, 2), round(south + inset, 2), round(east - inset, 2), round(north - inset, 2)]
    month = rng.randint(1, 11)
    form, media = rng.choice(FORMATS)
    body = {
        "slug": f"shaped-{number:03}",
        "title": title,
        "description": " ".join(description),
        "organisation": rng.choice(ORGANISATIONS),
        "keywords": words,
        "themes": ["http://publications.europa.eu/resource/authority/data-theme/ENVI"],
        "issued": f"{min(year + 1, 2025)}-03-01",
        "temporal": {"start": f"{year}-{month:02}-01T00:00:00Z", "end": f"{year}-{month + 1:02}-15T00:00:00Z"},
        "spatial": {"bbox": bbox},
        "language": ["en"],
        "license": rng.choice(LICENCES),
        "access_rights": "public",
        "distributions": [{
            "title": f"{form} files",
            "access_url": f"https://data.example.org/shaped/{number:03}",
            "media_type": media,
            "format": form,
        }],
    }
    return body, {"m": (measured,), "r": region, "y": year, "p": platform}


def grade(need, truth):
    measured = "m" not in need or any(m in need["m"] for m in truth["m"])
    where = "r" not in need or truth["r"] == need["r"]
    when = "y" not in need or truth["y"] == need["y"]
    aboard = "p" not in need or truth["p"] == need["p"]
    primary = [held for key, held in (("m", measured), ("r", where)) if key in need]
    if all(primary) and when and aboard:
        return 3
    if primary and all(primary):
        return 2 if "m" in need else 1
    if len(primary) == 2 and any(primary):
        return 1
    return 0


def main():
    rng = random.Random(7)
    truths = demo_truths()
    titles = set(truths)
    with open(os.path.join(HERE, "records.ndjson"), "w") as out:
        for number in range(1, 501):
            body, truth = record(rng, number, titles)
            truths[body["title"]] = truth
            out.write(json.dumps(body) + "\n")
    judged = []
    for text, need in QUERIES:
        grades = {title: grade(need, truth) for title, truth in sorted(truths.items())}
        judged.append({"query": text, "grades": {t: g for t, g in grades.items() if g > 0}})
    with open(os.path.join(HERE, "judgements.json"), "w") as out:
        json.dump(judged, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
