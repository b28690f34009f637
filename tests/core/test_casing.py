import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.casing import (
    add_dateline_places,
    case_forms,
    dateline_places,
    recase,
    shouted_words,
    starts_sentence,
)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_casing_recase_never_moves_a_character(text):
    out = recase(text, case_forms([text]))
    assert len(out) == len(text)
    assert all(a.lower() == b.lower() or a == b for a, b in zip(text, out))


@pytest.mark.parametrize(
    ("text", "others", "expected"),
    [
        (
            "FOOTBALL - KETTERING TAKE TOP SPOT AFTER WIN.",
            ["Kettering beat Corby 2-0 to take the top spot on Saturday."],
            "Football - Kettering take top spot after win.",
        ),
        ("OSLOVIA 2031-04-02 The NATO envoy met US officials.", [], "Oslovia 2031-04-02 The NATO envoy met US officials."),
        ("The US and NATO said the UN would act.", [], "The US and NATO said the UN would act."),
        ("NATO ALLIES MEET IN OSLO", ["NATO leaders and Oslo officials met."], "NATO allies meet in Oslo"),
        ("STRASSE BLOCKED BY SNOW", [], "Strasse blocked by snow"),
    ],
)
def test_casing_recase_spells_shouted_words_as_the_article_does(text, others, expected):
    assert recase(text, case_forms([text, *others])) == expected


@pytest.mark.parametrize(
    ("text", "shouted"),
    [
        ("GOLF - LEADING SCORES", ["GOLF", "LEADING", "SCORES"]),
        ("The IMF and EU agreed.", []),
        ("Talks at the UN HEADQUARTERS BUILDING went on.", ["UN", "HEADQUARTERS", "BUILDING"]),
        ("Ann Lee OSLOVIA 2031-04-02 Rain.", ["OSLOVIA"]),
        ("US officials said", []),
    ],
)
def test_casing_shouted_words_are_runs_headlines_and_datelines(text, shouted):
    assert [text[s:e] for s, e in shouted_words(text)] == shouted


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("OSLOVIA 2031-04-02 Rain fell.", ["OSLOVIA"]),
        ("Ann Lee PORT ELLIS, NORLAND 2031-04-02 Rain.", ["PORT ELLIS", "NORLAND"]),
        ("KESTREL BAY (Newswire) - Rain fell.", ["KESTREL BAY"]),
        ("EL-MINA, Upper Valley 2031-04-02 Rain.", ["EL-MINA", "Upper Valley"]),  # city, region
        ("MANCHESTER, England 1996-08-31 Results", ["MANCHESTER", "England"]),
        ("OSLOVIA, March 3 - Rain fell.", ["OSLOVIA"]),
        ("NATO said on Monday it would act.", []),
        ("The US said 12 ships sailed.", []),
    ],
)
def test_casing_dateline_places(text, places):
    assert [text[s:e] for s, e in dateline_places(text)] == places


def test_casing_add_dateline_places_fills_gaps_and_respects_the_model():
    text = "Ann Lee OSLOVIA 2031-04-02 Rain fell on Oslovia."
    byline = (0, 15, "PERSON", "")  # the model ran the byline into the place
    added = add_dateline_places(text, [byline])
    assert [(text[s:e], label) for s, e, label, _ in added] == [("Ann Lee ", "PERSON"), ("OSLOVIA", "GPE")]
    tagged = (8, 15, "ORG", "")
    assert add_dateline_places(text, [tagged]) == [tagged]


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("Rain fell.", "Rain", True),
        ('  " Rain fell."', "Rain", True),
        ("It rained. Rain fell.", "Rain fell", True),
        ("It rained; Rain fell.", "Rain fell", True),
        ("Talks at (The Oval) ended.", "The", False),
        ("heavy Rain fell", "Rain", False),
    ],
)
def test_casing_starts_sentence(text, word, expected):
    assert starts_sentence(text, text.index(word)) is expected
