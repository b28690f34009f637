"""Templates: feed furniture that recurs with changed slots, and the content that must not match.

A source prints some lines again and again with parts that change: credits whose names change
("Reporting by <names>; Editing by <name>"), reading times, dates and times, captions whose
photo credit changes, "Read more: <headline of another story>". What stays fixed identifies the
line, however long it is:

- **skeleton**: the line with its slots masked, where a slot is a capitalised word after the
  first (names, places, titles; a run of them with "and", "&" or commas between them is one
  slot), a figure, a URL, an e-mail address or a handle. The first word is a slot too when a
  capitalised word follows it (a name that opens the line). The fixed words, in order, with one
  mark per slot, are the skeleton; it needs at least `MIN_FIXED` fixed words, or one in a time
  stamp (a slot holding a date or a time: "Updated <time>, <date>").
- **lead-in**: a labelled line, "<one to four words>: <anything>" (or "|", or a lone dash),
  is also known by its lead-in alone, since what follows a label (a linked headline) changes
  completely. The rest must read as a phrase (a lowercase word of three letters or more), so a
  line-up ("Arsenal: Lehmann, Cole, Campbell") is not a label.

Strength, what stays fixed: furniture is mostly slots around a few fixed words (a credit, a
byline, a reading time, a label); a long sentence with one name changed is more likely a story's
own sentence reused. So a skeleton is *strong* when at least a third of its words sit in slots
(and every lead-in is), and *weak* otherwise; `boilerplate` asks more evidence of a weak one.

Content guard, what the slots hold: a line whose slots carry *quantities* gets no template at
all, so only its exact text can ever recur: a figure with a decimal point, a thousands separator,
a per cent, a currency or unit sign, a score or range ("2-1"), or any integer of three digits or
more that is not a year. What stays furniture-capable: years, clock times, dates (a day next to
an English month name), and bare counts of one or two digits in short lines (up to `SHORT_LINE_WORDS` words: "5 min read",
"Photo 3 of 12"). So "Shares in Acme rose 5% to 120p" never matches "Shares in Bolt rose 3% to
80p", and two results lines never match each other.

Guarantee: a template match needs every fixed word of the skeleton (the lowercase words, in
order) to be the same, and no quantity in the line. So content sentences that share a structure
("X said on Monday that ...") match only when they differ in nothing but names, dates, times and
small counts of a short line. The failure mode is exactly that case: a sentence that a source
prints again with only a name or date changed ("<Name> won the award on <day>") is treated as a
template, and removed under the evidence rules of `boilerplate`.

Tables (`table_rows`): a line of the article that shares its coarse form (the sequence of
capitalised runs, figures and lowercase words) with at least `TABLE_MIN_ROWS - 1` other lines of
the same article, and holds a figure, is a table row: results, scores, prices, standings and
weather lines are the story itself, so such rows are never boilerplate, whatever the store saw.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import xxhash

from .normalise import normalise

MIN_FIXED = 2
SHORT_LINE_WORDS = 6
LABEL_MAX_WORDS = 4
TABLE_MIN_ROWS = 3
STRONG_SLOT_SHARE = (1, 3)  # a skeleton is strong when at least this share of its words are slots

_SKELETON_SEED = 0x534B454C  # keeps template hashes apart from exact hashes of the same text
_LABEL_SEED = 0x4C414245
_SLOT = "\x00"  # normalised text never holds it
_OPENERS = "\"'([{\u2018\u201c\u00ab\u00bf\u00a1"  # may open a capitalised word: "(GNX)", "'Super"
_CONNECTORS = frozenset(("and", "&", "und", "et", "y", "e", "or"))
_LABEL_ENDS = frozenset(":|")
_SEPARATORS = frozenset(("|", "-", "\u2013", "\u2014", "//"))
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[\w.-]+\.[a-z]{2,}/\S*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")
_TIME = re.compile(r"\d{1,2}[:.]\d\d(?:[ap]\.?m\.?)?", re.IGNORECASE)
_DATE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
_COUNT = re.compile(r"\d{1,2}")
_DAY = re.compile(r"\d{1,2}(?:st|nd|rd|th)", re.IGNORECASE)
_MONTHS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july "
    "august september october november december".split()
)
_STRIP = "\"'()[]{}.,;:!?\u2018\u2019\u201c\u201d\u00ab\u00bb\u00a9"


def _slot_kind(token: str, short_line: bool, beside_month: bool = False) -> str | None:
    """"date" or "figure" (furniture-capable), "quantity" (a fact), "link", or None (a word)."""
    if "@" in token and (token.startswith("@") or _EMAIL.fullmatch(token.strip(_STRIP))):
        return "link"
    if _URL.fullmatch(token.strip(_STRIP)):
        return "link"
    if not any(map(str.isdigit, token)):
        return None
    core = token.strip(_STRIP)
    if _YEAR.fullmatch(core) or _TIME.fullmatch(core) or _DATE.fullmatch(core):
        return "date"
    if beside_month and (_COUNT.fullmatch(core) or _DAY.fullmatch(core)):
        return "date"
    if short_line and _COUNT.fullmatch(core):
        return "figure"
    return "quantity"


def _capitalised(token: str) -> bool:
    return token.lstrip(_OPENERS)[:1].isupper()


@lru_cache(maxsize=8192)  # furniture recurs: most such lines were seen before
def template_keys(text: str) -> tuple[tuple[int, bool], ...]:
    """The template fingerprints of an original paragraph text, each with whether it is strong:
    skeleton and lead-in, each only when the line has one (see the module docstring); () for a
    line whose slots hold facts."""
    tokens = text.split()
    keys: list[tuple[int, bool]] = []
    lead_in, quantity_safe = _lead_in(tokens)
    skeleton, slot_words = _skeleton(tokens)
    if skeleton:
        strong = slot_words * STRONG_SLOT_SHARE[1] >= len(tokens) * STRONG_SLOT_SHARE[0]
        keys.append((xxhash.xxh3_64_intdigest(skeleton.encode("utf-8"), seed=_SKELETON_SEED), strong))
    if lead_in and (skeleton or quantity_safe):
        keys.append((xxhash.xxh3_64_intdigest(lead_in.encode("utf-8"), seed=_LABEL_SEED), True))
    return tuple(keys)


def _skeleton(tokens: Sequence[str]) -> tuple[str, int]:
    """The masked line ("" when it holds a quantity, no slot, or too few fixed words) and the
    number of its words that sit in slots."""
    short_line = len(tokens) <= SHORT_LINE_WORDS
    parts: list[str] = []
    slots = 0
    dated = False
    months = [token.strip(_STRIP).lower() in _MONTHS and _capitalised(token) for token in tokens]
    for position, token in enumerate(tokens):
        beside_month = (position and months[position - 1]) or (position + 1 < len(tokens) and months[position + 1])
        kind = _slot_kind(token, short_line, bool(beside_month))
        if kind == "quantity":
            return "", 0
        if kind is None and _capitalised(token):
            opens_name = position == 0 and len(tokens) > 1 and _capitalised(tokens[1])
            if position or opens_name:
                kind = "name"
        if kind is not None:
            slots += 1
            dated = dated or kind == "date"
            if len(parts) >= 2 and parts[-1] in _CONNECTORS and parts[-2] == _SLOT:
                parts.pop()  # "A and B": one slot
            if not parts or parts[-1] != _SLOT:
                parts.append(_SLOT)
            continue
        word = normalise(token)
        if word:
            parts.append(word)
    fixed = sum(part != _SLOT for part in parts)
    # a time stamp is known by one fixed word ("Updated <time, date>"); other lines need two
    return (" ".join(parts), slots) if slots and fixed >= (1 if dated else MIN_FIXED) else ("", 0)


def _lead_in(tokens: Sequence[str]) -> tuple[str, bool]:
    """The normalised lead-in of a labelled line ("" if none), and whether it is a label however
    the rest reads: two words or more, none capitalised after the first ("Read more", not
    "Leeds North"), so the rest is another story's headline, whose figures are not ours."""
    for position, token in enumerate(tokens[: LABEL_MAX_WORDS + 1]):
        if position + 1 == len(tokens):
            return "", False
        if token in _SEPARATORS and position:
            head, rest = tokens[:position], tokens[position + 1 :]
            break
        if token[-1] in _LABEL_ENDS and position < LABEL_MAX_WORDS:
            head, rest = tokens[: position + 1], tokens[position + 1 :]
            break
    else:
        return "", False
    label = normalise(" ".join(head))
    if not label or any(map(str.isdigit, label)):
        return "", False
    quantity_safe = len(head) >= 2 and not any(_capitalised(token) for token in head[1:])
    if not quantity_safe and not any(len(word) >= 3 and word.isalpha() and word.islower() for word in rest):
        return "", False  # a names list or figures after a name: a line-up, a result
    return label, quantity_safe


def _coarse_form(text: str) -> str | None:
    """Runs of capitalised words ("C"), figures ("N") and lowercase words ("w"); None without a figure."""
    form: list[str] = []
    figure = False
    for token in text.split():
        if any(map(str.isdigit, token)):
            form.append("N")
            figure = True
        elif _capitalised(token):
            if not form or form[-1] != "C":
                form.append("C")
        elif normalise(token):
            form.append("w")
    return " ".join(form) if figure else None


def table_rows(texts: Sequence[str]) -> set[int]:
    """Positions of the lines that are rows of a table in this article (see the module docstring)."""
    forms = [_coarse_form(text) for text in texts]
    counts = Counter(form for form in forms if form is not None)
    return {position for position, form in enumerate(forms) if form is not None and counts[form] >= TABLE_MIN_ROWS}
