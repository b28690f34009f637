import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.settings import DedupSettings
from streams.core.fingerprint import key_paragraph
from streams.core.models import Paragraph
from streams.core.edits import levenshtein
from streams.core.repeats import find_repeats

SETTINGS = DedupSettings()

LOCK = (
    "Engineers at Millbrook lock said the lower gates would be replaced over the winter, closing "
    "the canal to boats for eleven weeks."
)
TOLL = "The trust expects the work to cost about four million pounds, paid from mooring fees and a grant."
QUOTE = '"It is the biggest job on this stretch in forty years," said Irene Kowal, who runs the yard.'
WALK = "Walkers can still use the towpath, apart from a short diversion near the pumping house."
SHORT = "Boats must book a slot."
STANDFIRST = "A canal will close for the winter."


def paragraphs(*texts: str) -> list[Paragraph]:
    return [Paragraph(index, text) for index, text in enumerate(texts)]


def repeats_of(*texts: str, settings: DedupSettings = SETTINGS):
    items = paragraphs(*texts)
    return find_repeats(items, [key_paragraph(p.text) for p in items], settings)


def test_repeats_exact_copy_goes_and_first_copy_stays():
    removed = repeats_of(LOCK, TOLL, LOCK)
    assert list(removed) == [2]
    assert (removed[2].reason, removed[2].of, removed[2].similarity) == ("repeat", 0, 1.0)


def test_repeats_whitespace_only_copy_is_a_repeat():
    removed = repeats_of(LOCK, TOLL, "  " + LOCK.replace(" ", "  ", 3))
    assert removed[2].reason == "repeat"


def test_repeats_copy_equal_once_normalised_is_a_near_repeat():
    removed = repeats_of(QUOTE, TOLL, QUOTE.replace('"', "\u201c", 1).replace('"', "\u201d"))
    assert (removed[2].reason, removed[2].of, removed[2].similarity) == ("near_repeat", 0, 1.0)


@pytest.mark.parametrize(
    "edited",
    [
        LOCK.replace("winter", "wintre"),  # transposition
        LOCK.replace("replaced", "replacd"),  # deletion
        LOCK.replace("canal", "canall"),  # insertion
        QUOTE.replace("Irene", "lrene"),  # OCR: capital I read as l
        LOCK + " (Wire)",  # agency tag appended
        LOCK.replace("Engineers", "Engineers,").replace("weeks.", "weeks").replace("lock", "Lock"),
    ],
)
def test_repeats_near_copy_goes(edited):
    first = QUOTE if "Irene" in edited or "lrene" in edited else LOCK
    removed = repeats_of(first, TOLL, edited)
    assert list(removed) == [2]
    assert removed[2].reason == "near_repeat" and removed[2].of == 0
    assert 0.8 <= removed[2].similarity <= 1.0


def test_repeats_first_copy_with_a_tag_stays_and_the_bare_copy_goes():
    removed = repeats_of(LOCK + " (Wire)", TOLL, LOCK)
    assert list(removed) == [2] and removed[2].of == 0


def test_repeats_short_paragraph_with_a_typo_is_a_near_repeat():
    removed = repeats_of(SHORT, TOLL, "Boats must bok a slot.")
    assert list(removed) == [2]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Shares rose.", "Shares fell."),
        ("Boats must book a slot.", "Cars must book a slot."),
        (LOCK, LOCK.replace("eleven weeks", "a fortnight at most")),
    ],
)
def test_repeats_different_paragraphs_both_stay(one, other):
    assert repeats_of(one, TOLL, other) == {}


def test_repeats_paragraph_extended_by_a_sentence_stays():
    extended = LOCK + " A public meeting about the closure is planned for next month at the village hall."
    assert repeats_of(LOCK, TOLL, extended) == {}


def test_repeats_chain_points_at_the_first_copy():
    removed = repeats_of(LOCK, LOCK.replace("canal", "canall"), LOCK.replace("canal", "canaal"))
    assert {index: removal.of for index, removal in removed.items()} == {1: 0, 2: 0}


def test_repeats_body_printed_twice_goes_as_one_block():
    body = [STANDFIRST, LOCK, TOLL, QUOTE, WALK]
    removed = repeats_of(*body, *body[1:])
    assert {index: removal.of for index, removal in removed.items()} == {5: 1, 6: 2, 7: 3, 8: 4}


def test_repeats_paragraph_reworded_inside_a_repeated_block_goes_with_it():
    reworded = TOLL.replace("about four million pounds", "roughly 4m pounds").replace("a grant", "grants")
    removed = repeats_of(LOCK, TOLL, QUOTE, WALK, LOCK, reworded, QUOTE, WALK)
    assert removed[5].reason == "near_repeat" and removed[5].of == 1
    assert set(removed) == {4, 5, 6, 7}


def test_repeats_reworded_paragraph_outside_a_block_stays():
    reworded = TOLL.replace("about four million pounds", "roughly 4m pounds").replace("a grant", "grants")
    assert repeats_of(LOCK, TOLL, QUOTE, reworded) == {}


def test_repeats_body_printed_again_with_two_paragraphs_merged():
    removed = repeats_of(STANDFIRST, LOCK, TOLL, QUOTE, WALK, LOCK, TOLL + " " + QUOTE, WALK)
    assert set(removed) == {5, 6, 7}
    assert removed[6].reason == "near_repeat" and removed[6].of in (2, 3)
    assert removed[6].similarity >= 0.9


def test_repeats_body_printed_again_with_a_paragraph_split():
    removed = repeats_of(LOCK, TOLL + " " + QUOTE, WALK, LOCK, TOLL, QUOTE, WALK)
    assert set(removed) == {3, 4, 5, 6}
    assert (removed[4].of, removed[5].of) == (1, 1)


def test_repeats_paragraph_extended_after_a_repeat_stays():
    extended = TOLL + " The county council has offered a further sum towards new footbridges."
    assert set(repeats_of(LOCK, TOLL, QUOTE, LOCK, extended)) == {3}


def test_repeats_partial_rule_can_be_disabled():
    merged = repeats_of(
        LOCK, TOLL, QUOTE, WALK, LOCK, TOLL + " " + QUOTE, settings=DedupSettings(partial_min_containment=0)
    )
    assert set(merged) == {4}


def test_repeats_empty_paragraphs_stay():
    assert repeats_of("* * *", LOCK, "* * *", TOLL) == {}


def test_repeats_report_input_indices():
    items = [Paragraph(10, LOCK), Paragraph(11, TOLL), Paragraph(14, LOCK)]
    removed = find_repeats(items, [key_paragraph(p.text) for p in items], SETTINGS)
    assert removed[2].index == 14 and removed[2].of == 10


def _dynamic_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


SMALL_TEXT = st.text(alphabet="abc 0", max_size=40)


@settings(max_examples=300)
@given(SMALL_TEXT, SMALL_TEXT, st.integers(min_value=0, max_value=15))
def test_repeats_levenshtein_matches_the_dynamic_programme(a, b, limit):
    distance = _dynamic_levenshtein(a, b)
    assert levenshtein(a, b, limit) == (distance if distance <= limit else None)


def test_repeats_levenshtein_counts_a_space_lost_between_two_edits():
    # "by the" -> "bythe" beside "cat" -> "cxt": two edits, as a words-level count would miss
    a, b = "a cat sat on the warm mat by the door", "a cxt sat on the warm mat bythe door"
    assert _dynamic_levenshtein(a, b) == 2
    assert levenshtein(a, b, 1) is None
    assert levenshtein(a, b, 2) == 2
