import json

import pytest

from streams.core.gazetteer import (
    GazetteerEntry,
    GazetteerError,
    build_gazetteer,
    entity_uri,
    parse_entries,
    ruler_patterns,
    shipped_entries,
)


def lines(*objects) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o) for o in objects]


def test_gazetteer_parse_entries_reads_phrases_token_patterns_ids_and_names():
    entries = parse_entries(lines(
        {"label": "ORG", "pattern": "Corvina Bank", "id": "Q123"},
        "",
        {"label": "ORG", "pattern": [{"LOWER": "corvina"}, {"LOWER": "bk"}], "id": "Q123", "name": "Corvina Bank"},
        {"label": "GPE", "pattern": "Oslovia"},
    ), "g.jsonl")
    assert entries == (
        GazetteerEntry("ORG", "Corvina Bank", "Q123"),
        GazetteerEntry("ORG", ({"LOWER": "corvina"}, {"LOWER": "bk"}), "Q123", "Corvina Bank"),
        GazetteerEntry("GPE", "Oslovia"),
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "g.jsonl:2: not JSON"),
        ('["ORG", "x"]', "g.jsonl:2: expected an object"),
        ({"label": "org", "pattern": "x"}, "label must be an upper-case spaCy label"),
        ({"label": "ORG", "pattern": " "}, "empty pattern"),
        ({"label": "ORG", "pattern": [1]}, "pattern must be a phrase or a list"),
        ({"label": "ORG", "pattern": "x", "id": "wd:123"}, "id must be a Wikidata QID"),
        ({"label": "ORG", "pattern": "x", "name": ""}, "name must be a non-empty string"),
        ({"label": "ORG", "pattern": "x", "kb": "Q1"}, "unknown keys ['kb']"),
    ],
)
def test_gazetteer_parse_entries_names_the_bad_line(line, message):
    with pytest.raises(GazetteerError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_entries(lines({"label": "ORG", "pattern": "fine"}, line), "g.jsonl")


def test_gazetteer_shipped_list_knows_islamic_state():
    gazetteer = build_gazetteer(shipped_entries())
    for alias in ("IS", "ISIS", "ISIL", "Daesh", "Islamic State"):
        key = gazetteer.surfaces[alias]
        assert (key, gazetteer.names[key], gazetteer.labels[key]) == ("Q2429253", "Islamic State", "ORG")


def test_gazetteer_build_names_entities_by_explicit_name_else_first_phrase():
    gazetteer = build_gazetteer([
        GazetteerEntry("ORG", "CB", "Q7"),
        GazetteerEntry("ORG", "Corvina Bank", "Q7", "Corvina Bank"),
        GazetteerEntry("GPE", "Oslovia"),
        GazetteerEntry("GPE", "Osl.", name="Oslovia"),
    ])
    assert gazetteer.names == {"Q7": "Corvina Bank", "Oslovia": "Oslovia"}
    assert gazetteer.surfaces == {"CB": "Q7", "Corvina Bank": "Q7", "Oslovia": "Oslovia", "Osl.": "Oslovia"}


def test_gazetteer_ruler_patterns_carry_the_key_as_id():
    gazetteer = build_gazetteer([GazetteerEntry("ORG", ({"LOWER": "daesh"},), "Q2429253")])
    assert ruler_patterns(gazetteer) == [{"label": "ORG", "pattern": [{"LOWER": "daesh"}], "id": "Q2429253"}]


@pytest.mark.parametrize(
    ("key", "uri"),
    [
        ("Q2429253", "http://www.wikidata.org/entity/Q2429253"),
        ("https://example.org/id/7", "https://example.org/id/7"),
        ("Oslovia", None),
        (None, None),
    ],
)
def test_gazetteer_entity_uri(key, uri):
    assert entity_uri(key) == uri
