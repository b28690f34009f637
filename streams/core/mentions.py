"""Article-level refinements of model spans, before they are merged into entities.

Each function is one mechanism of `streams.core.rules`, derived from how news copy is written,
not from a corpus: titles and roles stand before names and are not part of them; the item's own
metadata names its outlet and its author; a capitalised word that opens a sentence and is written
in lower case elsewhere in the article is a common word; in a results line the name next to a
score is a team. Pure: texts and spans in, spans out; offsets stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from streams.core import rules
from streams.core.casing import FUNCTION_WORDS, starts_sentence
from streams.core.entities import TaggedSpan
from streams.core.models import Mention, MentionField

# One text of the article: (field, offset of the text in its field, text).
Unit = tuple[MentionField, int, str]

# Head words of titles and roles that stand before a person's name ("Councillor Pieter de
# Vries", "Prime Minister John Howard", "operations director Ana Lindqvist").
ROLE_HEADS = frozenset(
    "mr mrs ms miss dr mr. mrs. ms. dr. prof prof. professor sir dame lord lady king queen prince"
    " princess sheikh emir president vice-president premier chancellor minister secretary"
    " governor mayor councillor councilor senator sen. congressman congresswoman representative"
    " rep. ambassador envoy judge justice general gen. colonel col. major maj. captain capt."
    " lieutenant lt. commander admiral sergeant sgt. officer inspector superintendent constable"
    " chairman chairwoman chair chief director manager coach spokesman spokeswoman spokesperson"
    " leader bishop archbishop cardinal pope rabbi imam ayatollah father reverend rev. mp"
    " executive ceo president-elect co-premier teacher head headteacher editor"
    " correspondent analyst economist striker midfielder defender goalkeeper".split()
)
# Titles that only ever stand before a person: a span the model called an organisation or a
# place that opens with one is a person ("Councillor Pieter de Vries"), unlike "General Motors".
PERSONAL_TITLES = frozenset(
    "mr mrs ms miss dr mr. mrs. ms. dr. prof. professor sir dame councillor councilor senator sen."
    " congressman congresswoman mayor president premier chancellor minister governor ambassador"
    " sheikh emir ayatollah pope cardinal archbishop bishop rabbi imam".split()
)
# Words that qualify a role head ("Prime Minister", "Foreign Minister", "Deputy Mayor").
ROLE_QUALIFIERS = frozenset(
    "prime deputy vice acting first foreign interior defence defense finance trade justice"
    " health education state general chief executive managing senior former opposition"
    " party council city county regional national police army military team club company"
    " operations sales marketing technical press communications".split()
)
_WORD = re.compile(r"\S+")
_SCORE_AFTER = re.compile(r"\s+\d{1,3}(?=\s|$|[,.;)])")
_NUMERIC = re.compile(r"[\d.,:/\-–+%()]*\d[\d.,:/\-–+%()]*")


@dataclass(frozen=True, slots=True)
class ItemMetadata:
    """What the item says about itself: the outlet (`altIds` source) and the byline (`by`)."""

    source: str = ""
    by: str = ""


def _role_words(words: Sequence[str]) -> int:
    """How many of `words` (from the start) form a role: qualifiers ending in a head."""
    end = 0
    for i, word in enumerate(words):
        low = word.casefold().rstrip(",")
        if low in ROLE_HEADS:
            end = i + 1
        elif low not in ROLE_QUALIFIERS:
            break
    return end


def strip_role(text: str, start: int, end: int, person: bool = True) -> tuple[int, str | None]:
    """(new start, role) for a span opening with a title: "Councillor Pieter de Vries" -> the
    start of "Pieter", "Councillor". The rest must still hold a capitalised word. A span the
    model did not call a person loses a title only if it is a personal one and leaves a
    name of two words or more."""
    words = list(_WORD.finditer(text, start, end))
    n = _role_words([w.group() for w in words])
    if n == 0 or n >= len(words) or not any(w.group()[:1].isupper() for w in words[n:]):
        return start, None
    if not person and (words[n - 1].group().casefold() not in PERSONAL_TITLES or len(words) - n < 2):
        return start, None
    return words[n].start(), text[words[0].start():words[n - 1].end()]


def role_before(text: str, start: int) -> str | None:
    """The role written right before a name ("said operations director Ana Lindqvist")."""
    before = [m for m in _WORD.finditer(text, max(0, start - 60), start)][-4:]
    for k in range(len(before)):
        words = before[k:]
        if words and words[-1].end() == len(text[:start].rstrip()) and _role_words([w.group() for w in words]) == len(words):
            return text[words[0].start():words[-1].end()]
    return None


def refine(units: Sequence[Unit], spans: Sequence[TaggedSpan], metadata: ItemMetadata) -> list[TaggedSpan]:
    """The article's spans after the mechanisms switched on; a title before a person's name
    is cut from the span and kept as the span's `role`."""
    texts = {(field, offset): text for field, offset, text in units}
    common = lower_words(units) if rules.on("sentence_initial") else frozenset()
    out: list[TaggedSpan] = []
    for span in spans:
        m, label, key = span.mention, span.label, span.key
        text, base = _unit_of(texts, m)
        role = None
        if key is None and text is not None and rules.on("roles") and label in ("PERSON", "ORG", "NORP", "GPE"):
            new_start, role = strip_role(text, m.start - base, m.end - base, label == "PERSON")
            if role is not None:
                m = Mention(text[new_start:m.end - base], base + new_start, m.end, m.field)
                label = "PERSON"
            elif label == "PERSON":
                role = role_before(text, m.start - base)
        if key is None and text is not None and common and _is_common_opener(text, m.start - base, m.text, common):
            continue
        if key is None and rules.on("metadata"):
            label = _metadata_label(m.text, label, metadata)
        if key is None and text is not None and rules.on("score_lines") and label in ("GPE", "LOC", "PERSON", "NORP"):
            if _next_to_score(text, m.start - base, m.end - base):
                label = "ORG"
        out.append(replace(span, mention=m, label=label, role=role))
    if rules.on("bracket_country"):
        out = _bracketed_places(out, texts)
    if rules.on("lists"):
        out += list_members(units, out)
    if rules.on("score_teams"):
        out += score_teams(units, out)
    return out


