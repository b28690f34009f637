import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.entities import initials, merge_entities, ninjs_subjects, repeat_mentions, short_forms
from streams.core.spans import TaggedSpan, trim_span
from streams.core.gazetteer import GazetteerEntry, build_gazetteer
from streams.core.models import Entity, Mention
from streams.schemas import validator


def spans_in(text: str, *found: tuple[str, str], field: str = "body", offset: int = 0) -> list[TaggedSpan]:
    """TaggedSpans for (surface, label) pairs, each at its first occurrence after the previous one."""
    out, at = [], 0
    for surface, label in found:
        start = text.index(surface, at)
        at = start + len(surface)
        out.append(TaggedSpan(Mention(surface, offset + start, offset + at, field), label))
    return out


def cut(text: str, surface: str, label: str) -> list[str]:
    start = text.index(surface)
    return [text[s:e] for s, e in trim_span(text, start, start + len(surface), label)]


@pytest.mark.parametrize(
    ("text", "surface", "label", "expected"),
    [
        ("Talks with the European Union failed.", "the European Union", "ORG", ["European Union"]),
        ("The Kremlin said so.", "The Kremlin", "ORG", ["Kremlin"]),
        ('He said: " The Kremlin agreed."', "The Kremlin", "ORG", ["Kremlin"]),
        ("Judges in The Hague ruled.", "The Hague", "GPE", ["The Hague"]),
        ("It was Marlow's call.", "Marlow's", "PERSON", ["Marlow"]),
        ("The Jameses' house.", "Jameses'", "PERSON", ["Jameses"]),
        ("Kettering 212 all out", "Kettering 212", "ORG", ["Kettering"]),
        ("OSLOVIA 2031-04-02 Rain fell.", "OSLOVIA 2031-04-02", "GPE", ["OSLOVIA"]),
        ("Ames 3 T. Brook not out", "Ames 3 T. Brook", "PERSON", ["Ames", "T. Brook"]),
        ("Ida Lund (Norway) 51.2", "Ida Lund (Norway)", "PERSON", ["Ida Lund", "Norway"]),
        ("Norland - Ivo Kask, 10", "Norland - Ivo Kask", "PERSON", ["Norland", "Ivo Kask"]),
        ("Ana Vidal and Tom Ek won", "Ana Vidal and Tom Ek", "PERSON", ["Ana Vidal", "Tom Ek"]),
        ("Bosnia and Herzegovina voted", "Bosnia and Herzegovina", "GPE", ["Bosnia and Herzegovina"]),
        ("the Tassen news agency reported", "the Tassen news agency", "ORG", ["Tassen"]),
        ("troops left the U.S. today", "the U.S.", "GPE", ["U.S."]),
        ("Milk Co. said", "Milk Co.", "ORG", ["Milk Co."]),
        ("(Corvina Bank) said", "(Corvina Bank)", "ORG", ["Corvina Bank"]),
        ("a vote in congress", "congress", "ORG", []),
        ("scored 123 today", "123", "PERSON", []),
        ("on 12 March 2031", "12 March 2031", "DATE", ["12 March 2031"]),
        ("talked to de Gaulle", "de Gaulle", "PERSON", ["de Gaulle"]),
    ],
)
def test_entities_trim_span_keeps_only_the_name(text, surface, label, expected):
    assert cut(text, surface, label) == expected


