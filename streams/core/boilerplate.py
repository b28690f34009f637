"""Feed boilerplate: the rolling hash table of one source's recent paragraphs, on a `SeenStore`.

State is per source (the worker partitions articles by source), so every key starts with a short
hash of the source and a decision only sees that source's evidence: results do not depend on how
sources are spread over workers or partitions.

Keys and values (all through `store.get/set/delete`, so the worker's changelog restores them):
- ``{src}:{fp:016x}`` -> the articles that carried fingerprint `fp`: up to `max_entries` packed
  7-byte entries ``<IHB`` (event time in Unix seconds; article id, 23 bits of the uri's hash, so
  every version of a uri is one article; a bit marking entries written while priming), oldest
  first. A 25-byte key, so at most 25 + 7 * 5 = 60 bytes a fingerprint with the defaults.
  When full, the oldest entries that a decision can need (the largest *_min_articles) stay and
  the newest of the rest: a reprocessed article still finds the evidence it found the first
  time, and a line that keeps recurring keeps fresh entries as the old ones expire.
- ``{src}:t{bucket}`` -> ``<I`` how many index records bucket `bucket` (event time //
  `bucket_seconds`) holds, and ``{src}:t{bucket}.{n}`` -> packed ``<Q`` fingerprints that got an
  entry from the n-th article of that bucket. The index is how expiry finds what to delete.
- ``{src}:meta`` -> ``<III`` the source's event-time watermark and its oldest and newest live bucket.

Decision: a paragraph is boilerplate when enough distinct *other* articles of its source carried
it before: entries of another uri whose (event time, id) is below the current article's and at
most `horizon` older. Entries written while priming count on both sides of the current time
within the horizon: they stand for history read in advance. Thresholds depend on length:
`short_min_articles` below `long_words` words, `long_min_articles` from there (a background
paragraph reused by a few stories of a running story is content); a paragraph of at most
`shape_max_words` words also matches by its shape fingerprint (`shape_min_articles`), which
survives changing names, figures and linked headlines.

Expiry is by event time only: the watermark is the newest event time seen for the source; a
bucket whose whole span is older than watermark - horizon - `expiry_grace` is dropped with its
index records, and the entries it listed lose every part older than that cutoff. The grace keeps
decisions exact when a worker reprocesses its last articles after a crash. Replaying old
timestamps behaves the same as live, and the state is bounded by the horizon (plus grace and one
bucket), never by the length of the stream. An article already older than the cutoff when it
arrives is judged but not recorded. `bucket_minutes` names the index keys: keep it fixed for the
life of a store (a change orphans the index, so old entries would never expire).
"""

from __future__ import annotations

import struct
from bisect import insort
from collections import Counter
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import xxhash

from .fingerprint import ParagraphKey
from .models import Article, Paragraph, Removal, SeenStore
from .templates import lead_in_keys, skeleton_keys, table_rows

if TYPE_CHECKING:
    from .dedup import DedupSettings

_ENTRY = struct.Struct("<IHB")
_META = struct.Struct("<III")
_COUNT = struct.Struct("<I")
_ID_BITS = 22
_ID_MASK = (1 << _ID_BITS) - 1
_PRIMED, _EDGE = 1, 2  # entry flags
_SENTENCE_WORDS = 8  # t = k + w - 1 of the default winnowing: below it a line is a label or a button

Entry = tuple[int, int, int]  # (event seconds, article id, flags _PRIMED | _EDGE): sorts by time, then id


@lru_cache(maxsize=4096)  # a feed has few sources
def source_prefix(source: str) -> str:
    """The 8-hex-digit key prefix of a source's slice of the store."""
    return f"{xxhash.xxh32_intdigest(source.encode('utf-8')):08x}"


def article_id(uri: str) -> int:
    """22 bits of the uri's hash: every version of one uri is one article."""
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8")) & _ID_MASK


def unpack_entries(value: bytes | None) -> list[Entry]:
    """The entries of a fingerprint value, oldest first."""
    if not value:
        return []
    # the id's top 6 bits and the two flags share the last byte
    return [(seconds, low | (high & 0x3F) << 16, high >> 6) for seconds, low, high in _ENTRY.iter_unpack(value)]


def pack_entries(entries: Sequence[Entry]) -> bytes:
    pack = _ENTRY.pack
    return b"".join([pack(seconds, ident & 0xFFFF, ident >> 16 | flags << 6) for seconds, ident, flags in entries])


