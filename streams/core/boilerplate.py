"""Feed boilerplate: the rolling hash table of one source's recent paragraphs, on a `SeenStore`.

State is per source (the worker partitions articles by source), so every key starts with a short
hash of the source and a decision only sees that source's evidence: results do not depend on how
sources are spread over workers or partitions.

Keys and values (all through `store.get/set/delete`, so the worker's changelog restores them):
- ``{src}:{fp:016x}`` -> the articles that carried fingerprint `fp` (an exact fingerprint, or a
  template's: `templates`): up to `max_entries` packed 7-byte entries ``<IHB`` (event time in
  Unix seconds; article id, 22 bits of the uri's hash, so every version of a uri is one article;
  a bit marking entries written while priming; a bit marking a line carried at an edge of its
  article), oldest first. A 25-byte key, so at most 25 + 7 * 5 = 60 bytes a fingerprint with
  the defaults. When full, the oldest entries that a decision can need (the largest
  *_min_articles) stay and the newest of the rest: a reprocessed article still finds the
  evidence it found the first time, and a line that keeps recurring keeps fresh entries as the
  old ones expire.
- ``{src}:t{bucket}`` -> ``<I`` how many index records bucket `bucket` (event time //
  `bucket_seconds`) holds, and ``{src}:t{bucket}.{n}`` -> packed ``<Q`` fingerprints that got an
  entry from the n-th article of that bucket. The index is how expiry finds what to delete.
- ``{src}:meta`` -> ``<III`` the source's event-time watermark and its oldest and newest live bucket.

Decision: a paragraph is boilerplate when enough distinct *other, unrelated* articles of its
source carried it (or its template) before: entries of another uri whose (event time, id) is
below the current article's and at most `horizon` older. Entries written while priming count on
both sides of the current time within the horizon: they stand for history read in advance.
- Table rows (`templates.table_rows`) are never boilerplate.
- Related articles are no evidence: an earlier story that carried one of our long paragraphs (a
  running story), the original of a copy (it carried most of our sentences), and `excluded`
  (the feed-wide stage's linked original). A copy records nothing its original carried, so
  republishing a story never makes its paragraphs recur.
- The bar depends on where the line sits. The edge zone is the run of lines at the top or the
  bottom of the article with at most `edge_allowance` line without any evidence between them and
  the edge (a standfirst, a line new to the source). There, a shorter line needs
  `short_min_articles` earlier article that carried it *at an edge too* (the entry's edge bit),
  and a template `template_min_articles` such article (strong template) or two (weak). Inside
  the story, and for long paragraphs anywhere, `inner_min_articles` / `long_min_articles`
  articles (3): a quote, a fact or a background paragraph reused by one or two follow-ups is
  content.
- `feedwide` fingerprints (lines other sources carried) count as one more earlier article.

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
from bisect import bisect_right, insort
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache

import xxhash

from .fingerprint import ParagraphKey
from .compact_index import fingerprint_view
from .models import Article, MemoryStore, Paragraph, Removal, SeenStore
from .evidence import SENTENCE_WORDS, bare_edge_zone, decide, edge_zone, skips_unevidenced
from .templates import lead_in_keys, skeleton_keys
from .settings import DedupSettings

_ENTRY = struct.Struct("<IHB")
_META = struct.Struct("<III")
_COUNT = struct.Struct("<I")
_ID_BITS = 22
_ID_MASK = (1 << _ID_BITS) - 1
_PRIMED, _EDGE = 1, 2  # entry flags

Entry = tuple[int, int, int]  # (event seconds, article id, flags _PRIMED | _EDGE): sorts by time, then id


@lru_cache(maxsize=4096)  # a feed has few sources
def source_prefix(source: str) -> str:
    """The 8-hex-digit key prefix of a source's slice of the store."""
    return f"{xxhash.xxh32_intdigest(source.encode('utf-8')):08x}"


def article_id(uri: str) -> int:
    """22 bits of the uri's hash: every version of one uri is one article."""
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8")) & _ID_MASK


def _accessors(store: SeenStore) -> tuple[Callable[[str], bytes | None], Callable[[str, bytes], None]]:
    """`store`'s get and set; a MemoryStore's are its dict's own, which saves a Python call per key."""
    if type(store) is MemoryStore:
        return store.data.get, store.data.__setitem__
    return store.get, store.set


