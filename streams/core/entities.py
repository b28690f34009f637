"""Model spans -> article entities: trim spans, merge short forms and acronyms, vote on types.

Pure: the model runs in `streams.nlp`; this module sees only (text, label, offsets) and the
gazetteer. Every function keeps `text[start:end] == mention.text` for the text it was given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from streams.core import rules
from streams.core.casing import shouted_words, starts_sentence
from streams.core.gazetteer import Gazetteer, entity_uri
from streams.core.models import Entity, Mention, MentionField
from streams.core.places import geojson

# Labels that name something; numbers, dates and the like are never trimmed into names.
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"})
# Numbers, dates and amounts are not entities a newsroom tags: `merge_entities` drops them.
NUMERIC_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
SUBJECT_FIELDS = {"PERSON": "people", "ORG": "organisations", "GPE": "places", "LOC": "places",
                  "FAC": "places"}

# Name particles: "Baghdadi" is the short form of "Abu Bakr al-Baghdadi".
PARTICLES = frozenset({"al", "el", "ad", "ar", "as", "ash", "at", "az", "bin", "ben", "ibn",
                       "bint", "van", "von", "der", "den", "de", "del", "della", "di", "da", "du",
                       "dos", "das", "do", "la", "le", "ter", "ten", "zu", "y"})
_PARTICLE_PREFIX = re.compile(r"(?i)(?:al|el|ad|ar|as|ash|at|az|an|ul|ud)[-‐‑'’]")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-"})

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
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,6}|[A-Z]{2,6}")


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


def repeat_mentions(units: Sequence[tuple[MentionField, int, str]], spans: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """Untagged repeats of the article's names in its texts, given as (field, offset, text).

    The model tags a name in one sentence and misses it in the next, and misses shouted
    copies ("KETTERING SIGN ELLIS") most. Outside shouted words a repeat matches exactly; inside
    them, case-insensitively, and only names the article spells in mixed case (never "IS").
    Any span, numeric ones included ("May 13"), blocks a repeat from overlapping it."""
    by_surface: dict[str, TaggedSpan] = {}
    for span in spans:
        if span.label in NAME_LABELS or span.key:
            by_surface.setdefault(span.mention.text, span)
    if not by_surface:
        return []
    by_lower = {}
    for surface, span in by_surface.items():
        if not surface.isupper():
            by_lower.setdefault(surface.lower(), span)
    alternatives = "|".join(re.escape(t) for t in sorted(by_surface, key=lambda t: (-len(t), t)))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    found: list[TaggedSpan] = []
    for field, offset, text in units:
        taken = [(m.start - offset, m.end - offset) for m in (s.mention for s in spans)
                 if m.field == field and offset <= m.start and m.end <= offset + len(text)]
        shouted = shouted_words(text)
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            if any(start < e and s < end for s, e in shouted):
                source = by_lower.get(match.group().lower()) if match.group().isupper() else None
            else:
                source = by_surface.get(match.group())
            if source is None:
                continue
            taken.append((start, end))
            mention = Mention(match.group(), offset + start, offset + end, field)
            found.append(TaggedSpan(mention, source.label, source.key, votes=False))
    return found


def merge_entities(spans: Sequence[TaggedSpan], gazetteer: Gazetteer | None = None) -> list[Entity]:
    """Group an article's spans into entities, in order of first mention (headline first)."""
    spans = _unique([s for s in spans if s.label not in NUMERIC_LABELS], gazetteer)
    if not spans:
        return []
    groups = _Groups(len(spans))
    first_by_key: dict[str, int] = {}
    for i, span in enumerate(spans):
        # One surface, one entity, typed by a vote (`_vote`). Splitting by type instead scores
        # the same on dev-ner (bench/README.md) but shows one name as two things.
        surface = _norm(span.mention.text) if rules.on("vote") else (_norm(span.mention.text), span.label)
        for key in (surface, "\0" + span.key if span.key else None):
            if key is not None:
                groups.union(first_by_key.setdefault(key, i), i)
    if rules.on("short_forms"):
        _merge_short_forms(spans, groups)
    if rules.on("acronyms"):
        _merge_acronyms(spans, groups)
    return [_entity(spans, members, gazetteer) for members in groups.members()]