def evidence_articles(entries: Sequence[Entry], article: int, seconds: int, horizon: int) -> dict[int, bool]:
    """The other articles in `entries` that count as evidence for `article` at `seconds`, each
    with whether it carried the line at an edge of its article."""
    found: dict[int, bool] = {}
    for when, other, flags in entries:
        if other == article or when < seconds - horizon:
            continue
        if when < seconds or (when == seconds and other < article) or (flags & _PRIMED and when <= seconds + horizon):
            found[other] = found.get(other, False) or bool(flags & _EDGE)
    return found


def _add_entry(entries: list[Entry], entry: Entry, keep_oldest: int, cap: int) -> list[Entry] | None:
    """`entries` with `entry` added, at most `cap` of them, or None when nothing changes."""
    article = entry[1]
    for _, other, _ in entries:
        if other == article:
            return None  # a uri counts once, whichever version; its earliest sighting stays
    insort(entries, entry)
    if len(entries) > cap:
        dropped = entries.pop(keep_oldest)  # the oldest of those that may go
        if dropped is entry:
            return None
    return entries


def _expire(
    store: SeenStore, prefix: str, seconds: int, settings: DedupSettings
) -> tuple[list[int], int, bytes | None]:
    """Advance the source's watermark and drop buckets past the horizon.

    Returns the new meta [watermark, oldest bucket, newest bucket] (the caller writes it once),
    the expiry cutoff and the stored meta value.
    """
    value = store.get(f"{prefix}:meta")
    bucket_seconds = settings.bucket_seconds
    if value is None:
        bucket = seconds // bucket_seconds
        meta = [seconds, bucket, bucket]
    else:
        meta = list(_META.unpack(value))
        meta[0] = max(meta[0], seconds)
    cutoff = meta[0] - settings.horizon_seconds - settings.expiry_grace_seconds
    dead = cutoff // bucket_seconds  # buckets below this one end before the cutoff
    if meta[1] < dead:
        for bucket in range(meta[1], min(dead, meta[2] + 1)):
            _expire_bucket(store, prefix, bucket, cutoff)
        meta[1] = dead
    return meta, cutoff, value


def _expire_bucket(store: SeenStore, prefix: str, bucket: int, cutoff: int) -> None:
    count_key = f"{prefix}:t{bucket}"
    value = store.get(count_key)
    if value is None:
        return
    (records,) = _COUNT.unpack(value)
    for number in range(records):
        record_key = f"{count_key}.{number}"
        listed = store.get(record_key)
        for (fingerprint,) in struct.iter_unpack("<Q", listed or b""):
            key = f"{prefix}:{fingerprint:016x}"
            live = [entry for entry in unpack_entries(store.get(key)) if entry[0] >= cutoff]
            if live:
                store.set(key, pack_entries(live))
            else:
                store.delete(key)
        store.delete(record_key)
    store.delete(count_key)


def _index(store: SeenStore, prefix: str, bucket: int, fingerprints: Sequence[int]) -> None:
    """List the fingerprints that got an entry from this article under its bucket, for expiry."""
    count_key = f"{prefix}:t{bucket}"
    value = store.get(count_key)
    (records,) = _COUNT.unpack(value) if value else (0,)
    while store.get(f"{count_key}.{records}") is not None:
        records += 1  # a record whose count write a crash cut off: never overwrite it
    store.set(f"{count_key}.{records}", struct.pack(f"<{len(fingerprints)}Q", *fingerprints))
    store.set(count_key, _COUNT.pack(records + 1))


def _furniture(paragraph: Paragraph, fingerprint: int, similarity: float) -> Removal:
    hexadecimal = f"{fingerprint:016x}"
    return Removal(paragraph.index, paragraph.text, "boilerplate", None, hexadecimal, round(similarity, 4))


