"""Shouted text: ALL-CAPS headlines, datelines and table lines, re-cased before NER.

The model was trained on mixed case and tags capitals poorly. Re-casing spells each shouted
word as the article spells it elsewhere, and changes no character's position, so offsets into
the original text stay exact. A wire dateline ("OSLO, March 3 -") also names a place the model
rarely tags at the very start of a text. Pure: strings in, strings out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

from streams.core import rules

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_RUN_GAP = re.compile(r"[\s\-–—&/'.]*")
_CAPS = r"[A-Z][A-Z'’.\-]*[A-Z.]"
_DATELINE = re.compile(  # [byline] PLACE[, PLACE][, Region] date | (Agency) | dash
    rf"^(?:[A-Z][\w'’.\-]*\s+){{0,4}}?(?P<place>{_CAPS}(?:[\s,]+{_CAPS})*)"
    r"(?=(?:,\s*[A-Z][a-z][\w.]*(?:\s+[A-Z][\w.]*)*)?\s*,?\s*"
    r"(?:\d|\(|[-–—]\s|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d))"
)
_REGION = re.compile(r",\s*(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d)(?P<region>[A-Z][a-z][\w.]*(?:\s+[A-Z][\w.]*)*)(?=\s*,?\s*(?:\d|\(|[-–—]\s))")
_PLACE_PART = re.compile(r"[^,\s][^,]*")
# What ends a sentence or opens a quote, right before a word; checked on a short window.
_SENTENCE_BREAK = re.compile(r"(?:[.!?:;][\"'’”)]*\s+|[\"“‘]\s*)$")
# English function words: a shouted one the article never spells otherwise is lower case.
FUNCTION_WORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being"
    " below between both but by can could did do does doing down during each few for from further"
    " had has have having he her here hers him his how i if in into is it its itself just me more"
    " most my no nor not now of off on once only or other our ours out over own same she should so"
    " some such than that the their theirs them then there these they this those through to too"
    " under until up upon very was we were what when where which while who whom why will with"
    " would you your yours says said say".split()
)
_DASHES_GAP = (" - ", " -- ", " – ", " — ")
SHOUTED_SHARE = 0.6  # share of capitalised words above which a whole text counts as shouted
SHOUTED_RUN = 3  # consecutive ALL-CAPS words that are shouting, not acronyms ("US FDA")


def starts_sentence(text: str, pos: int) -> bool:
    """Whether `text[pos]` opens the text, a sentence or a quote (looks back a few characters)."""
    head = text[max(0, pos - 8):pos]
    if pos <= 8 and not head.strip():
        return True
    return _SENTENCE_BREAK.search(head) is not None


@lru_cache(maxsize=4096)
def shouted_words(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of the ALL-CAPS words that are shouting rather than acronyms. Cached: case
    forms, recasing and repeat search each ask it of every text of an article."""
    words = list(_WORD.finditer(text))
    caps = [m for m in words if m.group().isupper()]
    long_words = [m for m in words if len(m.group()) >= 2]
    long_caps = [m for m in caps if len(m.group()) >= 2]
    if len(long_caps) >= 2 and len(long_caps) >= SHOUTED_SHARE * len(long_words):
        return tuple(m.span() for m in caps)
    out: set[tuple[int, int]] = set()
    run: list[re.Match] = []
    for m in [*words, None]:
        if m is not None and m.group().isupper() and (
            not run or _RUN_GAP.fullmatch(text, run[-1].end(), m.start())
        ):
            run.append(m)
            continue
        if sum(len(r.group()) >= 2 for r in run) >= SHOUTED_RUN:
            out.update(r.span() for r in run)
        run = [m] if m is not None and m.group().isupper() else []
    dateline = _DATELINE.match(text)
    if dateline:
        start = dateline.start("place")
        out.update(m.span() for m in _WORD.finditer(text, start, dateline.end("place")))
    return tuple(sorted(out))


def dateline_places(text: str) -> list[tuple[int, int]]:
    """(start, end) of the place names of a wire dateline opening `text` ("PARIS, FRANCE 2031-04-02",
    "Jane Doe WASHINGTON (Reuters) -"); the model rarely tags a place that starts a text."""
    dateline = _DATELINE.match(text)
    if dateline is None:
        return []
    places = [(m.start(), m.start() + len(m.group().rstrip()))
              for m in _PLACE_PART.finditer(text, dateline.start("place"), dateline.end("place"))]
    region = _REGION.match(text, dateline.end("place"))
    if region and rules.on("dateline_region"):
        places.append(region.span("region"))
    return places


def add_dateline_places(text: str, spans: Sequence[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Model spans (start, end, label, key) plus the dateline's places as GPE where the model
    has no span inside them; a model span running into a place is cut at its edge."""
    out = list(spans)
    for ps, pe in dateline_places(text):
        if any(ps <= s and e <= pe for s, e, _, _ in out):
            continue
        kept = []
        for s, e, label, key in out:
            if s < pe and e > ps:
                kept += [(s, ps, label, key)] if s < ps else []
                kept += [(pe, e, label, key)] if e > pe else []
            else:
                kept.append((s, e, label, key))
        out = sorted([*kept, (ps, pe, "GPE", "")])
    return out


def case_forms(texts: Sequence[str]) -> dict[str, str]:
    """lower-case word -> its usual spelling in the article's normal (not shouted) text.

    Spellings at sentence starts are capitalised whatever the word is: they count only for
    words the article never writes elsewhere."""
    inner: dict[str, Counter[str]] = {}
    initial: dict[str, Counter[str]] = {}
    for text in texts:
        shouted = set(shouted_words(text))
        for m in _WORD.finditer(text):
            if m.span() in shouted:
                continue
            seen = initial if starts_sentence(text, m.start()) else inner
            seen.setdefault(m.group().lower(), Counter())[m.group()] += 1
    forms = {key: _usual(seen) for key, seen in initial.items()}
    forms.update((key, _usual(seen)) for key, seen in inner.items())
    return forms


def _usual(seen: Counter[str]) -> str:
    """The commonest mixed-case spelling, unless capitals are commoner (an acronym: "NATO")."""
    caps = sum(n for form, n in seen.items() if form.isupper())
    mixed = [(n, form) for form, n in seen.items() if not form.isupper()]
    if mixed and sum(n for n, _ in mixed) >= caps:
        return max(mixed)[1]
    return max(seen, key=seen.__getitem__)


def recase(text: str, forms: Mapping[str, str]) -> str:
    """`text` with its shouted words spelt as the article usually spells them; words the
    article never spells otherwise become lower case (a sentence start gets its capital back).
    Same length, same positions."""
    spans = shouted_words(text)
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        word = text[start:end]
        lower = word.lower()
        form = forms.get(lower)
        if form is None:
            form = lower
            if starts_sentence(text, start) or text.endswith(_DASHES_GAP, 0, start):
                form = word[0] + form[1:]
        if len(form) == len(word):
            for i, c in enumerate(form):
                # Per character, and only when the case change keeps one character ("ß").
                if c.islower() and len(chars[start + i].lower()) == 1:
                    chars[start + i] = chars[start + i].lower()
    return "".join(chars)
