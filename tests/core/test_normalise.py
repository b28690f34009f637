import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.normalise import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Harbour Bridge reopened.", "the harbour bridge reopened"),
        ("\u201cWe\u2019re back,\u201d she said.", "were back she said"),
        ('"We\'re back," she said.', "were back she said"),
        ("  spaced \t out\u00a0\u00a0words \n", "spaced out words"),
        ("Fares rose 12% to \u00a34.50 in 2031", "fares rose 12 to 450 in 2031"),
        ("Fares rose \uff11\uff12% in \u0663\u0660 days", "fares rose 12 in 30 days"),
        ("STRASSE and Stra\u00dfe", "strasse and strasse"),
        ("\ufb01sh and chips", "fish and chips"),
        ("co\u00adoperate\u200b now", "cooperate now"),
        ("Caf\u00e9 \u2014 open \u2026 daily \u00a9 \U0001f600", "caf\u00e9 open daily"),
        ("Brand\u2122 goods", "brandtm goods"),
        ("rock & roll / jazz", "rock roll jazz"),
        ("***", ""),
        ("", ""),
    ],
)
def test_normalise_cases(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("It's 5 min read", "It\u2019s 5 min read"),
        ("Market  closes\u00a0early", "market closes early"),
        ("Share this story!", "Share this story"),
        ("First line", "  First line  "),
    ],
)
def test_normalise_variants_meet(one, other):
    assert normalise(one) == normalise(other)


@pytest.mark.parametrize(("one", "other"), [("Labour 12,345", "Labour 11,002"), ("Item 1: bread", "Item 2: bread")])
def test_normalise_keeps_numbers_apart(one, other):
    assert normalise(one) != normalise(other)


def test_normalise_keeps_letters_of_other_scripts():
    assert normalise("\u041c\u043e\u0441\u043a\u0432\u0430, \u6771\u4eac!") == (
        "\u043c\u043e\u0441\u043a\u0432\u0430 \u6771 \u4eac"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Chinese and Japanese: every character a token, punctuation (full-width too) dropped
        ("市政府今天宣布，公交延长运营。", "市 政 府 今 天 宣 布 公 交 延 长 运 营"),
        ("東京都は3日、ｺﾛﾅの感染者が", "東 京 都 は 3 日 コ ロ ナ の 感 染 者 が"),
        ("iPhone手机2024年上市", "iphone 手 机 2024 年 上 市"),
        # Thai: a vowel or tone mark stays on its consonant
        ("\u0e27\u0e31\u0e19\u0e19\u0e35\u0e49", "\u0e27\u0e31 \u0e19 \u0e19\u0e35\u0e49"),
        # Korean is written with spaces between words: left as words
        ("서울 시민들이 환영했다.", "서울 시민들이 환영했다"),
        # German and Nordic letters: ß folds to ss, å æ ø stay letters of their own
        ("Die STRASSE, die Straße", "die strasse die strasse"),
        ("Ærlig talt: Ørsted på Ålesund", "ærlig talt ørsted på ålesund"),
    ],
)
def test_normalise_languages(text, expected):
    assert normalise(text) == expected


def test_normalise_decomposed_and_precomposed_letters_meet():
    assert normalise("A\u030alesund og Tromso\u0308") == normalise("\u00c5lesund og Troms\u00f6") == "ålesund og tromsö"


@given(st.text())
def test_normalise_output_is_collapsed_and_has_no_ascii_punctuation(text):
    out = normalise(text)
    assert out == " ".join(out.split())
    assert not set(out) & set(string.punctuation + string.ascii_uppercase)


@given(st.text(alphabet=st.characters(max_codepoint=0x2FFF)))
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(alphabet=string.printable))
def test_normalise_ascii_fast_path_agrees_with_the_unicode_path(text):
    # a trailing non-ASCII letter forces the Unicode path; it must not change the rest
    assert normalise(text + " \u00e9") == (normalise(text) + " \u00e9").strip()