_TEAM = re.compile(r"(?<![\w'’.])[A-Z][\w'’.\-]*(?: (?:of|[A-Z][\w'’.\-]*)){0,3}(?=\s+\d{1,3}(?:\s|$|[,.;)]))")


def score_teams(units: Sequence[Unit], spans: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """In a results or standings line (dense with numbers), a capitalised name the model left
    untagged, directly followed by a score, is a team ("Harlequins 75 Gloucester 19")."""
    found: list[TaggedSpan] = []
    for field, offset, text in units:
        if not _number_dense(text):
            continue
        taken = [(s.mention.start - offset, s.mention.end - offset) for s in spans if s.mention.field == field
                 and offset <= s.mention.start and s.mention.end <= offset + len(text)]
        for match in _TEAM.finditer(text):
            s, e = match.span()
            if any(s < te and ts < e for ts, te in taken) or text[s:e].casefold() in FUNCTION_WORDS:
                continue
            found.append(TaggedSpan(Mention(text[s:e], offset + s, offset + e, field), "ORG", None))
    return found


_ITEM = r"[A-Z][\w'’.\-]*(?: [A-Z][\w'’.\-]*){0,3}"
_LIST = re.compile(rf"{_ITEM}(?:(?:, | and |, and | & ){_ITEM}){{2,}}")
_SEPARATOR = re.compile(r", and |, | and | & ")


def list_members(units: Sequence[Unit], spans: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """Untagged items of a list whose other items the model tagged alike ("Essex, Derbyshire
    and Surrey", "Did not bat: Vaas, Dharmasena, Muralitharan"): a list enumerates one kind.
    Needs three items or more, most of them tagged with one name label; new spans echo the
    list's label and do not vote."""
    found: list[TaggedSpan] = []
    for field, offset, text in units:
        here = [s for s in spans if s.mention.field == field and offset <= s.mention.start
                and s.mention.end <= offset + len(text)]
        for match in _LIST.finditer(text):
            items, at = [], match.start()
            for sep in _SEPARATOR.finditer(text, match.start(), match.end()):
                items.append((at, sep.start()))
                at = sep.end()
            items.append((at, match.end()))
            labels = []
            untagged = []
            for s, e in items:
                exact = [t for t in here if (t.mention.start - offset, t.mention.end - offset) == (s, e)]
                overlaps = [t for t in here if t.mention.start - offset < e and s < t.mention.end - offset]
                if exact:
                    labels.append(exact[0].label)
                elif not overlaps:
                    untagged.append((s, e))
            if not labels or not untagged:
                continue
            label = max(set(labels), key=labels.count)
            if label not in ("PERSON", "ORG", "GPE", "LOC") or labels.count(label) * 2 < len(items):
                continue
            for s, e in untagged:
                if not (starts_sentence(text, s) and " " not in text[s:e]):
                    mention = Mention(text[s:e], offset + s, offset + e, field)
                    found.append(TaggedSpan(mention, label, None, votes=False))
    return found


def _bracketed_places(spans: list[TaggedSpan], texts: dict[tuple[str, int], str]) -> list[TaggedSpan]:
    """"Antonella Bellutti (Italy) 3:31.526": in a listing, a name of two or three words
    followed by a bracketed place is a competitor, a person."""
    places = {(s.mention.field, s.mention.start) for s in spans if s.label == "GPE"}
    out = []
    for span in spans:
        m = span.mention
        words = m.text.split()
        if span.key is None and span.label != "PERSON" and 2 <= len(words) <= 3 and all(w[:1].isupper() for w in words):
            text, base = _unit_of(texts, m)
            after = text[m.end - base:m.end - base + 3] if text is not None else ""
            if after.startswith(" (") and (m.field, m.end + 2) in places:
                span = replace(span, label="PERSON")
        out.append(span)
    return out


def _unit_of(texts: dict[tuple[str, int], str], m: Mention) -> tuple[str | None, int]:
    for (field, offset), text in texts.items():
        if field == m.field and offset <= m.start and m.end <= offset + len(text):
            return text, offset
    return None, 0


def lower_words(units: Sequence[Unit]) -> frozenset[str]:
    """Words the article writes in lower case: those are common words, not names."""
    return frozenset(w for _, _, text in units for w in re.findall(r"\b[a-z][a-z'-]+\b", text))


def _is_common_opener(text: str, start: int, surface: str, common: frozenset[str]) -> bool:
    """A one-word span that opens a sentence and that the article also writes in lower case
    ("River levels fall", "Council leader Sam Okafor") or that is a function word."""
    if " " in surface or not surface[:1].isupper() or surface.isupper():
        return False
    low = surface.lower()
    return starts_sentence(text, start) and (low in common or low in FUNCTION_WORDS)


def _metadata_label(surface: str, label: str, metadata: ItemMetadata) -> str:
    """The item's outlet is an organisation, its author a person, whatever the model said."""
    folded = " ".join(surface.casefold().split())
    if metadata.source and folded == " ".join(metadata.source.casefold().split()):
        return "ORG"
    authors = {" ".join(a.casefold().split()) for a in re.split(r",|\band\b|&", metadata.by) if a.strip()}
    if folded in authors and label != "PERSON":
        return "PERSON"
    return label


def _next_to_score(text: str, start: int, end: int) -> bool:
    """A name directly followed by a small integer in a line dense with numbers is a team in a
    results listing ("Wigan 2 Bolton 1", "Essex 372"): teams are organisations."""
    return _SCORE_AFTER.match(text, end) is not None and _number_dense(text)


def _number_dense(text: str) -> bool:
    """A line where numbers are at least a quarter of the words: results, tables, listings."""
    words = _WORD.findall(text)
    return sum(bool(_NUMERIC.fullmatch(w)) for w in words) * 4 >= len(words)
