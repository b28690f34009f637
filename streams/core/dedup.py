"""Paragraph dedup: the one entry the pipeline calls, and its settings.

`deduplicate` removes, from one article, later repeats of its own paragraphs (`repeats`) and
then feed boilerplate judged on the source's rolling hash table (`boilerplate`). It never
rewrites a kept paragraph, and it records every article in the table, so priming a store is
calling it on history and discarding the results.
"""

from __future__ import annotations

from dataclasses import dataclass

from .boilerplate import article_id, find_boilerplate
from .feedwide import FeedContext
from .fingerprint import key_paragraph
from .models import Article, DedupResult, Removal, SeenStore
from .repeats import find_repeats

_DAY = 86_400


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """Every threshold of the dedup core; `config` reads each as NEWSCLEAN_<FIELD_UPPER>."""

    # --- inside one article (repeats) ---
    near_max_edit_chars: int = 12
    """Largest edit, in characters of the normalised texts, for a near repeat: a typo costs 1,
    an OCR slip 1 a letter, an appended "(Reuters)" 8. Quotes, spaces and case cost nothing."""
    near_min_similarity: float = 0.8
    """Least 1 - edit / longer normalised length for a near repeat: keeps a short line that
    differs by a word (e.g. another name) from counting as a copy."""
    block_min_similarity: float = 0.6
    """Least word-level difflib ratio for a paragraph sandwiched in a repeated run (the body
    printed twice) to go with its block."""
    partial_min_containment: float = 0.9
    """Least share of a paragraph's winnowed fingerprints already seen in earlier kept paragraphs
    for it to be a partial repeat (a repeated body split or merged differently); 0 disables."""
    kgram_words: int = 5
    """k: words per k-gram in winnowing; runs shorter than k words are never matched."""
    winnow_window: int = 4
    """w: winnowing window; any shared run of k + w - 1 words is guaranteed to be found."""

    # --- across one source's articles (boilerplate) ---
    horizon_days: float = 7.0
    """Rolling event-time horizon: evidence older than this is ignored and then deleted."""
    expiry_grace_hours: float = 1.0
    """How much longer than the horizon entries are kept, so reprocessing the last articles
    after a crash sees the same evidence."""
    bucket_minutes: int = 60
    """Event-time bucket of the expiry index; state lives at most one bucket past horizon + grace."""
    long_words: int = 30
    """Paragraphs from this many words are "long": a newsroom reuses such background paragraphs
    across a running story, so they need `long_min_articles`."""
    short_min_articles: int = 1
    """Distinct earlier, unrelated articles of the source that must carry a shorter paragraph
    (same exact fingerprint) at an edge of the article (the edge zone) for it to be boilerplate."""
    inner_min_articles: int = 3
    """The same for a shorter paragraph inside the story, and for a template line there: a
    short quote or fact reused by one or two follow-up stories is content, as a long one is."""
    long_min_articles: int = 3
    """The same for long paragraphs anywhere; above the 1-2 reuses of background paragraphs."""
    template_min_articles: int = 1
    """Distinct earlier, unrelated articles that must carry a line's template (same fixed words,
    changed slots) for a line in the edge zone to be boilerplate."""
    edge_allowance: int = 1
    """Paragraphs without any evidence that may lie between a line and the top or bottom of the
    article while it still counts as being at the edge (a standfirst, a first-time line)."""
    max_entries: int = 5
    """Articles remembered per fingerprint, 7 bytes each. When full, the oldest max(*_min_articles)
    stay (a reprocessed article finds its evidence again) and the newest of the others."""

    def __post_init__(self) -> None:
        needed = max(self.short_min_articles, self.inner_min_articles, self.long_min_articles)
        if self.max_entries <= needed:
            raise ValueError(f"max_entries={self.max_entries} must exceed every *_min_articles ({needed})")
        if min(self.kgram_words, self.winnow_window, self.bucket_minutes, self.template_min_articles) < 1 or self.horizon_days <= 0:
            raise ValueError("kgram_words, winnow_window, bucket_minutes and horizon_days must be positive")
        if not 0 <= self.partial_min_containment <= 1:
            raise ValueError("partial_min_containment must lie in [0, 1]")

    @property
    def horizon_seconds(self) -> int:
        return int(self.horizon_days * _DAY)

    @property
    def expiry_grace_seconds(self) -> int:
        return int(self.expiry_grace_hours * 3600)

    @property
    def bucket_seconds(self) -> int:
        return self.bucket_minutes * 60


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
    firsts = [position for position, key in enumerate(keys) if key.normalised and position not in removed]
    excluded = frozenset(article_id(uri) for uri in context.copies) if context else frozenset()
    # A line that other sources carried (the feed stage's finding) is one more earlier article
    # for the evidence rules, so where it sits in this article still decides (`evidence`).
    feedwide = {keys[p].fingerprint for p in firsts if paragraphs[p].index in context.feed_lines} if context else set()
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
    position_of = {paragraph.index: position for position, paragraph in enumerate(paragraphs)}
    for position, removal in list(removed.items()):
        if removal.of is None:
            continue
        first = removed.get(position_of[removal.of])
        if first is not None and first.reason == "boilerplate":
            removed[position] = Removal(
                removal.index, removal.text, "boilerplate", None, first.fingerprint, removal.similarity
            )
