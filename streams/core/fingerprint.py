"""Paragraph fingerprints: exact and winnowed word k-grams (templates live in `templates`).

Exact: `exact_fingerprint` is xxh3_64 of the normalised paragraph (see `normalise`) and, when it
holds figures, of its figures as written (`figures_of`: "1.5" and "15" normalise alike, but are
two facts): stable across processes and machines, so it can key the feed state. Two paragraphs
meet when their normalised forms and figures are equal: whitespace, quotes and case do not matter.

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

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import xxhash

from .normalise import has_ascii_digit, normalise

_MASK = (1 << 64) - 1
KGRAM_BASE = 0x100000001B3  # the 64-bit FNV prime: odd, large, few small factors
# a figure with its sign and inner separators: "-5", "12,345", "2-1", "14:05"
_DIGIT = re.compile(r"\d")
_FIGURE = re.compile(r"(?<![\w.,])[-+\u2212]?\d+(?:[.,:/\u2013-]\d+)*")


@lru_cache(maxsize=1 << 16)  # Zipf: most words of a text are common words seen before
def word_hash(word: str) -> int:
    return xxhash.xxh3_64_intdigest(word.encode("utf-8"))


def kgram_hashes(words: Sequence[str], k: int) -> list[int]:
    """Rabin–Karp hashes of every k consecutive words; one hash of all words when fewer than k."""
    hashes = list(map(word_hash, words))
    value = 0
    for hashed in hashes[:k]:
        value = (value * KGRAM_BASE + hashed) & _MASK
    if not hashes:
        return []
    rolled = [value]
    leading = pow(KGRAM_BASE, k - 1, 1 << 64)  # weight of the word leaving the window
    for leaving, entering in zip(hashes, hashes[k:]):
        value = ((value - leaving * leading) * KGRAM_BASE + entering) & _MASK
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
    # built from the end, so each hash keeps its smallest index; dict(zip()) runs in C
    first = dict(zip(reversed(hashes), range(len(hashes) - 1, -1, -1)))
    return {value: first[value] for value in selected}


def winnowed_fingerprints(normalised: str, k: int, w: int) -> frozenset[int]:
    """Winnowed k-gram fingerprints of an already normalised paragraph."""
    return winnow(kgram_hashes(normalised.split(), k), w)


class ParagraphKey(NamedTuple):
    """What the dedup steps compare a paragraph by, computed once per paragraph (a named tuple:
    immutable, and cheaper to build than a frozen dataclass on the hot path)."""

    normalised: str  # "" when the paragraph holds nothing word-like; such paragraphs are kept
    fingerprint: int  # exact_fingerprint(normalised, figures)
    words: int  # number of normalised words
    figures: str  # the figures as written, space-separated ("12,345 2-1"); "" without digits


def figures_of(text: str) -> str:
    """The figures of `text`, with the separators inside them (a decimal point, a score's dash)."""
    return " ".join(_FIGURE.findall(text)) if _DIGIT.search(text) else ""


def exact_fingerprint(normalised: str, figures: str = "") -> int:
    """64-bit hash of an already normalised paragraph and its figures."""
    data = f"{normalised}\x00{figures}" if figures else normalised
    return xxhash.xxh3_64_intdigest(data.encode("utf-8"))


_EMPTY_HASH = exact_fingerprint("")


_new_key = tuple.__new__  # the named tuple's own __new__ is a Python function: this skips it


@lru_cache(maxsize=4096)  # furniture recurs, and the feed stage keys the same paragraphs just before
def key_paragraph(text: str) -> ParagraphKey:
    normalised = normalise(text)
    if not normalised:
        return _new_key(ParagraphKey, ("", _EMPTY_HASH, 0, ""))
    words = normalised.count(" ") + 1  # normalised text has single spaces
    # `normalise` turns every decimal digit into an ASCII one, so without one there are no figures
    if has_ascii_digit(normalised):
        figures = figures_of(text)
        fingerprint = exact_fingerprint(normalised, figures)
    else:
        figures, fingerprint = "", xxhash.xxh3_64_intdigest(normalised.encode("utf-8"))
    return _new_key(ParagraphKey, (normalised, fingerprint, words, figures))
