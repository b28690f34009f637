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
from collections.abc import Sequence
from functools import lru_cache

import xxhash

from .normalise import has_ascii_digit, normalise

MIN_FIXED = 2
SHORT_LINE_WORDS = 6
LABEL_MAX_WORDS = 4
TABLE_MIN_ROWS = 3
STRONG_SLOT_SHARE = (1, 3)  # a skeleton is strong when at least this share of its words are slots

_SKELETON_SEED = 0x534B454C  # keeps template hashes apart from exact hashes of the same text
_LABEL_SEED = 0x4C414245
_MARK = "0"  # stands for a slot: after masking, every token with a digit is a slot, so no fixed word holds one
_CAPITAL = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0391-\u03a9\u0410-\u042f"  # Latin, Greek, Cyrillic capitals
_OPEN = "\"'(\\[{\u2018\u201c\u00ab\u00bf\u00a1"
# slot tokens: a capitalised word after the first (with the space before it, which is faster
# than a look-behind), and tokens with a digit, an "@" or a link, masked only in lines that have one
_CAPITAL_TOKEN = re.compile(rf"\s[{_OPEN}]*[{_CAPITAL}]\S*")
# the same where the only whitespace is the space (a printable text): a literal first
# character lets the regex engine skip ahead, about twice as fast
_CAPITAL_TOKEN_SPACED = re.compile(rf" [{_OPEN}]*[{_CAPITAL}]\S*")
# a whole token with a digit, "@", "://" or "www.": the look-behind fails at once inside a
# token, where a pattern scanning forward from every character would cost quadratic time
_FIGURE_OR_LINK_TOKEN = re.compile(r"(?<!\S)(?=\S*?(?:\d|@|://|www\.))\S+")
_OPENS_NAME = re.compile(rf"[{_OPEN}]*[{_CAPITAL}]\S*(?=\s+[{_OPEN}]*[{_CAPITAL}])")
_DIGIT_TOKEN = re.compile(r"(?<!\S)(?=\S*\d)\S+")
# slots with only connectors between them are one slot ("A, B and C")
# the look-behind after the literal "0" (not before it) lets the regex engine jump from one "0" to the next
_SLOT_RUN = re.compile(r"0(?<!\S0)(?:(?: and| or| und| et| y| e)? 0(?!\S))+")
_OPENERS = "\"'([{\u2018\u201c\u00ab\u00bf\u00a1"  # may open a capitalised word: "(GNX)", "'Super"
_LABEL_ENDS = frozenset(":|")
_LABEL_MAX_CHARS = 120  # a lead-in of LABEL_MAX_WORDS words ends before this
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


def token_count(text: str, printable: bool | None = None) -> int:
    """len(text.split()) without building the list: a printable text has no whitespace but the
    space (str.isprintable is false for every other character `split` cuts at). `printable`:
    text.isprintable() when the caller knows it."""
    if printable is None:
        printable = text.isprintable()
    if printable and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text.count(" ") + 1 if text else 0
    return len(text.split())


def _slot_kind(token: str, short_line: bool, beside_month: bool = False) -> str | None:
    """"date" or "figure" (furniture-capable), "quantity" (a fact), "link", or None (a word)."""
    if token.isalpha():
        return None  # the common case, settled without a regular expression
    core = token.strip(_STRIP)
    if "@" in token and (token.startswith("@") or _EMAIL.fullmatch(core)):
        return "link"
    if ("." in core or "/" in core) and _URL.fullmatch(core):
        return "link"
    if not any(map(str.isdigit, token)):
        return None
    if _YEAR.fullmatch(core) or _TIME.fullmatch(core) or _DATE.fullmatch(core):
        return "date"
    if beside_month and (_COUNT.fullmatch(core) or _DAY.fullmatch(core)):
        return "date"
    if short_line and _COUNT.fullmatch(core):
        return "figure"
    return "quantity"


def _capitalised(token: str) -> bool:
    return token.lstrip(_OPENERS)[:1].isupper()


