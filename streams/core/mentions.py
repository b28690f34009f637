"""Article-level refinements of model spans, before they are merged into entities.

Each function is one mechanism of `streams.core.rules`, derived from how news copy is written,
not from a corpus: titles and roles stand before names and are not part of them; the item's own
metadata names its outlet and its author; a capitalised word that opens a sentence and is written
in lower case elsewhere in the article is a common word; a list enumerates one kind of thing.
Results and listings lines are `streams.core.tables`. Pure: texts and spans in, spans out;
offsets stay exact.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from streams.core import rules, tables
from streams.core.casing import FUNCTION_WORDS, starts_sentence
from streams.core.spans import TaggedSpan
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
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")


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
    first = text[start:end].split(None, 1)[:1]
    if not first or (first[0].casefold() not in ROLE_HEADS and first[0].casefold() not in ROLE_QUALIFIERS):
        return start, None  # the common case, decided cheaply
    words = list(_WORD.finditer(text, start, end))
    n = _role_words([w.group() for w in words])
    if n == 0 or n >= len(words) or not any(w.group()[:1].isupper() for w in words[n:]):
        return start, None
    if not person and (words[n - 1].group().casefold() not in PERSONAL_TITLES or len(words) - n < 2):
        return start, None
    return words[n].start(), text[words[0].start():words[n - 1].end()]


def role_before(text: str, start: int) -> str | None:
    """The role written right before a name ("said operations director Ana Lindqvist")."""
    head = text[max(0, start - 60):start]
    last = head.split()[-1:]
    if not head[-1:].isspace() or not last or last[0].casefold().rstrip(",") not in ROLE_HEADS:
        return None  # the word right before is no role head: the common case, decided cheaply
    before = list(_WORD.finditer(head))[-4:]
    for k in range(len(before)):
        words = before[k:]
        if _role_words([w.group() for w in words]) == len(words):
            return head[words[0].start():words[-1].end()]
    return None


def refine(units: Sequence[Unit], spans: Sequence[TaggedSpan], metadata: ItemMetadata) -> list[TaggedSpan]:
    """The article's spans after the mechanisms switched on, unit by unit; a title before a
    person's name is cut from the span and kept as the span's `role`."""
    common = lower_words(units)
    names = _MetadataNames.of(metadata)
    out: list[TaggedSpan] = []
    for (field, offset, text), here in _by_unit(units, spans):
        dense = tables.number_dense(text)
        kept = [s for s in (_refine_span(s, text, offset, common, names, dense) for s in here) if s is not None]
        if rules.on("bracket_country"):
            kept = tables.bracketed_competitors(text, offset, kept)
        out += kept
        if rules.on("lists"):
            out += list_members(field, offset, text, kept)
        if dense and rules.on("score_teams"):
            out += tables.score_teams(field, offset, text, kept, common)
    return out


def _refine_span(span: TaggedSpan, text: str, offset: int, common: frozenset[str],
                 names: _MetadataNames, dense: bool) -> TaggedSpan | None:
    if span.key is not None:  # the gazetteer's spans are exactly what the user listed
        role = role_before(text, span.mention.start - offset) if span.label == "PERSON" and rules.on("roles") else None
        return span if role is None else replace(span, role=role)
    m, label, role = span.mention, span.label, None
    if rules.on("roles") and label in ("PERSON", "ORG", "NORP", "GPE"):
        new_start, role = strip_role(text, m.start - offset, m.end - offset, label == "PERSON")
        if role is not None:
            m = Mention(text[new_start:m.end - offset], offset + new_start, m.end, m.field)
            label = "PERSON"
        elif label == "PERSON":
            role = role_before(text, m.start - offset)
    if rules.on("sentence_initial") and _is_common_opener(text, m.start - offset, m.text, common):
        return None
    if rules.on("metadata"):
        label = names.label(m.text, label)
    if dense and rules.on("score_lines") and label in ("GPE", "LOC", "PERSON", "NORP"):
        if tables.next_to_score(text, m.end - offset):
            label = "ORG"
    if (m, label, role) == (span.mention, span.label, span.role):
        return span
    return replace(span, mention=m, label=label, role=role)


def _by_unit(units: Sequence[Unit], spans: Sequence[TaggedSpan]) -> list[tuple[Unit, list[TaggedSpan]]]:
    """Each unit with the spans inside it (spans come unit by unit, in order)."""
    groups: list[tuple[Unit, list[TaggedSpan]]] = [(u, []) for u in units]
    starts = {}
    for i, (field, offset, _) in enumerate(units):
        starts.setdefault(field, []).append((offset, i))
    for span in spans:
        m = span.mention
        candidates = starts.get(m.field, ())
        at = bisect_right(candidates, (m.start, len(units))) - 1
        if at >= 0:
            groups[candidates[at][1]][1].append(span)
    return groups


def lower_words(units: Sequence[Unit]) -> frozenset[str]:
    """Words the article writes in lower case: those are common words, not names."""
    return frozenset(w for _, _, text in units for w in _LOWER_WORD.findall(text))


def _is_common_opener(text: str, start: int, surface: str, common: frozenset[str]) -> bool:
    """A one-word span that opens a sentence and that the article also writes in lower case
    ("River levels fall", "Council leader Sam Okafor") or that is a function word."""
    if " " in surface or not surface[:1].isupper() or surface.isupper():
        return False
    low = surface.lower()
    return (low in common or low in FUNCTION_WORDS) and starts_sentence(text, start)


@dataclass(frozen=True, slots=True)
class _MetadataNames:
    """The item's outlet and authors, folded once per article."""

    outlet: str
    authors: frozenset[str]

    @classmethod
    def of(cls, metadata: ItemMetadata) -> _MetadataNames:
        authors = (_fold(a) for a in re.split(r",|\band\b|&", metadata.by) if a.strip())
        return cls(_fold(metadata.source), frozenset(authors))

    def label(self, surface: str, label: str) -> str:
        """The outlet is an organisation, an author a person, whatever the model said."""
        if not self.outlet and not self.authors:
            return label
        folded = _fold(surface)
        if folded == self.outlet:
            return "ORG"
        return "PERSON" if folded in self.authors else label


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