def unpack_entries(value: bytes | None) -> list[Entry]:
    """The entries of a fingerprint value, oldest first."""
    if not value:
        return []
    # the id's top 6 bits and the two flags share the last byte
    return [(seconds, low | (high & 0x3F) << 16, high >> 6) for seconds, low, high in _ENTRY.iter_unpack(value)]


def pack_entries(entries: Sequence[Entry]) -> bytes:
    pack = _ENTRY.pack
    return b"".join([pack(seconds, ident & 0xFFFF, ident >> 16 | flags << 6) for seconds, ident, flags in entries])


def _pack_entry(seconds: int, ident: int, flags: int) -> bytes:
    return _ENTRY.pack(seconds, ident & 0xFFFF, ident >> 16 | flags << 6)


def read_entries(value: bytes, article: int, seconds: int, horizon: int) -> tuple[list[Entry], dict[int, bool]]:
    """The entries of a fingerprint value (`unpack_entries`) and, in the same pass, the other
    articles among them that count as evidence for `article` at `seconds`, each with whether it
    carried the line at an edge of its article."""
    entries: list[Entry] = []
    found: dict[int, bool] = {}
    earliest, latest = seconds - horizon, seconds + horizon
    for when, low, high in _ENTRY.iter_unpack(value):
        other, flags = low | (high & 0x3F) << 16, high >> 6
        entries.append((when, other, flags))
        if other == article or when < earliest:
            continue
        if when < seconds or (when == seconds and other < article) or (flags & _PRIMED and when <= latest):
            found[other] = found.get(other, False) or bool(flags & _EDGE)
    return entries, found


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


def _entry_added(value: bytes, entries: list[Entry], entry: Entry, packed: bytes, keep_oldest: int,
                 cap: int) -> bytes | None:
    """`_add_entry` on the stored bytes: `value` (whose entries are `entries`) with `entry`
    (packed: `packed`) spliced in, or None when nothing changes. Unpacking and packing an entry
    gives its bytes back, so only the new entry is packed."""
    article = entry[1]
    for _, other, _ in entries:
        if other == article:
            return None  # a uri counts once, whichever version; its earliest sighting stays
    at = bisect_right(entries, entry) * _ENTRY.size
    added = value[:at] + packed + value[at:]
    if len(entries) < cap:
        return added
    dropped = keep_oldest * _ENTRY.size  # the oldest of those that may go
    return None if dropped == at else added[:dropped] + added[dropped + _ENTRY.size :]


def _expire(
    store: SeenStore, prefix: str, seconds: int, settings: DedupSettings
) -> tuple[list[int], int, bytes | None]:
    """Advance the source's watermark and drop buckets past the horizon.

    Returns the new meta [watermark, oldest bucket, newest bucket] (the caller writes it once),
    the expiry cutoff and the stored meta value.
    """
    get, _ = _accessors(store)
    value = get(f"{prefix}:meta")
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
        for fingerprint, _ in unpack_index_record(listed)[1] if listed else ():
            key = f"{prefix}:{fingerprint:016x}"
            live = [entry for entry in unpack_entries(store.get(key)) if entry[0] >= cutoff]
            if live:
                store.set(key, pack_entries(live))
            else:
                store.delete(key)
        store.delete(record_key)
    store.delete(count_key)


def _index(store: SeenStore, prefix: str, bucket: int, entry: Entry, fingerprints: Sequence[int],
           at_edge: Collection[int]) -> None:
    """List the fingerprints that got an entry from this article under its bucket, for expiry,
    with what their entries are rebuilt from."""
    get, put = _accessors(store)
    count_key = f"{prefix}:t{bucket}"
    value = get(count_key)
    (records,) = _COUNT.unpack(value) if value else (0,)
    while get(f"{count_key}.{records}") is not None:
        records += 1  # a record whose count write a crash cut off: never overwrite it
    put(f"{count_key}.{records}", pack_index_record(entry, fingerprints, at_edge))
    put(count_key, _COUNT.pack(records + 1))


