"""Paragraph fingerprints: exact, shape, and winnowed word k-grams.

Exact: `exact_fingerprint` is xxh3_64 of the normalised paragraph (see `normalise`): stable across
processes and machines, so it can key the feed state. Two paragraphs meet when their normalised
forms are equal: whitespace, quotes, case and digits do not matter.

Shape: `shape_fingerprint` keeps what recurs in feed furniture whose details vary from article to
article: the lead-in of a labelled line ("<one to a few words>: <anything>") or, without a label,
the line with every capitalised word after the first masked and digit runs collapsed. So credits
whose names change, and "see also"-style lines whose linked headline changes, share one shape.
Only short paragraphs get one (the caller decides how short).

Winnowed k-grams (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003): every run of k consecutive normalised words gets a Rabin–Karp
polynomial hash, H = sum(h(w_i) * B^(k-1-i)) mod 2^64, rolled along the paragraph
(H' = (H - h(out) * B^(k-1)) * B + h(in)); in every window of w consecutive k-gram hashes the
minimum is selected (the rightmost on ties), and the set of selected hashes is the fingerprint.
Parameters (defaults in `DedupSettings`): k = 5 words, w = 4 windows, so t = k + w - 1 = 8.
Guarantee: two texts that share a run of at least t = 8 words share at least one selected
fingerprint (a window lies wholly inside the run, and both texts select its minimum); runs shorter
than k = 5 words are never matched (noise threshold). The density is about 2 / (w + 1): 40% of the
k-grams are kept. A text shorter than t words keeps the minimum of its k-gram hashes (or, under k
words, the hash of all its words), so equal short texts still meet. Word hashes are xxh3_64, so
a decision never depends on the process (CPython's own string hash is salted per process).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import xxhash

from .normalise import normalise

_MASK = (1 << 64) - 1
_BASE = 0x100000001B3  # the 64-bit FNV prime: odd, large, few small factors
_SHAPE_SEED = 0x5348415045  # keeps shape hashes apart from exact hashes of the same text
_LABEL_ENDS = frozenset(":|")
_SEPARATORS = frozenset(("|", "-", "\u2013", "\u2014", "//"))
_MASKED = "\x00"  # stands for a capitalised word in a shape; normalised text never holds it
_OPENERS = "\"'([{\u2018\u201c\u00ab\u00bf\u00a1"  # may open a capitalised word: "(GNX)", "'Super"


def exact_fingerprint(normalised: str) -> int:
    """64-bit hash of an already normalised paragraph."""
    return xxhash.xxh3_64_intdigest(normalised.encode("utf-8"))


@lru_cache(maxsize=8192)  # feed furniture recurs: most short lines were shaped before
def shape_of(text: str, label_max_words: int) -> str:
    """The shape string of an original paragraph text (see the module docstring); "" if none.

    A label ends at a word ending in ":" or "|", or before a lone separator ("|", "-", a dash),
    within `label_max_words` words and with words after it. A label keeps only its lead-in and
    needs one word that is not masked; a whole line needs two, so a list of names ("A Smith,
    B Jones, ...") masks to nothing distinctive and gets no shape.
    """
    tokens = text.split()
    label = False
    for position, token in enumerate(tokens[: label_max_words + 1]):
        if position + 1 == len(tokens):
            break
        if token in _SEPARATORS and position:
            tokens, label = tokens[:position], True
            break
        if token[-1] in _LABEL_ENDS and position < label_max_words:
            tokens, label = tokens[: position + 1], True
            break
    words: list[str] = []
    for position, token in enumerate(tokens):
        if position and token.lstrip(_OPENERS)[:1].isupper():
            if not words or words[-1] != _MASKED:  # "Mei Fitzgerald" and "Kwame Kerr": one slot
                words.append(_MASKED)
            continue
        normalised = normalise(token)
        if normalised:
            words.append(normalised if normalised.strip("0") else "0")
    if sum(word != _MASKED for word in words) < (1 if label else 2):
        return ""
    return ("label " if label else "line ") + " ".join(words)


def shape_fingerprint(shape: str) -> int:
    """64-bit hash of a shape from `shape_of`."""
    return xxhash.xxh3_64_intdigest(shape.encode("utf-8"), seed=_SHAPE_SEED)


@lru_cache(maxsize=1 << 16)  # Zipf: most words of a text are common words seen before
def _word_hash(word: str) -> int:
    return xxhash.xxh3_64_intdigest(word.encode("utf-8"))


def kgram_hashes(words: Sequence[str], k: int) -> list[int]:
    """Rabin–Karp hashes of every k consecutive words; one hash of all words when fewer than k."""
    hashes = list(map(_word_hash, words))
    value = 0
    for word_hash in hashes[:k]:
        value = (value * _BASE + word_hash) & _MASK
    if not hashes:
        return []
    rolled = [value]
    leading = pow(_BASE, k - 1, 1 << 64)  # weight of the word leaving the window
    for leaving, entering in zip(hashes, hashes[k:]):
        value = ((value - leaving * leading) * _BASE + entering) & _MASK
        rolled.append(value)
    return rolled


def winnow(hashes: Sequence[int], w: int) -> frozenset[int]:
    """The minima of every window of w consecutive hashes (all of them when fewer than w)."""
    if len(hashes) <= w:
        return frozenset((min(hashes),)) if hashes else frozenset()
    # set semantics make "rightmost minimum" moot: equal values are one fingerprint
    return frozenset(map(min, zip(*(hashes[i:] for i in range(w)))))


def winnow_positions(hashes: Sequence[int], w: int) -> dict[int, int]:
    """`winnow`, with where each selected hash first occurs (the index of its k-gram)."""
    selected = winnow(hashes, w)
    positions: dict[int, int] = {}
    for index, value in enumerate(hashes):
        if value in selected and value not in positions:
            positions[value] = index
    return positions


def winnowed_fingerprints(normalised: str, k: int, w: int) -> frozenset[int]:
    """Winnowed k-gram fingerprints of an already normalised paragraph."""
    return winnow(kgram_hashes(normalised.split(), k), w)


@dataclass(frozen=True, slots=True)
class ParagraphKey:
    """What the dedup steps compare a paragraph by, computed once per paragraph."""

    normalised: str  # "" when the paragraph holds nothing word-like; such paragraphs are kept
    fingerprint: int  # exact_fingerprint(normalised)
    words: int  # number of normalised words


def key_paragraph(text: str) -> ParagraphKey:
    normalised = normalise(text)
    words = normalised.count(" ") + 1 if normalised else 0  # normalised text has single spaces
    return ParagraphKey(normalised, exact_fingerprint(normalised), words)
