import random

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.fingerprint import (
    exact_fingerprint,
    kgram_hashes,
    key_paragraph,
    winnow,
    winnow_positions,
    winnowed_fingerprints,
)
from streams.core.normalise import normalise

K, W = 5, 4
T = K + W - 1  # the guarantee threshold in words

VOCABULARY = [f"w{n}" for n in range(400)]


def test_fingerprint_exact_is_xxh3_of_the_normalised_text():
    assert exact_fingerprint("tide tables") == xxhash.xxh3_64_intdigest(b"tide tables")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("The ferry left at 9am.", "the ferry left at 9am"),
        ("\u201cSafe,\u201d he said.", '"Safe," he said.'),
    ],
)
def test_fingerprint_exact_meets_variants(one, other):
    assert key_paragraph(one).fingerprint == key_paragraph(other).fingerprint


@pytest.mark.parametrize(
    ("one", "other"),
    [("The ferry left at 9am.", "The ferry left at 7am."), ("Turnout was 1.5%", "Turnout was 15%"), ("Won 2-1", "Won 21")],
)
def test_fingerprint_exact_keeps_figures_apart(one, other):
    assert key_paragraph(one).fingerprint != key_paragraph(other).fingerprint


def test_fingerprint_key_counts_words_and_marks_empty_paragraphs():
    assert key_paragraph("Boats, bikes and buses.").words == 4
    empty = key_paragraph("* * *")
    assert (empty.normalised, empty.words) == ("", 0)


def test_fingerprint_kgram_hashes_are_rabin_karp_polynomials():
    words = ["river", "barge", "lock", "keeper", "gate", "tow"]
    base, mask = 0x100000001B3, (1 << 64) - 1

    def direct(gram):
        value = 0
        for word in gram:
            value = (value * base + xxhash.xxh3_64_intdigest(word.encode())) & mask
        return value

    assert kgram_hashes(words, 3) == [direct(words[i : i + 3]) for i in range(4)]
    assert kgram_hashes(words[:2], 3) == [direct(words[:2])]
    assert kgram_hashes([], 3) == []


def test_fingerprint_winnow_picks_window_minima():
    assert winnow([5, 3, 9, 4, 8, 1, 7], 3) == {3, 4, 1}
    assert winnow([6, 2], 3) == {2}
    assert winnow([], 3) == frozenset()


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from(VOCABULARY), max_size=30),
    st.lists(st.sampled_from(VOCABULARY), min_size=T, max_size=40),
    st.lists(st.sampled_from(VOCABULARY), max_size=30),
    st.lists(st.sampled_from(VOCABULARY), max_size=30),
)
def test_fingerprint_winnowing_always_detects_a_shared_run_of_t_words(before, shared, after, elsewhere):
    one = " ".join(before + shared + after)
    other = " ".join(elsewhere + shared)
    assert winnowed_fingerprints(one, K, W) & winnowed_fingerprints(other, K, W)


def test_fingerprint_winnowing_ignores_runs_shorter_than_k():
    rng = random.Random(3)
    left = [f"a{n}" for n in range(60)]
    right = [f"b{n}" for n in range(60)]
    common = ["tide", "turns", "at", "dawn"]  # k - 1 words
    one = " ".join(rng.sample(left, 20) + common + rng.sample(left, 20))
    other = " ".join(rng.sample(right, 20) + common + rng.sample(right, 20))
    assert not winnowed_fingerprints(one, K, W) & winnowed_fingerprints(other, K, W)


def test_fingerprint_winnowing_keeps_about_two_in_w_plus_one():
    rng = random.Random(11)
    text = " ".join(rng.choice(VOCABULARY) for _ in range(5000))
    density = len(winnowed_fingerprints(text, K, W)) / (5000 - K + 1)
    assert 0.3 < density < 0.5  # 2 / (w + 1) = 0.4


def test_fingerprint_chinese_paragraph_gets_character_kgrams():
    text = "市政府今天宣布，从下个月起，全市公共汽车将延长夜间运营时间，方便晚归的市民出行。"
    key = key_paragraph(text)
    assert key.words == 36  # one token per character, punctuation dropped
    fingerprints = winnowed_fingerprints(key.normalised, 5, 4)
    assert len(fingerprints) > 5  # not the one hash of a single giant "word"
    # a run of t = 8 characters shared with another text is found
    other = normalise("记者了解到，全市公共汽车将延长夜间服务")
    assert fingerprints & winnowed_fingerprints(other, 5, 4)


def test_fingerprint_winnow_positions_name_the_first_occurrence():
    hashes = [7, 3, 9, 3, 8, 1, 7, 1]
    positions = winnow_positions(hashes, 3)
    assert set(positions) == winnow(hashes, 3)
    assert all(hashes.index(value) == index for value, index in positions.items())
