"""Article-level refinements of model spans, on hand-built text with stub model spans."""

import pytest

from streams.core import rules
from streams.core.entities import merge_entities
from streams.core.spans import TaggedSpan
from streams.core.mentions import ItemMetadata, refine, role_before, strip_role
from streams.core.models import Mention


def spans(text, *found, field="body"):
    out, at = [], 0
    for surface, label in found:
        start = text.index(surface, at)
        at = start + len(surface)
        out.append(TaggedSpan(Mention(surface, start, at, field), label))
    return out


def refined(text, *found, metadata=ItemMetadata(), headline=None):
    units = [("body", 0, text)] if headline is None else [("headline", 0, headline), ("body", 0, text)]
    tagged = spans(text, *found)
    return [(s.mention.text, s.label, s.role) for s in refine(units, tagged, metadata)]


@pytest.mark.parametrize(
    ("text", "surface", "label", "expected"),
    [
        ("Councillor Pieter de Vries said so.", "Councillor Pieter de Vries", "ORG",
         ("Pieter de Vries", "PERSON", "Councillor")),
        ("Prime Minister John Howard said so.", "Prime Minister John Howard", "PERSON",
         ("John Howard", "PERSON", "Prime Minister")),
        ("Mr Massoud left.", "Mr Massoud", "PERSON", ("Massoud", "PERSON", "Mr")),
        # Not titles: a company named with a role word, a title alone, a one-word org.
        ("General Motors said so.", "General Motors", "ORG", ("General Motors", "ORG", None)),
        ("The President said so.", "President", "PERSON", ("President", "PERSON", None)),
        ("Chief Sports plc fell.", "Chief Sports", "ORG", ("Chief Sports", "ORG", None)),
    ],
)
def test_mentions_title_is_cut_from_the_name_and_recorded(text, surface, label, expected):
    [got] = refined(text, (surface, label))
    assert got == expected


def test_mentions_role_written_before_a_name_is_recorded():
    text = '"It is old," said operations director Ana Lindqvist.'
    assert refined(text, ("Ana Lindqvist", "PERSON")) == [("Ana Lindqvist", "PERSON", "operations director")]
    assert role_before("She met Ana Lindqvist.", len("She met ")) is None


def test_mentions_strip_role_keeps_offsets():
    text = "Yesterday Senator Ida Lund voted."
    start, role = strip_role(text, 10, 26)
    assert (text[start:26], role) == ("Ida Lund", "Senator")


def test_mentions_outlet_is_never_a_person_and_byline_names_a_person():
    text = "Sign up for the Harbour Gazette briefing. Ana Berg reports."
    meta = ItemMetadata(source="Harbour Gazette", by="Ana Berg and Li Wei")
    assert refined(text, ("Harbour Gazette", "PERSON"), ("Ana Berg", "ORG"), metadata=meta) == [
        ("Harbour Gazette", "ORG", None), ("Ana Berg", "PERSON", None)]
    # Without the metadata the model's labels stand.
    assert refined(text, ("Harbour Gazette", "PERSON"))[0][1] == "PERSON"


def test_mentions_sentence_initial_common_word_is_dropped():
    headline = "River levels fall as towns clean up"
    body = "Water on the Avenmore river fell. Council leader Sam Okafor spoke to the town council."
    units = [("headline", 0, headline), ("body", 0, body)]
    tagged = spans(headline, ("River", "LOC"), field="headline") + spans(
        body, ("Avenmore", "GPE"), ("Council", "ORG"), ("Sam Okafor", "PERSON"))
    kept = [(s.mention.text, s.label) for s in refine(units, tagged, ItemMetadata())]
    assert kept == [("Avenmore", "GPE"), ("Sam Okafor", "PERSON")]


def test_mentions_sentence_initial_name_not_written_in_lower_case_is_kept():
    text = "Kestrel said on Monday it would sell. Shares of Kestrel rose."
    assert [s[0] for s in refined(text, ("Kestrel", "ORG"))] == ["Kestrel"]


