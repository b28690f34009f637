"""Trimmed spans -> article entities: repeats of tagged names, merge short forms and acronyms, vote on types.

Pure: the model runs in `streams.nlp`; this module sees only (text, label, offsets) and the
gazetteer. Every function keeps `text[start:end] == mention.text` for the text it was given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from streams.core import rules
from streams.core.casing import shouted_words
from streams.core.gazetteer import Gazetteer, entity_uri
from streams.core.models import Entity, Mention, MentionField
from streams.core.places import geojson
from streams.core.spans import NAME_LABELS, PARTICLES, TaggedSpan

# Numbers, dates and amounts are not entities a newsroom tags: `merge_entities` drops them.
NUMERIC_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
SUBJECT_FIELDS = {"PERSON": "people", "ORG": "organisations", "GPE": "places", "LOC": "places",
                  "FAC": "places"}

_PARTICLE_PREFIX = re.compile(r"(?i)(?:al|el|ad|ar|as|ash|at|az|an|ul|ud)[-‐‑'’]")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-"})
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,6}|[A-Z]{2,6}")


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