def _unique(spans: Sequence[TaggedSpan], gazetteer: Gazetteer | None) -> list[TaggedSpan]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for span in sorted(spans, key=_position):
        m = span.mention
        if (m.field, m.start, m.end) in seen:
            continue
        seen.add((m.field, m.start, m.end))
        if span.key is None and gazetteer is not None and m.text in gazetteer.surfaces:
            span = TaggedSpan(m, span.label, gazetteer.surfaces[m.text])
        out.append(span)
    return out


def _position(span: TaggedSpan) -> tuple[int, int, int]:
    m = span.mention
    return (0 if m.field == "headline" else 1, m.start, m.end)


def _norm(surface: str) -> str:
    """Same name, other spelling: case, curly quotes, dots in acronyms, spacing."""
    return " ".join(surface.translate(_APOSTROPHES).replace(".", "").casefold().split())


class _Groups:
    """Union-find over span indices; each root is an entity."""

    __slots__ = ("parent",)

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the earlier span stays the root, so entities keep first-mention order
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())


def _profile(spans: Sequence[TaggedSpan], groups: _Groups) -> dict[int, tuple[str, int, list[str]]]:
    """root -> (majority label, most tokens in a surface, surfaces)."""
    out = {}
    for members in groups.members():
        surfaces = [spans[i].mention.text for i in members]
        label = _vote([spans[i] for i in members])
        out[groups.find(members[0])] = (label, max(len(s.split()) for s in surfaces), surfaces)
    return out


def _merge_short_forms(spans: Sequence[TaggedSpan], groups: _Groups) -> None:
    """A surname or shorter form joins the one full name it can stand for."""
    profile = _profile(spans, groups)
    persons = [r for r, (label, size, _) in profile.items() if label == "PERSON" and size >= 2]
    index: dict[str, set[int]] = {}
    for root in persons:
        for surface in profile[root][2]:
            for short in short_forms(surface):
                index.setdefault(short, set()).add(root)
    # Longest first, so "George Bush" joins "George W. Bush" before "Bush" looks for a target.
    for root in sorted(profile, key=lambda r: -profile[r][1]):
        size, surfaces = profile[root][1], profile[root][2]
        targets = {
            groups.find(t)
            for s in surfaces
            for t in index.get(_norm(s), ())
            if profile[t][1] > size
        } - {groups.find(root)}
        if len(targets) == 1:
            groups.union(root, targets.pop())


def short_forms(name: str) -> set[str]:
    """Normalised forms that may stand for a person's full name in later mentions."""
    tokens = name.split()
    while len(tokens) > 2 and tokens[-1].casefold().rstrip(",") in _SUFFIXES:
        tokens = tokens[:-1]
    if len(tokens) < 2:
        return set()
    forms = {" ".join(tokens[k:]) for k in range(1, len(tokens))}
    if len(tokens) > 2:
        forms.add(f"{tokens[0]} {tokens[-1]}")
    if not tokens[0].endswith("."):  # "Pieter", not the initial "J."
        forms.add(tokens[0])
    last = tokens[-1]
    bare = _PARTICLE_PREFIX.sub("", last, count=1) if _PARTICLE_PREFIX.match(last) else last
    if bare and bare != last:
        forms.add(bare)
    # "Laden" alone is not how "bin Laden" is written; keep particle forms whole.
    if len(tokens) >= 2 and tokens[-2].casefold() in PARTICLES:
        forms.discard(last)
    return {_norm(f) for f in forms if any(c.isupper() for c in f)}