def _wordlike(token: str) -> bool:
    return token.isalpha() or any(map(str.isalnum, token))


def template_keys(text: str) -> tuple[tuple[int, bool], ...]:
    """The template fingerprints of an original paragraph text, each with whether it is strong:
    skeleton and lead-in, each only when the line has one (see the module docstring); () for a
    line whose slots hold facts."""
    return skeleton_keys(text) + lead_in_keys(text)


@lru_cache(maxsize=8192)  # furniture recurs: most such lines were seen before
def skeleton_keys(text: str) -> tuple[tuple[int, bool], ...]:
    """The skeleton's fingerprint and strength, or ()."""
    printable = text.isprintable()
    skeleton, slot_words, words_floor = _skeleton(text, printable)
    if not skeleton:
        return ()
    share = slot_words * STRONG_SLOT_SHARE[1]
    # most skeletons are prose with a few names: weak by the lower bound, without a count
    strong = share >= words_floor * STRONG_SLOT_SHARE[0] and share >= token_count(text, printable) * STRONG_SLOT_SHARE[0]
    return ((xxhash.xxh3_64_intdigest(skeleton.encode("utf-8"), seed=_SKELETON_SEED), strong),)


@lru_cache(maxsize=1024)  # asked for removed template lines only: furniture, which recurs
def pinned_share(text: str) -> float:
    """The share of a template line's words that its template pins down (the fixed ones): the
    similarity reported for a template match."""
    tokens = token_count(text)
    skeleton, slots, _ = _skeleton(text)
    if skeleton:
        return round(1 - slots / tokens, 4)
    lead_in, _ = _lead_in(text.split(None, LABEL_MAX_WORDS + 1))
    return round(min(1.0, (lead_in.count(" ") + 1) / tokens), 4) if lead_in else 0.0


def lead_in_keys(text: str) -> tuple[tuple[int, bool], ...]:
    """The lead-in's fingerprint (always strong), or (). Cheap: it reads the first words only,
    and most lines have no label mark there at all."""
    opening = text[:_LABEL_MAX_CHARS]
    # one-character scans first (memchr): most lines hold none of the marks
    if not (":" in opening or "|" in opening or ("-" in opening and " - " in opening)
            or ("\u2013" in opening and " \u2013 " in opening) or ("\u2014" in opening and " \u2014 " in opening)
            or ("/" in opening and " // " in opening)):
        return ()
    return _labelled_keys(text)


@lru_cache(maxsize=4096)  # labelled lines are furniture: they recur
def _labelled_keys(text: str) -> tuple[tuple[int, bool], ...]:
    head = text.split(None, LABEL_MAX_WORDS + 1)
    lead_in, quantity_safe = _lead_in(head)
    if not lead_in:
        return ()
    if not quantity_safe and has_ascii_digit(text) and _has_quantity(text, token_count(text)):
        return ()
    return ((xxhash.xxh3_64_intdigest(lead_in.encode("utf-8"), seed=_LABEL_SEED), True),)


def _has_quantity(text: str, tokens: int) -> bool:
    return _figures(text, tokens) is None


def _figures(text: str, tokens: int) -> bool | None:
    """None when a figure of `text` (of `tokens` words) is a quantity; else whether one is a date or a time."""
    short_line = tokens <= SHORT_LINE_WORDS
    dated = False
    for match in _DIGIT_TOKEN.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()].split()[-1:]  # a month name is short
        after = text[match.end() : match.end() + 12].split()[:1]
        beside_month = any(_capitalised(t) and t.strip(_STRIP).lower() in _MONTHS for t in before + after)
        kind = _slot_kind(match.group(), short_line, beside_month)
        if kind == "quantity":
            return None
        dated = dated or kind == "date"
    return dated


