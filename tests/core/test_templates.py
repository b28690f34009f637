import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.fingerprint import exact_fingerprint
from streams.core.normalise import normalise
from streams.core.templates import pinned_share, skeleton_keys, token_count, table_rows, template_keys


def fingerprints(text: str) -> set[int]:
    return {fingerprint for fingerprint, _ in template_keys(text)}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Words by Ann Lee; checks by Bo Park", "Words by Dev Rao; checks by Cy Moss"),
        ("See also: Tram fares frozen for a year", "See also: New bridge opens to cyclists"),
        ("3 min read", "12 min read"),
        ("Tips | The newsroom inbox", "Tips | Call our desk"),
        ("Updated 14:05 GMT on 3 March 2031", "Updated 9:40 GMT on 28 July 2032"),
        ("Write to the desk at ann.lee@paper.example or see www.paper.example/tips",
         "Write to the desk at bo.park@paper.example or see www.paper.example/contact"),
    ],
)
def test_templates_survive_changed_names_headlines_dates_and_links(one, other):
    assert fingerprints(one) and fingerprints(one) & fingerprints(other)


@pytest.mark.parametrize("slots", [1, 3, 8])
def test_templates_long_credit_lines_of_any_length_meet(slots):
    def credit(names: list[str]) -> str:
        people = " and ".join(names[:slots])
        return (
            f"Additional reporting by {people} in {names[-1]}; writing by {names[0]}; editing by "
            "the night desk, with research from the library team, graphics by the data unit and "
            "pictures from the agency pool; corrections go to the readers' editor"
        )

    one = credit(["Ann Lee", "Bo Park", "Cy Moss", "Dee Ray", "Eli Fox", "Fay Orr", "Gil Day", "Hal Roe", "Rome"])
    other = credit(["Ivo Tan", "Jo Kerr", "Kit Dunn", "Lu Ash", "Mo Hart", "Ned Bale", "Oz Pike", "Pia Lamb", "Oslo"])
    assert len(one.split()) > 30  # no length cut-off
    assert fingerprints(one) & fingerprints(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("See also: Tram fares frozen", "Read next: Tram fares frozen"),
        ("3 min read", "3 min listen"),
        ("Words by Ann Lee", "Photos by Ann Lee"),
        ("Ann Lee said on Monday that the bridge would reopen in spring.",
         "Bo Park said on Monday that the ferry would stop in winter."),
    ],
)
def test_templates_tell_different_lines_apart(one, other):
    assert not fingerprints(one) & fingerprints(other)


@pytest.mark.parametrize(
    "text",
    [
        "Shares in Acme Mining rose 5% to 120p in early trading",
        "Leeds North: Labour 12,345",
        "Arsenal 2-1 Chelsea",
        "The city recorded 38.5mm of rain on Tuesday, the council said",
        "Fares will rise by 250 pounds for every passenger from March",
        "Arsenal: Lehmann, Lauren, Toure, Campbell, Cole",
    ],
)
def test_templates_lines_whose_slots_hold_facts_get_none(text):
    assert template_keys(text) == ()


def test_templates_weak_skeleton_is_a_sentence_with_few_slots():
    (credit,) = template_keys("Reporting by Ann Lee; Editing by Bo Park")
    (sentence,) = template_keys("Volunteers in Ashby repaired the old bandstand before the fair, helped by the school.")
    assert credit[1] and not sentence[1]


def test_templates_are_not_exact_fingerprints():
    text = "three min read"
    assert not fingerprints(text) & {exact_fingerprint(normalise(text))}


def test_templates_table_rows_are_lines_sharing_a_form_with_figures():
    lines = [
        "Results from the count overnight are below.",
        "Leeds North: Labour 12,345",
        "Leeds South: Labour 11,002",
        "York Central: Conservative 9,870",
        "Share this article",
        "3 min read",
    ]
    assert table_rows(lines) == {1, 2, 3}
    assert table_rows(lines[:3] + lines[4:]) == set()  # two rows are not yet a table


@settings(max_examples=500)
@given(st.text(alphabet=" a\t\n\u00a0\u2003\u1680\x1f.\u00e9", max_size=30))
def test_templates_token_count_is_the_number_of_split_words(text):
    # the fast count (printable text, single spaces) must agree with str.split on every whitespace
    assert token_count(text) == len(text.split())


_TOKENS = st.sampled_from(["the", "said", "on", "Monday", "Ana", "Vidal", "(Reuters)", "\u201cQuoted\u201d", "-Bob",
                           "'Ann", "\u2014", "|", "...", "\u00c9cole", "Ελλάδα", "x@y.co", "www.a.io/b", "2030",
                           "12:30", "May", "3rd", "and", "photo", "by"])
_SPACES = st.sampled_from([" ", " ", " ", "  ", "\t", "\u00a0", " - "])


@settings(max_examples=800)
@given(st.lists(st.tuples(_TOKENS, _SPACES), min_size=2, max_size=24))
def test_templates_skeleton_strength_is_the_share_of_slot_words(parts):
    # strong iff at least a third of the line's words are slots, counted on str.split however
    # the line is spaced (the skeleton's lower bound of the word count must never overshoot)
    text = "".join(token + space for token, space in parts).strip()
    found = skeleton_keys(text)
    if found:
        (_, strong), = found
        slot_share = 1 - pinned_share(text)  # pinned_share: 1 - slots / len(text.split()), rounded
        assert strong == (slot_share >= 1 / 3 - 1e-4)