def _merge_acronyms(spans: Sequence[TaggedSpan], groups: _Groups) -> None:
    """"KDP" joins "Kurdistan Democratic Party" when exactly one expansion fits."""
    profile = _profile(spans, groups)
    expansions: dict[str, set[int]] = {}
    for root, (label, size, surfaces) in profile.items():
        if label != "PERSON" and size >= 2:
            for surface in surfaces:
                letters = initials(surface)
                if len(letters) >= 2:
                    expansions.setdefault(letters, set()).add(root)
    for root, (label, size, surfaces) in profile.items():
        if size != 1:
            continue
        acronyms = {s.replace(".", "") for s in surfaces if _ACRONYM.fullmatch(s)}
        targets = {groups.find(t) for a in acronyms for t in expansions.get(a, ())}
        targets.discard(groups.find(root))
        if len(targets) == 1:
            groups.union(root, targets.pop())


def initials(name: str) -> str:
    """Initials of the capitalised words: "Organisation for Security ..." -> "OS..."."""
    return "".join(w[0] for w in re.split(r"[\s\-]+", name) if w[:1].isupper())


def _vote(spans: Sequence[TaggedSpan]) -> str:
    """Majority label; ties go to the fullest mention, then the earliest."""
    spans = [s for s in spans if s.votes] or spans
    counts = Counter(s.label for s in spans)
    best = max(counts.values())
    tied = {label for label, n in counts.items() if n == best}
    if len(tied) == 1:
        return tied.pop()
    for span in sorted(spans, key=lambda s: (-len(s.mention.text.split()), _position(s))):
        if span.label in tied:
            return span.label
    raise AssertionError("unreachable: a tied label has a span")


def _entity(spans: Sequence[TaggedSpan], members: list[int], gazetteer: Gazetteer | None) -> Entity:
    group = [spans[i] for i in members]
    key = next((s.key for s in group if s.key), None)
    if key is not None and gazetteer is not None and key in gazetteer.names:
        name, label = gazetteer.names[key], gazetteer.labels[key]
    else:
        name, label = _fullest(group), _vote(group)
    aliases = []
    roles = tuple(dict.fromkeys(s.role for s in group if s.role))
    for span in group:
        if span.mention.text != name and span.mention.text not in aliases:
            aliases.append(span.mention.text)
    return Entity(
        name=name,
        type=label,
        mentions=tuple(s.mention for s in group),
        aliases=tuple(aliases),
        uri=entity_uri(key),
        roles=roles,
    )


def _fullest(group: Sequence[TaggedSpan]) -> str:
    """Most words, then not shouted ("Kettering" over "KETTERING"), longest, first."""
    best = min(
        enumerate(group),
        key=lambda p: (-len(p[1].mention.text.split()), p[1].mention.text.isupper(),
                       -len(p[1].mention.text), p[0]),
    )
    return best[1].mention.text


def ninjs_subjects(entities: Sequence[Entity]) -> dict[str, list[dict]]:
    """ninjs 3.1 `people`, `organisations` and `places` items for the article's entities.

    `literal` is a stable free-text id (a slug of the canonical name); `uri` when known (Wikidata
    from the gazetteer, GeoNames for a linked place); `geoJSON`, a Point, for a linked city or
    continent.
    """
    out: dict[str, list[dict]] = {"people": [], "organisations": [], "places": []}
    seen: set[tuple[str, str]] = set()
    for entity in entities:
        field = SUBJECT_FIELDS.get(entity.type)
        if field is None or (field, entity.name) in seen:
            continue
        seen.add((field, entity.name))
        item: dict = {"name": entity.name, "rel": "mentions"}
        if entity.uri:
            item["uri"] = entity.uri
        item["literal"] = slug(entity.name)
        if field == "places" and entity.point is not None:
            item["geoJSON"] = geojson(entity.point)
        out[field].append(item)
    return out


def slug(name: str) -> str:
    return "-".join(re.findall(r"\w+", name.translate(_APOSTROPHES).replace("'", "").casefold()))
