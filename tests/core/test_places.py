"""Place linking on a hand-built GeoNames index (the shell's real index: tests/test_geodata.py)."""

import pytest

from streams.core.entities import ninjs_subjects
from streams.core.models import Entity, Mention
from streams.core.places import Place, PlaceIndex, fold, geojson, link_places
from streams.schemas import validator

IRAQ = Place(99237, "country", "IQ", 38_000_000)
ITALY = Place(3175395, "country", "IT", 60_000_000)
CANADA = Place(6251999, "country", "CA", 37_000_000)
US = Place(6252001, "country", "US", 327_000_000)
GEORGIA = Place(614540, "country", "GE", 3_700_000)
MOSUL = Place(99072, "city", "IQ", 1_683_000, (43.11889, 36.335))
FLORENCE_IT = Place(3176959, "city", "IT", 367_150, (11.24626, 43.77925))
FLORENCE_US = Place(4062577, "city", "US", 40_026, (-87.67725, 34.79981), "AL")
VICTORIA_CA = Place(6174041, "city", "CA", 289_625, (-123.3693, 48.43294))
VICTORIA_US = Place(4739526, "city", "US", 67_574, (-97.00361, 28.80527))
VICTORIA_HK = Place(1819729, "city", "HK", 956_800, (114.15769, 22.28552))
WASHINGTON_DC = Place(4140963, "city", "US", 689_545, (-77.03637, 38.89511))
KYIV = Place(703448, "city", "UA", 2_952_301, (30.5238, 50.45466))

INDEX = PlaceIndex(
    countries={"iraq": IRAQ, "italy": ITALY, "canada": CANADA, "u.s.": US, "united states": US, "georgia": GEORGIA},
    states={"georgia": Place(4197000, "state", "US", admin1="GA"), "alabama": Place(4829764, "state", "US", admin1="AL"),
            "washington": Place(5815135, "state", "US", admin1="WA")},
    continents={"europe": Place(6255148, "continent", "", 741_000_000, (9.14062, 48.69096))},
    cities={"mosul": (MOSUL,), "florence": (FLORENCE_IT, FLORENCE_US), "washington": (WASHINGTON_DC,),
            "victoria": (VICTORIA_HK, VICTORIA_CA, VICTORIA_US), "kyiv": (KYIV,)},
    city_aliases={"kiev": (KYIV,)},
    demonyms={"iraqi": "IQ", "italian": "IT"},
    by_code={"IQ": IRAQ, "IT": ITALY, "CA": CANADA, "US": US, "GE": GEORGIA},
)


def entity(name, label, start=10, field="body", aliases=()):
    return Entity(name, label, (Mention(name, start, start + len(name), field),), tuple(aliases))


def uris(entities):
    return [e.uri for e in link_places(entities, INDEX)]


def test_places_city_links_with_its_point():
    [mosul] = link_places([entity("Mosul", "GPE")], INDEX)
    assert mosul.uri == "https://sws.geonames.org/99072/" and mosul.point == (43.11889, 36.335)


def test_places_country_links_without_a_point():
    [iraq] = link_places([entity("Iraq", "GPE")], INDEX)
    assert (iraq.uri, iraq.point) == ("https://sws.geonames.org/99237/", None)


def test_places_ambiguous_city_follows_the_article_s_countries():
    # Victoria: three cities, none dominant -> no link without context.
    assert uris([entity("Victoria", "GPE")]) == [None]
    assert uris([entity("Canada", "GPE", 0), entity("Victoria", "GPE", 20)])[1] == VICTORIA_CA.uri
    # A nationality is context too.
    assert uris([entity("Italian", "NORP", 0), entity("Florence", "GPE", 20)])[1] == FLORENCE_IT.uri


def test_places_dominant_city_links_without_context_and_context_can_overrule_it():
    assert uris([entity("Florence", "GPE")]) == [FLORENCE_IT.uri]  # 9x the next Florence
    assert uris([entity("U.S.", "GPE", 0), entity("Florence", "GPE", 20)]) == [US.uri, FLORENCE_US.uri]