def pack_index_record(entry: Entry, fingerprints: Sequence[int], at_edge: Collection[int]) -> bytes:
    # bit n of the little-endian mask is bit n & 7 of byte n >> 3
    bits = 0
    if at_edge:
        for number, fingerprint in enumerate(fingerprints):
            if fingerprint in at_edge:
                bits |= 1 << number
    edges = bits.to_bytes((len(fingerprints) + 7) // 8, "little")
    return b"".join((_pack_entry(*entry), _COUNT.pack(len(fingerprints)),
                     struct.pack(f"<{len(fingerprints)}Q", *fingerprints), edges))


def unpack_index_record(value: bytes) -> tuple[Entry, list[tuple[int, bool]]]:
    """The article's entry (edge bit clear) and each fingerprint it added, with its edge bit."""
    (entry,) = unpack_entries(value[: _ENTRY.size])
    (count,) = _COUNT.unpack_from(value, _ENTRY.size)
    at = _ENTRY.size + _COUNT.size
    fingerprints = struct.unpack_from(f"<{count}Q", value, at)
    edges = value[at + 8 * count :]
    return entry, [(fp, bool(edges[n >> 3] >> (n & 7) & 1)) for n, fp in enumerate(fingerprints)]


def persisted_key(key: str) -> bool:
    """Whether `key` is one `rebuild` derives the rest from: an index record or a meta."""
    rest = key.partition(":")[2]
    return rest == "meta" or (rest[:1] == "t" and "." in rest)


def rebuild(primary: Mapping[str, bytes], settings: DedupSettings, store: SeenStore) -> None:
    """Write every source's fingerprint entries and record counts into `store` from its index
    records, applied in the order they were written (the order the entries were added in live;
    the entry cap makes it matter). Exact as long as no bucket expired. After expiry, a
    fingerprint that had more than `max_entries` articles over the horizon may hold other
    entries than the live state: live, the cap dropped entries while older, since expired ones
    held its oldest places, and kept those that came after the expiry; the rebuild keeps the
    oldest live ones. Either way the fingerprint holds `max_entries` entries of the horizon, so a
    line that recurs stays evidence; the next expiries bring the two back together."""
    keep_oldest = max(settings.short_min_articles, settings.long_min_articles, settings.inner_min_articles)
    records = [(key, value) for key, value in primary.items() if key.partition(":")[2] != "meta" and persisted_key(key)]
    listed: dict[str, int] = {}  # source prefix -> fingerprints its records list: room for its keys
    for key, value in records:
        prefix = key.partition(":")[0]
        listed[prefix] = listed.get(prefix, 0) + _COUNT.unpack_from(value, _ENTRY.size)[0]
    views = {prefix: fingerprint_view(store, prefix, count) for prefix, count in listed.items()}
    counts: dict[str, int] = {}
    for key, value in records:
        count_key, _, number = key.rpartition(".")
        counts[count_key] = max(counts.get(count_key, 0), int(number) + 1)
        (seconds, me, flags), fingerprints = unpack_index_record(value)
        inner, edge = (seconds, me, flags), (seconds, me, flags | _EDGE)
        packed = (pack_entries([inner]), pack_entries([edge]))
        view = views[key.partition(":")[0]]
        add, put = view.add, view.set
        for fingerprint, at in fingerprints:
            stored = add(fingerprint, packed[at])
            if stored is None:  # the common case, as live: a first sighting
                continue
            updated = _add_entry(unpack_entries(stored), edge if at else inner, keep_oldest, settings.max_entries)
            if updated is not None:
                put(fingerprint, pack_entries(updated))
    for key, count in counts.items():
        store.set(key, _COUNT.pack(count))


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
    get, put = _accessors(store)
    head = prefix + ":"

    templates: dict[int, tuple[tuple[int, bool], ...]] = {}  # position -> (fingerprint, strong)
    # fingerprint -> earlier articles carrying it (at an edge?), in the order they are recorded
    evidence: dict[int, dict[int, bool]] = {}
    store_keys: dict[int, str] = {}
    stored: dict[int, tuple[bytes, list[Entry]]] = {}  # fingerprint -> its value and entries, if seen before
    carriers: list[int] = []  # the fingerprints with any evidence (few: most lines are new)

    def fetch(fingerprint: int) -> None:
        # the key is the fingerprint's 16 hex digits: to_bytes().hex() is the fastest way to them
        store_keys[fingerprint] = store_key = head + fingerprint.to_bytes(8, "big").hex()
        value = get(store_key)
        if value is None:
            evidence[fingerprint] = {}
            return
        entries, found = read_entries(value, me, seconds, horizon)
        stored[fingerprint] = (value, entries)
        evidence[fingerprint] = found
        if found:
            carriers.append(fingerprint)

    for position, key in enumerate(keys):
        if not key.normalised:
            continue
        if key.fingerprint not in evidence:
            fetch(key.fingerprint)
        found = lead_in_keys(paragraphs[position].text)
        if found:
            templates[position] = found
            if found[0][0] not in evidence:
                fetch(found[0][0])

    # Skeletons (a regular expression over the whole line) only where furniture can sit: short
    # lines, and lines near an edge of the article by what is known so far. A line in the middle
    # of the story is matched by its exact text only, so prose never meets another's skeleton.
    allowance = settings.edge_allowance
    if carriers:
        seen = []
        for p in candidates:
            found = bool(evidence[keys[p].fingerprint])
            if not found and p in templates:
                found = any(evidence[f] for f, _ in templates[p])
            seen.append(found)
        near = edge_zone(seen, allowance)
    else:  # nothing seen before: the zone is the first and last lines
        near = bare_edge_zone(len(candidates), allowance)
    for order, position in enumerate(candidates):
        if near[order] or keys[position].words <= SENTENCE_WORDS:
            found = skeleton_keys(paragraphs[position].text)
            if found and found[0][0] not in evidence:
                templates[position] = found + templates.get(position, ())
                fetch(found[0][0])

    if carriers or feedwide or not skips_unevidenced(settings):
        removed, copied, edges = decide(
            paragraphs, keys, candidates, templates, evidence, carriers, set(excluded), set(feedwide), settings
        )
    else:  # no line has any evidence: nothing can go, and the edge zone is the one found above
        removed, copied = {}, set(excluded)
        edges = [p for p, at_edge in zip(candidates, near) if at_edge]
    at_edge: set[int] = set()  # fingerprints this article carries at one of its edges
    for position in edges:
        at_edge.add(keys[position].fingerprint)
        if position in templates:
            for fingerprint, _ in templates[position]:
                at_edge.add(fingerprint)

    added: list[int] = []
    entry_writes: list[tuple[str, bytes]] = []
    copies: set[int] = set()  # what this article holds as a copy of its original: not recorded
    if copied and carriers:  # without evidence no line is shared with an original
        for position, key in enumerate(keys):
            if key.normalised and copied & evidence[key.fingerprint].keys():
                copies.add(key.fingerprint)
                copies.update(fingerprint for fingerprint, _ in templates.get(position, ()))
    else:
        copied = set()  # nothing this article carries was carried by what it copies
    if record:
        keep_oldest = max(settings.short_min_articles, settings.long_min_articles, settings.inner_min_articles)
        primed = _PRIMED if priming else 0
        inner, edge = (seconds, me, primed), (seconds, me, primed | _EDGE)
        first_sightings = (_pack_entry(*inner), _pack_entry(*edge))
        cap = settings.max_entries
        for fingerprint, store_key in store_keys.items():
            if copied and (fingerprint in copies or copied & evidence[fingerprint].keys()):
                continue  # a copy adds no evidence for what its original carried
            at = fingerprint in at_edge
            seen_before = stored.get(fingerprint)
            if seen_before is None:  # the common case: a paragraph never seen in this source
                entry_writes.append((store_key, first_sightings[at]))
                added.append(fingerprint)
                continue
            updated = _entry_added(*seen_before, edge if at else inner, first_sightings[at], keep_oldest, cap)
            if updated is not None:
                entry_writes.append((store_key, updated))
                added.append(fingerprint)

        # A crash keeps a prefix of these writes (one changelog partition, in order), and the
        # batch is processed again. So the index record goes before the entries it lists (an
        # entry is never kept without it; reprocessing adds back the cut entries under a new
        # record), and the bucket joins the live range even when reprocessing adds nothing (its
        # entries and index survived, the meta write after them did not).
        bucket = seconds // settings.bucket_seconds
        meta[1], meta[2] = min(meta[1], bucket), max(meta[2], bucket)
        if added:
            _index(store, prefix, bucket, (seconds, me, primed), added, at_edge)
            for key, value in entry_writes:
                put(key, value)
    new_meta = _META.pack(*meta)
    if new_meta != meta_value:
        put(f"{prefix}:meta", new_meta)
    return removed