@given(st.text(alphabet="aZ ’'.-(),;0123456789ßİ\n", max_size=40), st.data())
def test_entities_trim_span_parts_lie_inside_the_span(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for s, e in trim_span(text, start, end, data.draw(st.sampled_from(["PERSON", "ORG", "DATE"]))):
        assert start <= s < e <= end


def test_entities_merge_surname_into_the_full_name_by_majority_type():
    headline = "Raid leader Baghdadi flees"
    body = ("Abu Bakr al-Baghdadi has fled. Aides say Baghdadi left at night.\n\n"
            "Baghdadi was last seen in May. Rivals of Baghdadi waited.")
    spans = spans_in(headline, ("Baghdadi", "PERSON"), field="headline") + spans_in(
        body, ("Abu Bakr al-Baghdadi", "PERSON"), ("Baghdadi", "ORG"), ("Baghdadi", "NORP"),
        ("Baghdadi", "ORG"))
    [entity] = merge_entities(spans)
    assert (entity.name, entity.type, entity.aliases) == ("Abu Bakr al-Baghdadi", "PERSON", ("Baghdadi",))
    assert entity.mentions[0].field == "headline" and len(entity.mentions) == 5


@pytest.mark.parametrize(
    ("full", "short", "merged"),
    [
        ("Vincent van Gogh", "van Gogh", True),
        ("Vincent van Gogh", "Van Gogh", True),
        ("Osama bin Laden", "bin Laden", True),
        ("Osama bin Laden", "Laden", False),
        ("Charles de Gaulle", "de Gaulle", True),
        ("George W. Bush", "George Bush", True),
        ("Martin Luther King Jr.", "King", True),
        ("Ursula von der Leyen", "von der Leyen", True),
        ("Anna Berg", "Anna", True),
        ("J. Berg", "J.", False),
    ],
)
def test_entities_merge_short_forms_with_particles(full, short, merged):
    text = f"{full} spoke. Later {short} left."
    entities = merge_entities(spans_in(text, (full, "PERSON"), (short, "PERSON")))
    assert (len(entities) == 1) == merged
    assert entities[0].name == full


def test_entities_ambiguous_surname_stays_apart():
    text = "Rupert Jones met Tom Jones. Jones said no."
    entities = merge_entities(spans_in(text, ("Rupert Jones", "PERSON"), ("Tom Jones", "PERSON"), ("Jones", "PERSON")))
    assert [e.name for e in entities] == ["Rupert Jones", "Tom Jones", "Jones"]


@pytest.mark.parametrize(
    ("full", "label", "acronym"),
    [
        ("Kurdistan Democratic Party", "ORG", "KDP"),
        ("Organisation for Security and Cooperation in Europe", "ORG", "OSCE"),
        ("United States", "GPE", "U.S."),
    ],
)
def test_entities_merge_acronym_into_its_expansion(full, label, acronym):
    text = f"The {full} ({acronym}) met. The {acronym} said no."
    entities = merge_entities(spans_in(text, (full, label), (acronym, label), (acronym, "ORG")))
    assert [(e.name, e.type, e.aliases) for e in entities] == [(full, label, (acronym,))]


def test_entities_same_surface_in_capitals_is_one_entity_named_in_mixed_case():
    spans = spans_in("KETTERING WIN", ("KETTERING", "ORG"), field="headline") + spans_in(
        "Kettering won. Kettering are top.", ("Kettering", "ORG"), ("Kettering", "ORG"))
    [entity] = merge_entities(spans)
    assert (entity.name, entity.type, entity.aliases) == ("Kettering", "ORG", ("KETTERING",))


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["PERSON", "ORG"], "PERSON"),  # a tie goes to the earliest of equally full mentions
        (["ORG", "PERSON"], "ORG"),
        (["ORG", "PERSON", "PERSON"], "PERSON"),
    ],
)
def test_entities_one_surface_is_one_entity_typed_by_majority_vote(labels, expected):
    text = " ".join(["Isler spoke."] * len(labels))
    found = spans_in(text, *[("Isler", label) for label in labels])
    assert [e.type for e in merge_entities(found)] == [expected]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["PERSON", "ORG"], "PERSON"),  # a tie goes to the fullest mention
        (["PERSON", "ORG", "ORG"], "ORG"),
    ],
)
def test_entities_short_form_joined_entity_takes_the_majority_type(labels, expected):
    full, *shorts = labels
    text = "Anna Isler spoke. " + " ".join(["Isler spoke."] * len(shorts))
    found = spans_in(text, ("Anna Isler", full), *[("Isler", label) for label in shorts])
    assert [e.type for e in merge_entities(found)] == [expected]


def test_entities_repeats_do_not_vote():
    text = "Anna Corvina said. Corvina agreed. Corvina left. Corvina won."
    spans = spans_in(text, ("Anna Corvina", "PERSON"), ("Corvina", "ORG"))
    echoes = [TaggedSpan(Mention("Corvina", s, s + 7, "body"), "ORG", votes=False)
              for s in (text.index("Corvina left"), text.index("Corvina won"))]
    assert [e.type for e in merge_entities([*spans, *echoes])] == ["PERSON"]


def test_entities_gazetteer_key_gives_name_label_and_uri():
    gazetteer = build_gazetteer([
        GazetteerEntry("ORG", "Islamic State", "Q2429253", "Islamic State"),
        GazetteerEntry("ORG", "IS", "Q2429253"),
    ])
    text = "IS fighters left. The Islamic State group lost."
    ruler = TaggedSpan(Mention("IS", 0, 2, "body"), "ORG", "Q2429253")
    model = spans_in(text, ("Islamic State", "GPE"))  # the model's span gets the id by its surface
    [entity] = merge_entities([ruler, *model], gazetteer)
    assert entity == Entity("Islamic State", "ORG", (ruler.mention, model[0].mention), ("IS",),
                            "http://www.wikidata.org/entity/Q2429253")


def test_entities_merge_drops_numeric_labels_and_duplicates_and_orders_by_first_mention():
    text = "On May 13 Oslovia and Corvina met in Oslovia."
    spans = spans_in(text, ("May 13", "DATE"), ("Oslovia", "GPE"), ("Corvina", "ORG"), ("Oslovia", "GPE"))
    headline = spans_in("Corvina wins", ("Corvina", "ORG"), field="headline")
    entities = merge_entities([*spans, spans[1], *headline])
    assert [(e.name, len(e.mentions)) for e in entities] == [("Corvina", 2), ("Oslovia", 2)]