def test_places_city_named_like_a_person_links_only_as_a_place():
    assert uris([entity("Florence", "PERSON")]) == [None]
    assert uris([entity("Florence", "GPE")]) == [FLORENCE_IT.uri]


def test_places_name_with_no_match_keeps_no_uri():
    [millbridge] = link_places([entity("Millbridge", "GPE")], INDEX)
    assert (millbridge.uri, millbridge.point) == (None, None)


def test_places_state_and_big_city_of_one_name_is_not_linked():
    assert uris([entity("Washington", "GPE")]) == [None]


def test_places_country_and_state_of_one_name_follows_us_context():
    assert uris([entity("Georgia", "GPE")]) == [GEORGIA.uri]
    assert uris([entity("U.S.", "GPE", 0), entity("Georgia", "GPE", 20)])[1] == "https://sws.geonames.org/4197000/"


def test_places_alternate_spelling_and_shouted_alias():
    assert uris([entity("Kiev", "GPE")]) == [KYIV.uri]
    assert uris([entity("Mosul", "GPE", aliases=["MOSUL"])]) == [MOSUL.uri]


def test_places_nationality_links_to_its_country():
    [iraqi, unknown] = link_places([entity("Iraqi", "NORP"), entity("Sunni", "NORP", 30)], INDEX)
    assert (iraqi.uri, iraqi.point, unknown.uri) == (IRAQ.uri, None, None)


def test_places_gazetteer_uri_is_kept():
    known = Entity("Mosul", "GPE", (Mention("Mosul", 0, 5, "body"),), uri="http://www.wikidata.org/entity/Q83288")
    assert uris([known]) == [known.uri]


def test_places_one_word_seen_only_at_sentence_starts_is_not_linked():
    texts = {"headline": "Victoria wins again", "body": "Canada cheered."}
    canada = entity("Canada", "GPE", 0)
    opener = entity("Victoria", "GPE", 0, field="headline")
    assert [e.uri for e in link_places([canada, opener], INDEX, texts)] == [CANADA.uri, None]
    inside = {"headline": "Rain in Victoria", "body": "Canada cheered."}
    placed = entity("Victoria", "GPE", 8, field="headline")
    assert [e.uri for e in link_places([canada, placed], INDEX, inside)] == [CANADA.uri, VICTORIA_CA.uri]


def test_places_ninjs_place_carries_uri_and_a_schema_valid_geojson_point():
    linked = link_places([entity("Mosul", "GPE"), entity("Iraq", "GPE", 30)], INDEX)
    places = ninjs_subjects(linked)["places"]
    assert places[0] == {"name": "Mosul", "rel": "mentions", "uri": MOSUL.uri, "literal": "mosul",
                         "geoJSON": {"type": "Point", "coordinates": [43.11889, 36.335]}}
    assert "geoJSON" not in places[1] and places[1]["uri"] == IRAQ.uri
    ninjs = {"uri": "urn:test:1", "type": "text", "places": places}
    validator("ninjs-schema_3.1.json").validate(ninjs)


@pytest.mark.parametrize(("name", "folded"), [("São  Paulo", "são paulo"), ("Côte d’Ivoire", "côte d'ivoire")])
def test_places_fold(name, folded):
    assert fold(name) == folded


def test_places_geojson_is_longitude_first():
    assert geojson((43.1, 36.3)) == {"type": "Point", "coordinates": [43.1, 36.3]}


def test_places_region_written_after_a_city_restricts_it():
    body = "He spoke in Florence, Georgia, in Florence, Alabama and in Florence, Italy. He said."
    texts = {"headline": "", "body": body}
    at = [i for i in range(len(body)) if body.startswith("Florence", i)]
    linked = [link_places([entity("Florence", "GPE", i)], INDEX, texts)[0].uri for i in at]
    assert linked == [None, FLORENCE_US.uri, FLORENCE_IT.uri]  # no Florence in Georgia: no link