_ITEM = r"[A-Z][\w'’.\-]*(?: [A-Z][\w'’.\-]*){0,3}"
_LIST = re.compile(rf"{_ITEM}(?:(?:, | and |, and | & ){_ITEM}){{2,}}")
_SEPARATOR = re.compile(r", and |, | and | & ")


def list_members(field: MentionField, offset: int, text: str, here: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """Untagged items of a list whose other items the model tagged alike ("Essex, Derbyshire
    and Surrey", "Did not bat: Vaas, Dharmasena, Muralitharan"): a list enumerates one kind.
    Needs three items or more, most of them tagged with one name label; new spans echo the
    list's label and do not vote."""
    found: list[TaggedSpan] = []
    local = [(s.mention.start - offset, s.mention.end - offset, s.label) for s in here]
    for match in _LIST.finditer(text):
        items, at = [], match.start()
        for sep in _SEPARATOR.finditer(text, match.start(), match.end()):
            items.append((at, sep.start()))
            at = sep.end()
        end = match.end()
        if text[end - 1] == "." and "." not in text[at:end - 1] and end - at > 3:
            end -= 1  # the full stop after the last item ends the sentence ("Co." or "U.S." keep theirs)
        items.append((at, end))
        labels, untagged = [], []
        for s, e in items:
            exact = [label for ts, te, label in local if (ts, te) == (s, e)]
            if exact:
                labels.append(exact[0])
            elif not any(ts < e and s < te for ts, te, _ in local):
                untagged.append((s, e))
        if not labels or not untagged:
            continue
        label = max(set(labels), key=labels.count)
        if label not in ("PERSON", "ORG", "GPE", "LOC") or labels.count(label) * 2 < len(items):
            continue
        for s, e in untagged:
            if not (" " not in text[s:e] and starts_sentence(text, s)):
                found.append(TaggedSpan(Mention(text[s:e], offset + s, offset + e, field), label, None, votes=False))
    return found
