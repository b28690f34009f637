"""The evidence rules of `boilerplate`: which lines of an article are furniture, given what the
store says earlier articles of its source carried (see `boilerplate` for the rules in words).
Pure functions of the article and that evidence; no store access."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .fingerprint import ParagraphKey
from .models import Paragraph, Removal
from .templates import pinned_share, table_rows
from .settings import DedupSettings

SENTENCE_WORDS = 8  # t = k + w - 1 of the default winnowing: below it a line is a label or a button
_NONE = (0, 0)  # the tally of a fingerprint without evidence


def furniture(paragraph: Paragraph, fingerprint: int, similarity: float) -> Removal:
    return _furniture(paragraph.index, paragraph.text, fingerprint, similarity)


@lru_cache(maxsize=4096, typed=True)  # furniture recurs, often at one place; a Removal is immutable: shared
def _furniture(index: int, text: str, fingerprint: int, similarity: float) -> Removal:
    return Removal(index, text, "boilerplate", None, fingerprint.to_bytes(8, "big").hex(), round(similarity, 4))


def decide(
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    templates: dict[int, tuple[tuple[int, bool], ...]],
    evidence: dict[int, dict[int, bool]],
    carriers: Sequence[int],
    excluded: set[int],
    feedwide: set[int],
    settings: DedupSettings,
) -> tuple[dict[int, Removal], set[int], list[int]]:
    """The evidence rules (module docstring): table rows and related articles first, then the
    edge zone, then the bar each line must reach. Also returns the articles this one is a copy
    of (`excluded`, and an earlier article that carried most of its sentences), and the
    positions in its edge zone, which its entries mark for later articles. `carriers`: the
    fingerprints whose evidence is not empty."""
    stories, copied = related_articles(keys, candidates, evidence, settings)
    copied |= excluded
    related = stories | copied

    tallies: dict[int, tuple[int, int]] = {}  # fingerprint -> (unrelated articles, of them at an edge)
    for fingerprint in {*carriers, *(feedwide & evidence.keys())} if feedwide else carriers:
        every = edge = int(fingerprint in feedwide)
        for other, carried_at_edge in evidence[fingerprint].items():
            if other not in related:
                every += 1
                edge += carried_at_edge
        tallies[fingerprint] = (every, edge)

    carried = {fingerprint for fingerprint, (every, _) in tallies.items() if every}
    evidenced = [False] * len(candidates)
    if carried:
        for order, p in enumerate(candidates):
            if keys[p].fingerprint in carried:
                evidenced[order] = True
            elif p in templates:
                evidenced[order] = any(f in carried for f, _ in templates[p])
    zone = edge_zone(evidenced, settings.edge_allowance)

    skip_unevidenced = skips_unevidenced(settings)
    long_words, short_bar = settings.long_words, settings.short_min_articles
    long_bar, inner_bar = settings.long_min_articles, settings.inner_min_articles
    strong_bar, weak_bar = settings.template_min_articles, settings.inner_min_articles - 1
    rows: set[int] | None = None  # found the first time a line with a figure could go
    removed: dict[int, Removal] = {}
    for order, position in enumerate(candidates):
        if skip_unevidenced and not evidenced[order]:
            continue
        key = keys[position]
        if key.figures:  # only a line with a figure can be a row
            if rows is None:  # the rows among the lines with a figure (the others cannot be rows)
                lines = [p for p, k in enumerate(keys) if k.figures]
                rows = {lines[row] for row in table_rows([paragraphs[p].text for p in lines])}
            if position in rows:
                continue  # a table's rows are the story, whatever recurs
        long = key.words >= long_words
        every, at_edge = tallies.get(key.fingerprint, _NONE)
        # at an edge, one earlier article that also carried the line at an edge is enough
        if zone[order] and not long and at_edge >= short_bar:
            removed[position] = furniture(paragraphs[position], key.fingerprint, 1.0)
            continue
        needed = long_bar if long else inner_bar
        if every >= needed:
            removed[position] = furniture(paragraphs[position], key.fingerprint, 1.0)
            continue
        for fingerprint, strong in templates.get(position, ()):
            every, at_edge = tallies.get(fingerprint, _NONE)
            if (zone[order] and at_edge >= (strong_bar if strong else weak_bar)) or every >= needed:
                removed[position] = furniture(paragraphs[position], fingerprint, pinned_share(paragraphs[position].text))
                break
    return removed, copied, [p for p, at_edge in zip(candidates, zone) if at_edge]


def skips_unevidenced(settings: DedupSettings) -> bool:
    """Whether a line without any evidence is always kept: with every bar at least one article
    (most lines of most articles have none). A bar of 0 (a weak template when
    inner_min_articles is 1) would remove such lines, so then every line is looked at."""
    return min(settings.short_min_articles, settings.long_min_articles, settings.template_min_articles,
               settings.inner_min_articles - 1) >= 1


def related_articles(
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    evidence: dict[int, dict[int, bool]],
    settings: DedupSettings,
) -> tuple[set[int], set[int]]:
    """Earlier articles of the source that tell the same story as this one, so that what they
    share with it is reuse, not furniture: (earlier stories of a running story, which carried
    one of our long paragraphs; the original of a copy, the one article that carried most of
    our sentences, at least two). Lines already carried widely (`long_min_articles` articles)
    are furniture and say nothing about relations; nor do lines under `SENTENCE_WORDS` words."""
    carried: dict[int, int] = {}  # article -> how many of our sentences it carried
    sentences = 0  # our paragraphs long enough to be sentences of a story, not a button or a label
    stories: set[int] = set()
    long_bar, long_words = settings.long_min_articles, settings.long_words
    for position in candidates:
        key = keys[position]
        if key.words < SENTENCE_WORDS:
            continue
        sentences += 1
        articles = evidence[key.fingerprint]
        if not articles or len(articles) >= long_bar:
            continue
        for article in articles:
            carried[article] = carried.get(article, 0) + 1
        if key.words >= long_words:
            stories.update(articles)
    copied: set[int] = set()
    if carried:
        # the most, ties to the smallest id: the same answer in every process
        original, count = min(carried.items(), key=lambda item: (-item[1], item[0]))
        if count >= 2 and 2 * count > sentences:
            copied.add(original)
    return stories, copied

def edge_zone(evidenced: Sequence[bool], allowance: int) -> list[bool]:
    """Whether each candidate sits at an edge of the article: at most `allowance` paragraphs
    without any evidence lie between it and the top, or between it and the bottom. Furniture
    sits in runs at the top and bottom (a standfirst or a first-time line may sit between);
    a line reused in the middle of a story has the story around it."""
    fresh = len(evidenced) - sum(evidenced)  # lines without evidence in all
    zone = []
    before = 0  # lines without evidence above this one
    for seen in evidenced:
        after = fresh - before - (not seen)
        zone.append(before <= allowance or after <= allowance)
        before += not seen
    return zone


def bare_edge_zone(count: int, allowance: int) -> list[bool]:
    """`edge_zone` of `count` lines none of which has evidence: the first and the last
    `allowance` + 1 lines."""
    return [order <= allowance or count - 1 - order <= allowance for order in range(count)]
