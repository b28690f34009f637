"""Edit sizes between normalised paragraph texts, and whether an edit is a slip or another text.

Used by `repeats` for near repeats: `levenshtein` is the edit distance in characters, or None
above a budget; `changes_are_slips` says whether the changed words are typos and OCR slips of
the same words, not other words.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from rapidfuzz.distance import Levenshtein


def levenshtein(a: str, b: str, limit: int) -> int | None:
    """Edit distance in characters, or None when above `limit` (rapidfuzz: bit-parallel, in C++,
    and it stops once the distance must exceed `limit`)."""
    distance = Levenshtein.distance(a, b, score_cutoff=limit)
    return distance if distance <= limit else None


# characters an OCR engine takes for one another (casefolded): a slip, not another word
_OCR_CONFUSABLE = (frozenset("il1|"), frozenset("o0"), frozenset("s5"), frozenset("b8"), frozenset("z2"))


def _ocr_slip(a: str, b: str) -> bool:
    return len(a) == len(b) and all(
        x == y or any(x in group and y in group for group in _OCR_CONFUSABLE) for x, y in zip(a, b)
    )


def _alphabetic(text: str) -> bool:
    """Letters of scripts written with spaces between words (Latin, Greek, Cyrillic, Armenian),
    where a one- or two-letter word is a label ("Group A"); in Chinese or Japanese, which
    `normalise` cuts into one token a character, a changed character is an ordinary typo."""
    return all(ord(char) < 0x0530 for char in text)


def _transposed(a: str, b: str) -> bool:
    """Whether `b` is `a` with two adjacent characters swapped (a typo Levenshtein counts twice)."""
    if len(a) != len(b):
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]]


def changes_are_slips(a: str, b: str) -> bool:
    """Whether `b` is `a` edited, not another text: every word `b` changes stays recognisable
    (one letter in six, at least one, differs: a typo or an OCR slip, not another code or name; a word of one or two letters only by
    an OCR confusion, so "Group A" and "Group B" stay two lines), and words are added or dropped
    only at either end (an appended or removed credit such as "(Reuters)"). Figures are compared
    by the caller. So a typo or an OCR slip is a copy; "boats" for "cars", or a word put in the
    middle of a sentence, makes another sentence."""
    words_a, words_b = a.split(), b.split()
    matcher = SequenceMatcher(None, words_a, words_b, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag in ("insert", "delete"):
            at_start = a_start == 0 and b_start == 0
            at_end = a_end == len(words_a) and b_end == len(words_b)
            if not (at_start or at_end):
                return False
            continue
        group_a = " ".join(words_a[a_start:a_end])
        group_b = " ".join(words_b[b_start:b_end])
        if max(len(group_a), len(group_b)) <= 2 and _alphabetic(group_a + group_b):
            if not _ocr_slip(group_a, group_b):
                return False
            continue
        allowed = max(1, max(len(group_a), len(group_b)) // 6)
        if levenshtein(group_a, group_b, allowed) is None and not _transposed(group_a, group_b):
            return False
    return True
