"""One source's fingerprint table on a `SeenStore`: its keys, entry format, index records,
expiry and rebuild (`boilerplate` decides on it).

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

from .compact_index import fingerprint_view
from .models import MemoryStore, SeenStore
from .settings import DedupSettings


_ENTRY = struct.Struct("<IHB")
META = struct.Struct("<III")
_COUNT = struct.Struct("<I")
_ID_BITS = 22
_ID_MASK = (1 << _ID_BITS) - 1
PRIMED, EDGE = 1, 2  # entry flags

Entry = tuple[int, int, int]  # (event seconds, article id, flags PRIMED | EDGE): sorts by time, then id


@lru_cache(maxsize=4096)  # a feed has few sources
def source_prefix(source: str) -> str:
    """The 8-hex-digit key prefix of a source's slice of the store."""
    return f"{xxhash.xxh32_intdigest(source.encode('utf-8')):08x}"


def article_id(uri: str) -> int:
    """22 bits of the uri's hash: every version of one uri is one article."""
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8")) & _ID_MASK


def accessors(store: SeenStore) -> tuple[Callable[[str], bytes | None], Callable[[str, bytes], None]]:
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


def pack_entry(seconds: int, ident: int, flags: int) -> bytes:
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
        if when < seconds or (when == seconds and other < article) or (flags & PRIMED and when <= latest):
            found[other] = found.get(other, False) or bool(flags & EDGE)
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


def entry_added(value: bytes, entries: list[Entry], entry: Entry, packed: bytes, keep_oldest: int,
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


def expire(
    store: SeenStore, prefix: str, seconds: int, settings: DedupSettings
) -> tuple[list[int], int, bytes | None]:
    """Advance the source's watermark and drop buckets past the horizon.

    Returns the new meta [watermark, oldest bucket, newest bucket] (the caller writes it once),
    the expiry cutoff and the stored meta value.
    """
    get, _ = accessors(store)
    value = get(f"{prefix}:meta")
    bucket_seconds = settings.bucket_seconds
    if value is None:
        bucket = seconds // bucket_seconds
        meta = [seconds, bucket, bucket]
    else:
        meta = list(META.unpack(value))
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


def record_article(store: SeenStore, prefix: str, bucket: int, entry: Entry, fingerprints: Sequence[int],
           at_edge: Collection[int]) -> None:
    """List the fingerprints that got an entry from this article under its bucket, for expiry,
    with what their entries are rebuilt from."""
    get, put = accessors(store)
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
    return b"".join((pack_entry(*entry), _COUNT.pack(len(fingerprints)),
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
        inner, edge = (seconds, me, flags), (seconds, me, flags | EDGE)
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