def find_boilerplate(
    article: Article,
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    store: SeenStore,
    settings: DedupSettings,
    *,
    priming: bool = False,
    excluded: Collection[int] = (),
    feedwide: Collection[int] = (),
) -> dict[int, Removal]:
    """Decide which `candidates` (positions) are boilerplate, and record the whole article.

    Every non-empty paragraph is recorded, removed copies included, so the evidence does not
    depend on this article's own decisions. Each fingerprint is read and written once.
    `excluded`: article ids (`article_id`) whose entries are no evidence for this article (a
    linked original of a copy). `feedwide`: fingerprints (exact or template) that the feed-wide
    stage saw in other sources; each counts as one more earlier article.
    """
    prefix = source_prefix(article.source)
    me = article_id(article.uri)
    # entries hold u32 seconds: dates before 1970 or after 2106 are pinned to the ends
    seconds = min(max(int(article.event_time.timestamp()), 0), 0xFFFFFFFF)
    meta, cutoff, meta_value = _expire(store, prefix, seconds, settings)
    horizon = settings.horizon_seconds
    record = seconds >= cutoff  # an article older than the horizon would expire at once
    keep_oldest = max(settings.short_min_articles, settings.long_min_articles, settings.inner_min_articles)

    templates: dict[int, tuple[tuple[int, bool], ...]] = {}  # position -> (fingerprint, strong)
    evidence: dict[int, dict[int, bool]] = {}  # fingerprint -> earlier articles carrying it (at an edge?)
    for position, key in enumerate(keys):
        if not key.normalised:
            continue
        evidence[key.fingerprint] = {}
        found = lead_in_keys(paragraphs[position].text)
        if found:
            templates[position] = found
            evidence[found[0][0]] = {}

    get, put = store.get, store.set
    stored: dict[int, list[Entry]] = {}  # fingerprint -> its entries, for those seen before

    store_keys: dict[int, str] = {}

    def fetch(fingerprints) -> None:
        for fingerprint in fingerprints:
            store_keys[fingerprint] = store_key = f"{prefix}:{fingerprint:016x}"
            value = get(store_key)
            if value is not None:
                stored[fingerprint] = entries = unpack_entries(value)
                evidence[fingerprint] = evidence_articles(entries, me, seconds, horizon)

    fetch(list(evidence))
    # Skeletons (a regular expression over the whole line) only where furniture can sit: short
    # lines, and lines near an edge of the article by what is known so far. A line in the middle
    # of the story is matched by its exact text only, so prose never meets another's skeleton.
    seen = [
        bool(evidence[keys[p].fingerprint]) or any(evidence[f] for f, _ in templates.get(p, ()))
        for p in candidates
    ]
    near = _edge_zone(seen, settings.edge_allowance)
    fresh: list[int] = []
    for order, position in enumerate(candidates):
        if near[order] or keys[position].words <= _SENTENCE_WORDS:
            found = skeleton_keys(paragraphs[position].text)
            if found and found[0][0] not in evidence:
                templates[position] = found + templates.get(position, ())
                evidence[found[0][0]] = {}
                fresh.append(found[0][0])
    fetch(fresh)

    removed, copied, edges = _decide(
        paragraphs, keys, candidates, templates, evidence, set(excluded), set(feedwide), settings
    )
    at_edge: set[int] = set()  # fingerprints this article carries at one of its edges
    for position in edges:
        at_edge.add(keys[position].fingerprint)
        at_edge.update(fingerprint for fingerprint, _ in templates.get(position, ()))

    added: list[int] = []
    entry_writes: list[tuple[str, bytes]] = []
    copies: set[int] = set()  # what this article holds as a copy of its original: not recorded
    if copied:
        for position, key in enumerate(keys):
            if key.normalised and copied & evidence[key.fingerprint].keys():
                copies.add(key.fingerprint)
                copies.update(fingerprint for fingerprint, _ in templates.get(position, ()))
    primed = _PRIMED if priming else 0
    inner, edge = (seconds, me, primed), (seconds, me, primed | _EDGE)
    first_sightings = (pack_entries([inner]), pack_entries([edge]))
    for fingerprint in evidence if record else ():
        if fingerprint in copies or (copied and copied & evidence[fingerprint].keys()):
            continue  # a copy adds no evidence for what its original carried
        store_key = store_keys[fingerprint]
        at = fingerprint in at_edge
        entries = stored.get(fingerprint)
        if entries is None:  # the common case: a paragraph never seen in this source
            entry_writes.append((store_key, first_sightings[at]))
            added.append(fingerprint)
            continue
        updated = _add_entry(entries, edge if at else inner, keep_oldest, settings.max_entries)
        if updated is not None:
            entry_writes.append((store_key, pack_entries(updated)))
            added.append(fingerprint)

    if record:
        # A crash keeps a prefix of these writes (one changelog partition, in order), and the
        # batch is processed again. So the index record goes before the entries it lists (an
        # entry is never kept without it; reprocessing adds back the cut entries under a new
        # record), and the bucket joins the live range even when reprocessing adds nothing (its
        # entries and index survived, the meta write after them did not).
        bucket = seconds // settings.bucket_seconds
        meta[1], meta[2] = min(meta[1], bucket), max(meta[2], bucket)
        if added:
            _index(store, prefix, bucket, added)
            for key, value in entry_writes:
                put(key, value)
    new_meta = _META.pack(*meta)
    if new_meta != meta_value:
        put(f"{prefix}:meta", new_meta)
    return removed


