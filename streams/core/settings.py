"""Every settings dataclass of the core, at the bottom of its import graph: it imports nothing of
`streams`, so any core module (and `config`, which reads each field as NEWSCLEAN_<FIELD_UPPER>)
can import it without a cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

_DAY = 86_400

NINJS_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.0", "2.1", "2.2", "3.0", "3.1")
"""Every released ninjs version the input reads (`ninjs.versions` validates each on its own schema)."""
NON_TEXT_POLICIES = ("pass", "skip", "dlq")


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


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Thresholds of the feed stage; `config` reads each as NEWSCLEAN_<FIELD_UPPER>."""

    link_min_similarity: float = 0.7
    """Least containment of an article's shingles in an earlier one's for a link: between what
    reprints edited as reprints are (dateline, cut or merged paragraphs, HTML, a typo, the
    reprinter's own furniture) score and what stories reusing background paragraphs score, as
    bench/bench_links.py measures them (figures in README "Links and feed-wide lines")."""
    link_similarity_margin: float = 0.1
    """Verified candidates this much less similar than the best one are not near copies: the
    family of a story (original, reprints, updates) holds a copy about equally, an earlier story
    it only took a background paragraph from holds it clearly less."""
    link_min_words: int = 25
    """Fewer content words than this and an article is neither linked nor indexed: a line or two
    is too little to call a story a copy (shared furniture alone would do)."""
    link_shingle_words: int = 5
    """Words per shingle: long enough that common phrases rarely make unrelated bodies meet."""
    link_sketch_size: int = 128
    """Shingles kept per article for verification: the containment estimate's standard error is
    about sqrt(c(1-c)/n) for n of this article's shingles in the sample's range (0.03 at c = 0.85)."""
    feed_horizon_hours: float = 48.0
    """How far back, in event time, a copy's original and feed-wide lines are looked for."""
    feed_expiry_grace_hours: float = 1.0
    """How much longer than the horizon state is kept, so reprocessing after a crash sees the same."""
    feed_bucket_hours: int = 6
    """Event-time bucket of the feed state, dropped whole on expiry; keep it fixed for a store's life."""
    line_max_words: int = 30
    """Only paragraphs under this many words are feed-wide lines: furniture is short, and a long
    paragraph carried by several sources is a copied story, which is content."""
    line_min_sources: int = 2
    """Distinct other sources that must have carried a line earlier for it to be feed-wide."""
    line_min_articles: int = 2
    """Articles in which each of those sources must have carried it: furniture recurs within the
    outlets that print it, while a sentence several outlets quote from one statement, or a fact
    line of one event, comes once per outlet and is content."""
    line_max_entries: int = 12
    """Sightings remembered per line and bucket (12 bytes each), at most `line_min_articles` per
    source; the earliest stay."""

    def __post_init__(self) -> None:
        if not 0 < self.link_min_similarity <= 1:
            raise ValueError("link_min_similarity must lie in (0, 1]")
        if self.line_max_entries <= self.line_min_sources * self.line_min_articles:
            raise ValueError("line_max_entries must exceed line_min_sources * line_min_articles")
        if self.line_min_articles < 1:
            raise ValueError("line_min_articles must be positive")
        if min(self.link_shingle_words, self.link_sketch_size, self.feed_bucket_hours, self.line_min_sources) < 1 \
                or self.feed_horizon_hours <= 0:
            raise ValueError("shingle words, sketch size, bucket hours, line_min_sources and horizon must be positive")

    @property
    def horizon_seconds(self) -> int:
        return int(self.feed_horizon_hours * 3600)

    @property
    def bucket_seconds(self) -> int:
        return self.feed_bucket_hours * 3600

    @property
    def grace_seconds(self) -> int:
        return int(self.feed_expiry_grace_hours * 3600)


@dataclass(frozen=True, slots=True)
class Limits:
    """Guards that keep one message from stalling a worker; each one is named in the dead-letter
    reason when it trips."""

    max_message_bytes: int = 8 * 1024 * 1024
    max_paragraphs: int = 5_000
    max_json_depth: int = 64
    # Wall-clock budget of one article's decode, validation and dedup in the worker (reason
    # too_slow); 0 turns it off. Enforced by the shell, which can preempt; not by the offline mode.
    max_article_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class InputSettings:
    # The version of items that declare none (no `$standard`/`standard`/`$schema`): "auto" reads
    # it from their shape; a version ("1.2") validates them against that version only, which is
    # what tells a 1.0 item from the same-looking valid 1.2 one.
    ninjs_version: str = "auto"
    # Items that are not cleaned (pictures, video, audio, graphics, events, planning, composites,
    # items without readable body text): "pass" (an envelope with status "passed"), "skip"
    # (counted in the metrics, nothing written) or "dlq" (dead letter, reason non_text).
    non_text: str = "pass"
    # Put before a bare id used as uri by a 1.0–2.0 item (valid there, not a 3.1 uri).
    uri_prefix: str = "urn:newsclean:"
    # Properties that no ninjs version defines (vendor fields such as Superdesk's `priority` or
    # `service`, an agency's `originalfilename` in a rendition), at any depth: "unmapped" removes them
    # before validation and lists them in the envelope; "reject" leaves them to the schema
    # (dead letter `schema`), the strict reading the IPTC conformance suite takes.
    unknown_fields: str = "unmapped"

    def __post_init__(self) -> None:
        if self.ninjs_version != "auto" and self.ninjs_version not in NINJS_VERSIONS:
            raise ValueError(f"ninjs_version={self.ninjs_version!r} is not auto or one of {', '.join(NINJS_VERSIONS)}")
        if self.unknown_fields not in ("unmapped", "reject"):
            raise ValueError(f"unknown_fields={self.unknown_fields!r} is not unmapped or reject")
        if self.non_text not in NON_TEXT_POLICIES:
            raise ValueError(f"non_text={self.non_text!r} is not one of {', '.join(NON_TEXT_POLICIES)}")


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    dedup: DedupSettings = field(default_factory=DedupSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)
    limits: Limits = field(default_factory=Limits)
    input: InputSettings = field(default_factory=InputSettings)
