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
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import xxhash

from .fingerprint import ParagraphKey, shape_fingerprint, shape_of
from .models import Article, Paragraph, Removal, SeenStore

if TYPE_CHECKING:
    from .dedup import DedupSettings

_ENTRY = struct.Struct("<IHB")
_META = struct.Struct("<III")
_COUNT = struct.Struct("<I")
_ID_BITS = 23
_ID_MASK = (1 << _ID_BITS) - 1

Entry = tuple[int, int, int]  # (event seconds, article id, primed 0/1): sorts by time, then id


@lru_cache(maxsize=4096)  # a feed has few sources
def source_prefix(source: str) -> str:
    """The 8-hex-digit key prefix of a source's slice of the store."""
    return f"{xxhash.xxh32_intdigest(source.encode('utf-8')):08x}"


def article_id(uri: str) -> int:
    """23 bits of the uri's hash: every version of one uri is one article."""
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8")) & _ID_MASK


def unpack_entries(value: bytes | None) -> list[Entry]:
    """The entries of a fingerprint value, oldest first."""
    if not value:
        return []
    # the id's top 7 bits and the primed flag share the last byte
    return [
        (seconds, low | (high & 0x7F) << 16, high >> 7)
        for seconds, low, high in _ENTRY.iter_unpack(value)
    ]


def pack_entries(entries: Sequence[Entry]) -> bytes:
    pack = _ENTRY.pack
    return b"".join(
        [pack(seconds, ident & 0xFFFF, ident >> 16 | primed << 7)
         for seconds, ident, primed in entries]
    )


def count_articles(entries: Sequence[Entry], article: int, seconds: int, horizon: int) -> int:
    """Distinct other articles in `entries` that count as evidence for `article` at `seconds`."""
    count = 0
    for when, other, primed in entries:
        if other == article or when < seconds - horizon:
            continue
        if when < seconds or (when == seconds and other < article) or (primed and when <= seconds + horizon):
            count += 1
    return count


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
    excluded: frozenset[int] = frozenset(),
) -> dict[int, Removal]:
    """Decide which `candidates` (positions) are boilerplate, and record the whole article.

    Every non-empty paragraph is recorded, removed copies included, so the evidence does not
    depend on this article's own decisions. Each fingerprint is read and written once.
    Entries of the `excluded` article ids (the article's near copies) are no evidence.
    """
    prefix = source_prefix(article.source)
    me = article_id(article.uri)
    # entries hold u32 seconds: dates before 1970 or after 2106 are pinned to the ends
    seconds = min(max(int(article.event_time.timestamp()), 0), 0xFFFFFFFF)
    meta, cutoff, meta_value = _expire(store, prefix, seconds, settings)
    horizon = settings.horizon_seconds
    record = seconds >= cutoff  # an article older than the horizon would expire at once
    keep_oldest = max(settings.short_min_articles, settings.long_min_articles, settings.shape_min_articles)
    shape_max_words, label_max_words = settings.shape_max_words, settings.label_max_words

    shapes: dict[int, tuple[int, str]] = {}  # position -> (shape fingerprint, shape)
    fingerprints: dict[int, int] = {}  # fingerprint -> distinct earlier articles carrying it
    for position, key in enumerate(keys):
        if not key.normalised:
            continue
        fingerprints[key.fingerprint] = 0
        if key.words <= shape_max_words:
            shape = shape_of(paragraphs[position].text, label_max_words)
            if shape:
                fingerprint = shape_fingerprint(shape)
                shapes[position] = (fingerprint, shape)
                fingerprints[fingerprint] = 0

    get, put = store.get, store.set
    added: list[int] = []
    entry_writes: list[tuple[str, bytes]] = []
    sighting: Entry = (seconds, me, int(priming))
    first_sighting = pack_entries([sighting])
    for fingerprint in fingerprints:
        store_key = f"{prefix}:{fingerprint:016x}"
        value = get(store_key)
        if value is None:  # the common case: a paragraph never seen in this source
            if record:
                entry_writes.append((store_key, first_sighting))
                added.append(fingerprint)
            continue
        entries = unpack_entries(value)
        evidence = [entry for entry in entries if entry[1] not in excluded] if excluded else entries
        fingerprints[fingerprint] = count_articles(evidence, me, seconds, horizon)
        if record:
            updated = _add_entry(entries, sighting, keep_oldest, settings.max_entries)
            if updated is not None:
                entry_writes.append((store_key, pack_entries(updated)))
                added.append(fingerprint)

    removed: dict[int, Removal] = {}
    for position in candidates:
        key = keys[position]
        paragraph = paragraphs[position]
        long = key.words >= settings.long_words
        needed = settings.long_min_articles if long else settings.short_min_articles
        if fingerprints[key.fingerprint] >= needed:
            removed[position] = _furniture(paragraph, key.fingerprint, 1.0)
        elif position in shapes:
            fingerprint, shape = shapes[position]
            if fingerprints[fingerprint] >= settings.shape_min_articles:
                # similarity: the share of the line's words the shape pins down
                pinned = min(1.0, (shape.count(" ") - shape.count("\x00")) / max(key.words, 1))
                removed[position] = _furniture(paragraph, fingerprint, pinned)

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
