"""Model spans -> the parts that are names: the one `TaggedSpan` type and the boundary rules.

Pure: sees only (text, label, offsets). `trim_span` keeps `text[start:end]` a substring of what the
model tagged; `streams.core.entities` merges the trimmed spans into entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.core import rules
from streams.core.casing import starts_sentence
from streams.core.models import Mention

# Labels that name something; numbers, dates and the like are never trimmed into names.
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"})

# Name particles: "Baghdadi" is the short form of "Abu Bakr al-Baghdadi".
PARTICLES = frozenset({"al", "el", "ad", "ar", "as", "ash", "at", "az", "bin", "ben", "ibn",
                       "bint", "van", "von", "der", "den", "de", "del", "della", "di", "da", "du",
                       "dos", "das", "do", "la", "le", "ter", "ten", "zu", "y"})

_LEADING_THE = re.compile(r"(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’][sS]|(?<=[sS])['’])$")
_EDGE_JUNK = "\"'“”‘’«»()[]{}<>,;:!?*•|/\\-–—"
_NUMERIC_TOKEN = re.compile(r"[\d.,:/\-–+%]*\d[\d.,:/\-–+%]*")
_TOKEN = re.compile(r"\S+")
_DATELINE_END = re.compile(r"(?:\d{4}-\d\d-\d\d|\([A-Z][\w ]*\)\s+[-–—])\s+$")
_DASHES = frozenset({"-", "--", "–", "—"})
# Words that join two names of this kind and are never inside one ("Smith and Jones").
_LIST_WORDS = {"PERSON": frozenset({";", "and", "&"})}
_LIST_WORDS.update({label: frozenset({";"}) for label in ("ORG", "GPE", "LOC", "FAC", "NORP")})


@dataclass(frozen=True, slots=True)
class TaggedSpan:
    """One model or gazetteer span, in article coordinates."""

    mention: Mention
    label: str
    key: str | None = None  # gazetteer key (id or name) when the gazetteer knows it
    votes: bool = True  # False for repeats found by `repeat_mentions`: they echo, not evidence
    role: str | None = None  # the title or role written before the name ("Councillor")


def trim_span(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    """The parts of a model span that are names, as (start, end) in `text`; [] drops it.

    For name labels: a span is split where names never continue (a standalone number, a
    spaced dash, a bracket, a comma, a semicolon, "and" between people: "Ames 3 T. Brook",
    "Ida Lund (Norway)"); each part loses a leading "the" (and "The" at a sentence start), a
    possessive "'s", edge punctuation and numbers ("Kettering 212"), and edge lower-case words
    ("the Tassen news agency"). Parts with no letter, or names with no capital, are dropped.
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    parts = _split_name(text, start, end, label) if label in NAME_LABELS else [(start, end)]
    out = []
    for s, e in parts:
        if label in NAME_LABELS:
            s, e = _trim_name(text, s, e)
        span = text[s:e]
        if any(c.isalpha() for c in span) and (label not in NAME_LABELS or any(c.isupper() for c in span)):
            out.append((s, e))
    return out


def _split_name(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    parts: list[tuple[int, int]] = []
    part: list[tuple[int, int]] = []
    for s, e in tokens:
        token = text[s:e]
        if _NUMERIC_TOKEN.fullmatch(token) or token in _DASHES or token in _LIST_WORDS.get(label, ()):
            parts.append(part)
            part = []
            continue
        # A bracket opens or closes a part: "Ida Lund (Norway)" is two names.
        if token.startswith("(") and part:
            parts.append(part)
            part = []
        part.append((s, e))
        if token.endswith((")", ",", ";")):
            parts.append(part)
            part = []
    parts.append(part)
    return [(p[0][0], p[-1][1]) for p in parts if p]


def _trim_name(text: str, start: int, end: int) -> tuple[int, int]:
    changed = True
    while changed and start < end:
        changed = False
        span = text[start:end]
        the = _LEADING_THE.match(span)
        # "The" mid-sentence is part of the name ("The Hague"); at a sentence start it is not.
        if the and (span[0] == "t" or starts_sentence(text, start) or _after_dateline(text, start)) and the.end() < len(span):
            start += the.end()
            changed = True
            continue
        poss = _POSSESSIVE.search(span)
        if poss and poss.start() > 0:
            end = start + poss.start()
            changed = True
            continue
        if span[0] in _EDGE_JUNK:
            start += 1
            changed = True
            continue
        # A closing ")" or "." belongs to the name when the name holds its partner ("U.S.").
        last = span[-1]
        if last in _EDGE_JUNK and not (last == ")" and "(" in span):
            end -= 1
            changed = True
            continue
        if last == "." and span[-2:-1].isspace():
            end -= 1
            changed = True
            continue
        head, _, rest = span.partition(" ")
        if rest and _NUMERIC_TOKEN.fullmatch(head):
            start += len(head) + 1
            changed = True
            continue
        body, _, tail = span.rpartition(" ")
        if body and (_NUMERIC_TOKEN.fullmatch(tail) or _is_common_word(tail)):
            end -= len(tail) + 1
            changed = True
        elif rest and _is_common_word(head) and head.casefold() not in PARTICLES:
            start += len(head) + 1
            changed = True
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
    return start, end


def _after_dateline(text: str, start: int) -> bool:
    """A wire dateline ends in a date or an agency tag; the sentence starts after it."""
    return rules.on("dateline_sentence") and _DATELINE_END.search(text, 0, start) is not None


def _is_common_word(word: str) -> bool:
    """A lower-case word that ends or starts no name ("agency", "group"); particles do."""
    return word.isalpha() and word.islower()