def _decide(
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    templates: dict[int, tuple[tuple[int, bool], ...]],
    evidence: dict[int, dict[int, bool]],
    excluded: set[int],
    feedwide: set[int],
    settings: DedupSettings,
) -> tuple[dict[int, Removal], set[int], list[int]]:
    """The evidence rules (module docstring): table rows and related articles first, then the
    edge zone, then the bar each line must reach. Also returns the articles this one is a copy
    of (`excluded`, and an earlier article that carried most of its sentences), and the
    positions in its edge zone, which its entries mark for later articles."""
    long_words = settings.long_words
    rows = table_rows([paragraph.text if key.figures else None for paragraph, key in zip(paragraphs, keys)])
    stories, copied = _related_articles(keys, candidates, evidence, settings)
    copied |= excluded
    related = stories | copied

    tallies: dict[int, tuple[int, int]] = {}  # fingerprint -> (unrelated articles, of them at an edge)
    for fingerprint, others in evidence.items():
        if others or fingerprint in feedwide:
            every = edge = int(fingerprint in feedwide)
            for other, at_edge in others.items():
                if other not in related:
                    every += 1
                    edge += at_edge
            tallies[fingerprint] = (every, edge)

    def count(fingerprint: int, at_edge: bool) -> int:
        return tallies.get(fingerprint, (0, 0))[at_edge]

    evidenced = [
        count(keys[p].fingerprint, False) > 0 or any(count(f, False) for f, _ in templates.get(p, ()))
        for p in candidates
    ]
    zone = _edge_zone(evidenced, settings.edge_allowance)

    removed: dict[int, Removal] = {}
    for order, position in enumerate(candidates):
        if position in rows:
            continue  # a table's rows are the story, whatever recurs
        key = keys[position]
        long = key.words >= long_words
        # at an edge, one earlier article that also carried the line at an edge is enough
        edge_rule = zone[order] and not long
        if edge_rule and count(key.fingerprint, True) >= settings.short_min_articles:
            removed[position] = _furniture(paragraphs[position], key.fingerprint, 1.0)
            continue
        needed = settings.long_min_articles if long else settings.inner_min_articles
        if count(key.fingerprint, False) >= needed:
            removed[position] = _furniture(paragraphs[position], key.fingerprint, 1.0)
            continue
        for fingerprint, strong in templates.get(position, ()):
            if zone[order]:
                at_edge = count(fingerprint, True)
                if at_edge >= (settings.template_min_articles if strong else settings.inner_min_articles - 1):
                    removed[position] = _furniture(paragraphs[position], fingerprint, 0.0)
                    break
            if count(fingerprint, False) >= needed:
                removed[position] = _furniture(paragraphs[position], fingerprint, 0.0)
                break
    return removed, copied, [p for order, p in enumerate(candidates) if zone[order]]


def _related_articles(
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    evidence: dict[int, dict[int, bool]],
    settings: DedupSettings,
) -> tuple[set[int], set[int]]:
    """Earlier articles of the source that tell the same story as this one, so that what they
    share with it is reuse, not furniture: (earlier stories of a running story, which carried
    one of our long paragraphs; the original of a copy, the one article that carried most of
    our sentences, at least two). Lines already carried widely (`long_min_articles` articles)
    are furniture and say nothing about relations; nor do lines under `_SENTENCE_WORDS` words."""
    carried: Counter[int] = Counter()  # article -> how many of our sentences it carried
    sentences = 0  # our paragraphs long enough to be sentences of a story, not a button or a label
    stories: set[int] = set()
    for position in candidates:
        key = keys[position]
        if key.words < _SENTENCE_WORDS:
            continue
        sentences += 1
        articles = evidence[key.fingerprint]
        if not articles or len(articles) >= settings.long_min_articles:
            continue
        carried.update(articles.keys())
        if key.words >= settings.long_words:
            stories.update(articles)
    copied: set[int] = set()
    if carried:
        # the most, ties to the smallest id: the same answer in every process
        original, count = min(carried.items(), key=lambda item: (-item[1], item[0]))
        if count >= 2 and 2 * count > sentences:
            copied.add(original)
    return stories, copied

def _edge_zone(evidenced: Sequence[bool], allowance: int) -> list[bool]:
    """Whether each candidate sits at an edge of the article: at most `allowance` paragraphs
    without any evidence lie between it and the top, or between it and the bottom. Furniture
    sits in runs at the top and bottom (a standfirst or a first-time line may sit between);
    a line reused in the middle of a story has the story around it."""
    total = len(evidenced)
    fresh_before = [0] * total
    running = 0
    for order, seen in enumerate(evidenced):
        fresh_before[order] = running
        running += not seen
    zone = []
    for order, seen in enumerate(evidenced):
        fresh_after = running - fresh_before[order] - (not seen)
        zone.append(min(fresh_before[order], fresh_after) <= allowance)
    return zone
