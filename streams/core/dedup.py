"""Paragraph dedup: the one entry the pipeline calls.

`deduplicate` removes, from one article, later repeats of its own paragraphs (`repeats`) and
then feed boilerplate judged on the source's rolling hash table (`boilerplate`). It never
rewrites a kept paragraph, and it records every article in the table, so priming a store is
calling it on history and discarding the results.
"""

from __future__ import annotations

from .boilerplate import find_boilerplate
from .source_table import article_id
from .feedwide import FeedContext
from .fingerprint import key_paragraph
from .models import Article, DedupResult, Removal, SeenStore
from .repeats import find_repeats
from .settings import DedupSettings


def deduplicate(
    article: Article, store: SeenStore, settings: DedupSettings, *, priming: bool = False,
    context: FeedContext | None = None,
) -> DedupResult:
    """Split `article.paragraphs` into kept and removed, and record the article in `store`.

    `priming=True` marks the recorded entries as history read in advance (a warm start): they
    then count as evidence for articles before them too. The result is the same either way.
    `context` is what the feed stage found (`feedwide.observe`): the article's earlier near
    copies, whose sightings are no evidence against it, and its feed-wide lines, boilerplate here.
    """
    paragraphs = article.paragraphs
    keys = [key_paragraph(paragraph.text) for paragraph in paragraphs]
    removed = find_repeats(paragraphs, keys, settings)
    if removed:
        firsts = [position for position, key in enumerate(keys) if key.normalised and position not in removed]
    else:
        firsts = [position for position, key in enumerate(keys) if key.normalised]
    excluded = frozenset(article_id(uri) for uri in context.copies) if context else frozenset()
    # A line that other sources carried (the feed stage's finding) is one more earlier article
    # for the evidence rules, so where it sits in this article still decides (`evidence`).
    feed_lines = context.feed_lines if context else None
    feedwide = {keys[p].fingerprint for p in firsts if paragraphs[p].index in feed_lines} if feed_lines else set()
    boilerplate = find_boilerplate(article, paragraphs, keys, firsts, store, settings, priming=priming,
                                   excluded=excluded, feedwide=feedwide)
    if boilerplate:
        removed.update(boilerplate)
        _relabel_copies_of_boilerplate(paragraphs, removed)
    if not removed:
        return DedupResult(kept=paragraphs, removed=())
    kept = tuple(paragraph for position, paragraph in enumerate(paragraphs) if position not in removed)
    return DedupResult(kept=kept, removed=tuple(removed[position] for position in sorted(removed)))


def _relabel_copies_of_boilerplate(paragraphs, removed: dict[int, Removal]) -> None:
    """A repeat of a boilerplate line is boilerplate too: its `of` would point at a removed line."""
    position_of: dict[int, int] | None = None  # built for the first repeat: most articles have none
    for position, removal in list(removed.items()):
        if removal.of is None:
            continue
        if position_of is None:
            position_of = {paragraph.index: at for at, paragraph in enumerate(paragraphs)}
        first = removed.get(position_of[removal.of])
        if first is not None and first.reason == "boilerplate":
            removed[position] = Removal(
                removal.index, removal.text, "boilerplate", None, first.fingerprint, removal.similarity
            )
