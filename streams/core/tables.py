"""Results and listings lines: sports results, standings, scorecards, start lists.

Lines like "Harlequins 75 Gloucester 19", "Greenock Morton 3 2 0 1 5 2 6" or "1. Ana Vidal (Spain)
3:31.526" are dense with numbers and read as a table, not as prose; the model, trained on prose,
types their names poorly. In them a name directly followed by a score is a team, a name with an
initial before a score is a player, and a name followed by a bracketed place is a competitor.
Pure: texts and spans in, spans out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from streams.core.casing import FUNCTION_WORDS
from streams.core.spans import TaggedSpan
from streams.core.models import Mention, MentionField

_WORD = re.compile(r"\S+")
_NUMERIC = re.compile(r"[\d.,:/\-–+%()]*\d[\d.,:/\-–+%()]*")
_SCORE_AFTER = re.compile(r"\s+\d{1,3}(?=\s|$|[,.;)])")
_INITIAL = re.compile(r"[A-Z]\.\s?[A-Z]")
_TEAM = re.compile(r"(?<![\w'’.])[A-Z][\w'’.\-]*(?: (?:of|[A-Z][\w'’.\-]*)){0,3}(?=\s+\d{1,3}(?:\s|$|[,.;)]))")
NUMERIC_SHARE = 0.25  # numbers at least this share of a line's words: a table line


def number_dense(text: str) -> bool:
    """Whether numbers are at least `NUMERIC_SHARE` of the words: results, tables, listings."""
    if not any(c.isdigit() for c in text):
        return False
    words = _WORD.findall(text)
    return bool(words) and sum(bool(_NUMERIC.fullmatch(w)) for w in words) >= NUMERIC_SHARE * len(words)


def next_to_score(text: str, end: int) -> bool:
    """A small integer directly after `text[:end]` ("Wigan 2"); the caller checks the line is
    number-dense: then the name before it is a team."""
    return _SCORE_AFTER.match(text, end) is not None


def score_teams(field: MentionField, offset: int, text: str, here: Sequence[TaggedSpan],
                common: frozenset[str]) -> list[TaggedSpan]:
    """In a number-dense line, a capitalised name the model left untagged, directly followed by
    a score, is a team ("Harlequins 75 Gloucester 19"), or a player when it opens with an
    initial ("W. Athey 5"). Words the article also writes in lower case, function words and
    names with digits ("M2") are not names."""
    taken = [(s.mention.start - offset, s.mention.end - offset) for s in here]
    found: list[TaggedSpan] = []
    for match in _TEAM.finditer(text):
        s, e = match.span()
        name = text[s:e]
        folded = name.casefold()
        if (any(s < te and ts < e for ts, te in taken) or any(c.isdigit() for c in name)
                or folded in common or folded in FUNCTION_WORDS):
            continue
        label = "PERSON" if _INITIAL.match(name) else "ORG"
        found.append(TaggedSpan(Mention(name, offset + s, offset + e, field), label, None))
    return found


def bracketed_competitors(text: str, offset: int, here: list[TaggedSpan]) -> list[TaggedSpan]:
    """"Antonella Bellutti (Italy) 3:31.526": a name of two or three capitalised words followed
    by a bracketed place is a competitor, a person."""
    places = {s.mention.start for s in here if s.label == "GPE"}
    out = []
    for span in here:
        m = span.mention
        words = m.text.split()
        if (span.key is None and span.label != "PERSON" and 2 <= len(words) <= 3
                and all(w[:1].isupper() for w in words) and m.end + 2 in places
                and text.startswith(" (", m.end - offset)):
            span = replace(span, label="PERSON")
        out.append(span)
    return out
