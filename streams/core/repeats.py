"""Repeats inside one article: later copies go, the first copy stays. No state beyond the article.

Four rules, applied in order; each compares a later paragraph only with earlier paragraphs that
are still kept, so chains of copies all point at the first one:

1. exact: the same exact fingerprint (equal normalised text). Reason `repeat` when the texts are
   equal up to whitespace, `near_repeat` otherwise (quotes, case, digits, punctuation).
2. near: the same text edited, never another fact. A small edit, counted in characters of
   the normalised texts (the Levenshtein distance), so a typo costs 1, an OCR slip 1 a letter and an
   appended "(Reuters)" 8. A pair is a near repeat when both hold the same figures (a number
   changed is another fact: "Leeds North: Labour 12,345" and "Leeds South: Labour 11,002" are
   two results), the edit is at most `near_max_edit_chars`, the similarity 1 - edit / longer
   length is at least `near_min_similarity`, every changed word keeps five sixths of its
   letters (a typo, not another word; a one- or two-letter word changes only by an OCR
   confusion, so "Group A" is not "Group B"), and words are added or dropped only at the ends
   (a credit appended or removed). Candidates come from an index of anchors (`_NearIndex`), so
   the rule costs a few probes per paragraph, not a comparison with every earlier one.
3. partial: a paragraph of at least 2t words (t = k + w - 1), right after a repeat, whose
   winnowed fingerprints are at least `partial_min_containment` contained in those of the
   earlier kept paragraphs read as one word stream (onion's rule): the body printed again with
   its paragraphs split or merged differently.
4. block: a body printed twice is a run of repeats at one constant offset. A paragraph sandwiched
   in such a run whose counterpart at that offset is at least `block_min_similarity` similar
   (word-level ratio) goes with its block.

Short paragraphs never reach rule 3 (under 2t words a few fingerprints make a poor share); rule 2
measures them in characters, so a short line with one typo is still a near repeat.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from difflib import SequenceMatcher

from .edits import changes_are_slips, levenshtein
from .fingerprint import ParagraphKey, kgram_hashes, winnow, winnow_positions, winnowed_fingerprints
from .models import Paragraph, Removal, RemovalReason
from .settings import DedupSettings


def similarity_of(a: str, b: str, edit: int) -> float:
    return 1.0 - edit / max(len(a), len(b), 1)


class _NearIndex:
    """Candidates for near repeats among the kept paragraphs, found without comparing all pairs.

    An edit of e characters changes the length by at most e, so candidates first come from a
    window of close lengths (a sorted list), as long as it is small: in ordinary articles few
    paragraphs have close lengths. When a window is crowded (a table, a list, codes: lines of
    one length), candidates come from anchors instead: a copy with a small edit keeps its figures
    (a near repeat never changes them) and, edits being few, its first two words, its last two
    words, its middle two words, or its first or last characters. Each anchor lists at most
    `_PER_ANCHOR` paragraphs (the earliest): a crowded anchor (a table's rows all open alike)
    says nothing, and the other anchors of a real copy still find it. So a paragraph costs a few
    probes and at most a few edit checks, whatever the article holds. The anchors are built the
    first time a window is crowded.
    """

    _WINDOW = 8
    _PER_ANCHOR = 4
    _CHARS = 6

    def __init__(self, keys: Sequence[ParagraphKey], limit: int) -> None:
        self.keys, self.limit = keys, limit
        # normalised lengths, sorted, and the position of each (positions only grow, so equal
        # lengths stay in position order)
        self.lengths: list[int] = []
        self.positions: list[int] = []
        self.postings: dict[tuple[str, str, str], list[int]] | None = None

    def _anchors(self, key: ParagraphKey, query: bool) -> set[tuple[str, str, str]]:
        text, figures, chars = key.normalised, key.figures, self._CHARS
        words = text.split()
        count = len(words)
        middles = {(count - 1) // 2, count // 2, (count + 1) // 2} if query else {count // 2}
        anchors = {
            (figures, "h", " ".join(words[:2])),
            (figures, "t", " ".join(words[-2:])),
            (figures, "<", text[:chars]),
            (figures, ">", text[-chars:]),
        }
        anchors.update((figures, "m", " ".join(words[max(0, m - 1) : m + 1])) for m in middles)
        return anchors

    def _post(self, key: ParagraphKey, position: int) -> None:
        assert self.postings is not None
        for anchor in self._anchors(key, query=False):
            listed = self.postings.setdefault(anchor, [])
            if len(listed) < self._PER_ANCHOR:
                listed.append(position)

    def add(self, key: ParagraphKey, position: int) -> None:
        length = len(key.normalised)
        at = bisect_right(self.lengths, length)
        self.lengths.insert(at, length)
        self.positions.insert(at, position)
        if self.postings is not None:
            self._post(key, position)

    def candidates(self, key: ParagraphKey) -> list[int]:
        length = len(key.normalised)
        low = bisect_left(self.lengths, length - self.limit)
        high = bisect_right(self.lengths, length + self.limit, low)
        if high - low <= self._WINDOW:
            if low == high:
                return []
            figures, keys = key.figures, self.keys
            return sorted([p for p in self.positions[low:high] if keys[p].figures == figures])
        if self.postings is None:
            self.postings = {}
            for position in self.positions:
                self._post(self.keys[position], position)
        found: set[int] = set()
        for anchor in self._anchors(key, query=True):
            found.update(self.postings.get(anchor, ()))
        return sorted(found)


def _near_match(
    key: ParagraphKey, keys: Sequence[ParagraphKey], index: _NearIndex, settings: DedupSettings
) -> tuple[int, float] | None:
    """The earliest kept paragraph `key` nearly repeats, with the similarity; None if none."""
    limit = settings.near_max_edit_chars
    length = len(key.normalised)
    for candidate in index.candidates(key):
        earlier = keys[candidate].normalised
        if abs(len(earlier) - length) > limit:
            continue
        # similarity >= s  <=>  edit <= (1 - s) * longer length: short lines get a smaller budget
        budget = min(limit, int((1 - settings.near_min_similarity) * max(length, len(earlier)) + 1e-9))
        edit = levenshtein(earlier, key.normalised, budget)
        if edit is not None and changes_are_slips(earlier, key.normalised):
            return candidate, similarity_of(earlier, key.normalised, edit)
    return None


def _copy(paragraph: Paragraph, first: Paragraph, reason: RemovalReason, similarity: float) -> Removal:
    return Removal(paragraph.index, paragraph.text, reason, first.index, None, round(similarity, 4))


def _whitespace_equal(a: str, b: str) -> bool:
    return a == b or a.split() == b.split()  # most repeats are the very same string


def _word_ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def find_repeats(
    paragraphs: Sequence[Paragraph], keys: Sequence[ParagraphKey], settings: DedupSettings
) -> dict[int, Removal]:
    """Removals for later copies inside one article, by position in `paragraphs`."""
    removed: dict[int, Removal] = {}
    first_by_fingerprint: dict[int, int] = {}
    limit = settings.near_max_edit_chars
    index = _NearIndex(keys, limit)
    lengths = index.lengths
    for position, key in enumerate(keys):
        normalised = key.normalised
        if not normalised:
            continue
        first = first_by_fingerprint.get(key.fingerprint)
        if first is not None:
            paragraph = paragraphs[position]
            if _whitespace_equal(paragraphs[first].text, paragraph.text):
                removed[position] = _copy(paragraph, paragraphs[first], "repeat", 1.0)
            else:  # equal once normalised: similarity is measured on the normalised form
                removed[position] = _copy(paragraph, paragraphs[first], "near_repeat", 1.0)
            continue
        length = len(normalised)
        # most paragraphs have no kept paragraph of a close length: no candidate, no call
        if lengths and bisect_left(lengths, length - limit) != bisect_right(lengths, length + limit):
            near = _near_match(key, keys, index, settings)
            if near is not None:
                first, similarity = near
                removed[position] = _copy(paragraphs[position], paragraphs[first], "near_repeat", similarity)
                continue
        first_by_fingerprint[key.fingerprint] = position
        if index.postings is None:  # `index.add`, inline: it runs for every kept paragraph
            at = bisect_right(lengths, length)
            lengths.insert(at, length)
            index.positions.insert(at, position)
        else:
            index.add(key, position)
    if removed:  # rules 3 and 4 only extend repeats already found
        if settings.partial_min_containment > 0:
            _find_partial_repeats(paragraphs, keys, removed, settings)
        _fill_blocks(paragraphs, keys, removed, settings)
    return removed


def _find_partial_repeats(
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    removed: dict[int, Removal],
    settings: DedupSettings,
) -> None:
    """Rule 3, looked for only right after a repeat found by rules 1-2: a body printed again
    with other paragraph breaks keeps some paragraphs whole, and the gate keeps winnowing off
    articles without repeats (the hot path).

    The earlier kept paragraphs are winnowed as one word stream, in order, so a paragraph made
    of two adjacent earlier ones, or of a piece of one, is a run of that stream and every window
    of it selects the same fingerprint there: its containment is 1.
    """
    k, w = settings.kgram_words, settings.winnow_window
    owners: list[int] = []  # the position of the paragraph each word of the stream comes from
    starts: dict[int, int] = {}  # position -> where its words start in the stream
    hashes: list[int] = []  # the stream's k-gram hashes
    selected: dict[int, int] | None = None
    for candidate, key in enumerate(keys):
        # in order, so a paragraph this rule removes opens the gate for the next one
        if key.words < 2 * (k + w - 1) or candidate - 1 not in removed or candidate in removed:
            continue
        if selected is None:
            # one pass over the kept text, the first time a candidate passes the gate: a
            # fingerprint counts for a candidate when it first occurs in an earlier paragraph
            # (a copy's own words come later), so the rule stays linear
            words: list[str] = []
            for position, other in enumerate(keys):
                if position not in removed and other.normalised:
                    stream = other.normalised.split()
                    starts[position] = len(words)
                    words += stream
                    owners += [position] * len(stream)
            hashes = kgram_hashes(words, k)
            selected = winnow_positions(hashes, w)
        # the candidate is kept so far, so its k-grams are a run of the stream's (it has >= k words)
        start = starts.get(candidate)
        fingerprints = winnowed_fingerprints(key.normalised, k, w) if start is None \
            else winnow(hashes[start : start + key.words - k + 1], w)
        shared = [owners[selected[f]] for f in fingerprints if f in selected and owners[selected[f]] < candidate]
        shared = [owner for owner in shared if owner not in removed]
        containment = len(shared) / len(fingerprints)
        if containment >= settings.partial_min_containment:
            first = max(sorted(set(shared)), key=shared.count)
            paragraph = paragraphs[candidate]
            removed[candidate] = _copy(paragraph, paragraphs[first], "near_repeat", containment)


def _fill_blocks(
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    removed: dict[int, Removal],
    settings: DedupSettings,
) -> None:
    position_of = {paragraph.index: position for position, paragraph in enumerate(paragraphs)}

    def offset(position: int) -> int | None:
        removal = removed.get(position)
        if removal is None or removal.of is None or removal.reason == "boilerplate":
            return None
        return position - position_of[removal.of]

    for position in range(1, len(paragraphs) - 1):
        if position in removed or not keys[position].normalised:
            continue
        shift = offset(position - 1)
        if shift is None or shift != offset(position + 1):
            continue
        counterpart = position - shift
        if counterpart in removed or counterpart < 0:
            continue
        similarity = _word_ratio(keys[counterpart].normalised, keys[position].normalised)
        if similarity >= settings.block_min_similarity:
            paragraph = paragraphs[position]
            removed[position] = _copy(paragraph, paragraphs[counterpart], "near_repeat", similarity)