def test_entities_mentions_index_their_field():
    headline = "Corvina Bank cuts rates"
    paragraphs = ["Corvina Bank said on Monday.", "Ann Lee, its chief, agreed with Ann Lee's team."]
    body = "\n\n".join(paragraphs)
    spans = spans_in(headline, ("Corvina Bank", "ORG"), field="headline")
    spans += spans_in(body, ("Corvina Bank", "ORG"), ("Ann Lee", "PERSON"))
    spans += repeat_mentions([("headline", 0, headline), ("body", 0, body)], spans)
    for entity in merge_entities(spans):
        for m in entity.mentions:
            assert (headline if m.field == "headline" else body)[m.start:m.end] == m.text
    assert sum(len(e.mentions) for e in merge_entities(spans)) == 4


@pytest.mark.parametrize(
    ("headline", "found"),
    [
        ("KETTERING SIGN ELLIS IS CLOSE", [("KETTERING", "headline"), ("ELLIS", "headline")]),
        ("Kettering sign Ellis", [("Kettering", "headline"), ("Ellis", "headline")]),
        ("Ketteringham sign Ellison", []),
    ],
)
def test_entities_repeat_mentions_finds_untagged_copies(headline, found):
    body = "Kettering signed Ellis. The IS unit left."
    spans = spans_in(body, ("Kettering", "ORG"), ("Ellis", "PERSON"), ("IS", "ORG"))
    units = [("headline", 0, headline), ("body", 0, body)]
    assert [(s.mention.text, s.mention.field) for s in repeat_mentions(units, spans)] == found


def test_entities_repeat_mentions_respects_other_spans():
    body = "May Lin spoke. On May 13 she left."
    spans = spans_in(body, ("May", "PERSON"), ("May 13", "DATE"))
    assert repeat_mentions([("body", 0, body)], spans) == []


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("Abu Bakr al-Baghdadi", {"bakr al-baghdadi", "al-baghdadi", "baghdadi", "abu al-baghdadi", "abu"}),
        ("Rupert Jones", {"jones", "rupert"}),
        ("Osama bin Laden", {"bin laden", "osama laden", "osama"}),
        ("Madonna", set()),
    ],
)
def test_entities_short_forms(name, forms):
    assert short_forms(name) == forms


@pytest.mark.parametrize(
    ("name", "letters"),
    [("Kurdistan Democratic Party", "KDP"), ("Bank of England", "BE"), ("Anti-Doping Agency", "ADA")],
)
def test_entities_initials(name, letters):
    assert initials(name) == letters


def test_entities_ninjs_subjects_fill_people_organisations_places():
    m = Mention("x", 0, 1, "body")
    entities = [
        Entity("Abu Bakr al-Baghdadi", "PERSON", (m,), ("Baghdadi",)),
        Entity("Islamic State", "ORG", (m,), ("IS",), "http://www.wikidata.org/entity/Q2429253"),
        Entity("Mosul", "GPE", (m,)),
        Entity("Tigris", "LOC", (m,)),
        Entity("Iraqi", "NORP", (m,)),
    ]
    subjects = ninjs_subjects(entities)
    assert subjects == {
        "people": [{"name": "Abu Bakr al-Baghdadi", "rel": "mentions", "literal": "abu-bakr-al-baghdadi"}],
        "organisations": [{"name": "Islamic State", "rel": "mentions",
                           "uri": "http://www.wikidata.org/entity/Q2429253", "literal": "islamic-state"}],
        "places": [{"name": "Mosul", "rel": "mentions", "literal": "mosul"},
                   {"name": "Tigris", "rel": "mentions", "literal": "tigris"}],
    }
    ninjs = {"uri": "urn:t:1", "type": "text", **subjects}
    assert not list(validator("ninjs-schema_3.1.json").iter_errors(ninjs))


def test_entities_core_never_imports_spacy():
    code = ("import sys, streams.core.entities, streams.core.gazetteer, streams.core.casing;"
            "print('spacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("text", "surface", "expected"),
    [
        ("WARSAW 1996-08-30 The National Bank of Poland said.", "The National Bank of Poland", ["National Bank of Poland"]),
        ("OSLO (Newswire) - The Corvina Group said.", "The Corvina Group", ["Corvina Group"]),
        ("He flew to The Hague in 1996 and The Hague ruled.", "The Hague", ["The Hague"]),
    ],
)
def test_entities_the_after_a_dateline_opens_a_sentence(text, surface, expected):
    assert cut(text, surface, "ORG") == expected