def test_mentions_names_next_to_scores_in_a_results_line_are_teams():
    line = "Wigan 2 Bolton 1 Crewe 0 Exeter 3"
    got = refined(line, ("Wigan", "GPE"), ("Bolton", "PERSON"), ("Crewe", "GPE"), ("Exeter", "GPE"))
    assert {label for _, label, _ in got} == {"ORG"}
    # Prose with a number after a place is not a results line.
    prose = "The minister flew to Wigan 2 days after the vote and met local officials there."
    assert refined(prose, ("Wigan", "GPE")) == [("Wigan", "GPE", None)]


def test_mentions_name_before_a_bracketed_place_is_a_person():
    line = "1. Ana Vidal (Spain) 3:31.526 2. Ida Lund (Norway) 3:32.100"
    got = refined(line, ("Ana Vidal", "ORG"), ("Spain", "GPE"), ("Ida Lund", "GPE"), ("Norway", "GPE"))
    assert got == [("Ana Vidal", "PERSON", None), ("Spain", "GPE", None), ("Ida Lund", "PERSON", None),
                   ("Norway", "GPE", None)]


def test_mentions_roles_become_entity_roles():
    text = "Councillor Pieter de Vries spoke. De Vries said yes."
    tagged = refine([("body", 0, text)], spans(text, ("Councillor Pieter de Vries", "ORG")), ItemMetadata())
    [entity] = merge_entities(tagged)
    assert (entity.name, entity.type, entity.roles) == ("Pieter de Vries", "PERSON", ("Councillor",))


def test_mentions_a_switched_off_rule_changes_nothing():
    text = "Councillor Pieter de Vries said so."
    rules.disabled.add("roles")
    try:
        assert refined(text, ("Councillor Pieter de Vries", "ORG")) == [("Councillor Pieter de Vries", "ORG", None)]
    finally:
        rules.disabled.discard("roles")
    with pytest.raises(KeyError):
        rules.on("no_such_rule")


def test_mentions_untagged_list_items_take_the_list_s_type():
    text = "Title rivals Essex, Derbyshire and Surrey all won."
    got = refined(text, ("Essex", "ORG"), ("Surrey", "ORG"))
    assert ("Derbyshire", "ORG", None) in got
    # Two items are no list evidence, and a list of mixed types adds nothing.
    assert refined("Smith and Wesson rose.", ("Smith", "PERSON")) == [("Smith", "PERSON", None)]
    mixed = refined("He met Oslo, Bergen and Kettering.", ("Oslo", "GPE"), ("Kettering", "ORG"))
    assert [s for s, _, _ in mixed] == ["Oslo", "Kettering"]


def test_mentions_list_members_echo_and_do_not_vote():
    text = "Did not bat: Vaas, Dharmasena, Muralitharan."
    units = [("body", 0, text)]
    [echo] = [s for s in refine(units, spans(text, ("Vaas", "PERSON"), ("Muralitharan", "PERSON")), ItemMetadata())
              if s.mention.text == "Dharmasena"]
    assert (echo.label, echo.votes) == ("PERSON", False)


def test_mentions_untagged_names_before_scores_in_a_results_line_are_teams_or_players():
    line = "Harlequins 75 Gloucester 19 London Irish 27 Bristol 28"
    got = refined(line, ("Bristol", "GPE"))
    assert {(s, label) for s, label, _ in got} == {
        ("Harlequins", "ORG"), ("Gloucester", "ORG"), ("London Irish", "ORG"), ("Bristol", "ORG")}
    scorecard = "W. Athey 5 M2 7 Extras 5 extras 3 K. Curran 12"
    assert {(s, label) for s, label, _ in refined(scorecard)} == {("W. Athey", "PERSON"), ("K. Curran", "PERSON")}
    prose = "Harlequins 75, the club said on Monday after a long and difficult season in London."
    assert refined(prose) == []