def _skeleton(text: str, printable: bool | None = None) -> tuple[str, int, int]:
    """The masked line ("" when it holds a quantity, no slot, or too few fixed words), the
    number of its words that sit in slots, and a lower bound of `token_count(text)` (0 when
    unknown). Regular expressions do the per-word work; only the few tokens with a digit are
    looked at one by one. `printable`: text.isprintable()."""
    if printable is None:
        printable = text.isprintable()
    figures = has_ascii_digit(text)
    dated = False
    if figures:
        found = _figures(text, token_count(text, printable))  # counted only here: most lines hold no figure
        if found is None:
            return "", 0, 0  # a quantity: the line's slots carry facts
        dated = found
    masked, slots = text, 0
    if figures or "@" in text or (":" in text and "://" in text) or "www." in text:
        masked, slots = _FIGURE_OR_LINK_TOKEN.subn(_MARK, masked)
    masked, names = (_CAPITAL_TOKEN_SPACED if printable else _CAPITAL_TOKEN).subn(" " + _MARK, masked)
    slots += names
    if not slots:
        return "", 0, 0  # no capitalised word after the first, so the first opens no name either
    if _OPENS_NAME.match(text):  # the first token is still itself in `masked`
        first, _, rest = masked.partition(" ")
        masked, slots = f"{_MARK} {rest}", slots + (first != _MARK)
    normalised = normalise(masked)
    skeleton, runs = _SLOT_RUN.subn(_MARK, normalised)
    words = skeleton.count(" ") + 1 if skeleton else 0  # single spaces
    fixed = words - skeleton.count(_MARK)
    # a time stamp is known by one fixed word ("Updated <time, date>"); other lines need two
    if fixed < (1 if dated else MIN_FIXED):
        return "", 0, 0
    # Masking keeps every token of a printable line, and normalising ASCII only drops tokens
    # (all punctuation): the masked line's normalised words are at most the line's tokens.
    floor = 0
    if printable and text.isascii():
        floor = words if not runs else normalised.count(" ") + 1
    return skeleton, slots, floor


def _lead_in(tokens: Sequence[str]) -> tuple[str, bool]:
    """The normalised lead-in of a labelled line ("" if none), and whether it is a label however
    the rest reads: two words or more, none capitalised after the first ("Read more", not
    "Leeds North"), so the rest is another story's headline, whose figures are not ours.
    `tokens` may be `split(None, LABEL_MAX_WORDS + 1)`: its last item then holds the rest."""
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
    rest_words = " ".join(rest).split()
    if not quantity_safe and not any(len(word) >= 3 and word.isalpha() and word.islower() for word in rest_words):
        return "", False  # a names list or figures after a name: a line-up, a result
    return label, quantity_safe


@lru_cache(maxsize=4096)  # the lines with figures that recur are furniture ("5 min read")
def _coarse_form(text: str) -> str | None:
    """Runs of capitalised words ("C"), figures ("N") and lowercase words ("w"); None without a figure."""
    form: list[str] = []
    for token in text.split():
        if token.isalpha():
            kind = "C" if token[0].isupper() else "w"
        elif any(map(str.isdigit, token)):
            kind = "N"
        elif _capitalised(token):
            kind = "C"
        elif _wordlike(token):
            kind = "w"
        else:
            continue
        if kind != "C" or not form or form[-1] != "C":
            form.append(kind)
    return " ".join(form) if "N" in form else None


def table_rows(texts: Sequence[str | None]) -> set[int]:
    """Positions of the lines that are rows of a table in this article (see the module
    docstring). `texts`: None for a line known to hold no figure (it cannot be a row)."""
    if len(texts) - texts.count(None) < TABLE_MIN_ROWS:
        return set()  # too few lines with a figure for any table (most articles)
    forms = [None if text is None else _coarse_form(text) for text in texts]
    counts: dict[str, int] = {}  # a dict, not a Counter: this runs for many short articles
    for form in forms:
        if form is not None:
            counts[form] = counts.get(form, 0) + 1
    return {position for position, form in enumerate(forms) if form is not None and counts[form] >= TABLE_MIN_ROWS}
