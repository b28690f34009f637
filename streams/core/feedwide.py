"""The feed stage: what one article's place in the whole feed tells, across sources.

`observe` runs once per article, in stream order, on the feed-wide state (one `SeenStore`; the
worker keeps it in a single-partition table, see README "Topology"), and returns `FeedFindings`:

- **the link** (`duplicate_of`): the earliest earlier article, of any source, with another uri,
  whose body holds this one's (`links`: shingle containment >= `link_min_similarity`, and within
  `link_similarity_margin` of the best such article), and every such near copy
  (`FeedContext.copies`);
- **feed-wide lines** (`FeedContext.feed_lines`): this article's short paragraphs that at least
  `line_min_sources` distinct *other* sources each carried earlier in `line_min_articles`
  articles: a wire tagline or a syndication notice, boilerplate for a source that prints it for
  the first time. Lines compare normalised with their digits kept.

Evidence is only what is strictly earlier by (event time, uri hash), at most `feed_horizon_hours`
older, and never from the article's own uri: an article processed again after a crash, when
later ones are already recorded, finds what it found the first time, and a re-sent article never
links to itself or to an earlier version of itself. A syndicated copy's paragraphs are carried by
several sources too; they must never become feed-wide lines. So the sightings of the copy's near
copies do not count for it, and a linked copy does not record the lines it shares with them.

State (keys ``feed:...``): the link index of `links` and, per event-time bucket,
``feed:l{bucket}:{fp}`` -> ``<III`` entries (event seconds, source hash, uri hash low 32 bits),
at most `line_min_articles` per source, the earliest `line_max_entries` kept; ``feed:meta`` -> ``<III`` watermark (the
newest event time seen), oldest and newest live bucket. Every key a bucket holds is reached from
its records, so expiry drops a bucket whole once it ends before watermark - horizon - grace, and
the state is bounded by the horizon (plus grace and one bucket), never by the stream. Expiry
follows event time, never the wall clock. The same code serves the worker's feed agent, the
replay and the offline mode.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson

import xxhash

from .compact_index import band_view
from .fingerprint import ParagraphKey, key_paragraph
from .links import (
    Record, add_record, candidates, complete_bands, containment, count_key, drop_records, shingles, sketch_of,
    source_hash, uri_hash,
)
from .models import Article, SeenStore
from .settings import FeedSettings

_ENTRY = struct.Struct("<III")
_META = struct.Struct("<III")
_META_KEY = "feed:meta"
_LINE_SEED = 0x4C494E45  # keeps line fingerprints apart from the dedup's exact ones


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What the feed stage tells `deduplicate` about one article.

    - `copies`: uris of earlier near copies of this article (its linked original first). Their
      sightings are no boilerplate evidence against it: a copy keeps its whole body, also when
      its outlet printed the story before under another uri.
    - `feed_lines`: input index (`Paragraph.index`) -> line fingerprint of its paragraphs that
      enough distinct other sources carried earlier: boilerplate here (the first copy of each;
      later copies are the article's own repeats).
    """

    copies: tuple[str, ...] = ()
    feed_lines: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Link:
    uri: str
    similarity: float

    def to_json(self) -> dict[str, object]:
        return {"uri": self.uri, "similarity": self.similarity}


@dataclass(frozen=True, slots=True)
class FeedFindings:
    """The feed stage's result for one article; travels to the clean stage in a record header."""

    link: Link | None = None
    context: FeedContext = field(default_factory=FeedContext)

    def encode(self) -> bytes:
        return orjson.dumps({
            "duplicate_of": self.link.to_json() if self.link else None,
            "copies": list(self.context.copies),
            "feed_lines": {str(index): f"{fp:016x}" for index, fp in sorted(self.context.feed_lines.items())},
        })

    @classmethod
    def decode(cls, value: bytes) -> FeedFindings:
        data = orjson.loads(value)
        link = data.get("duplicate_of")
        return cls(Link(link["uri"], float(link["similarity"])) if link else None,
                   FeedContext(tuple(data.get("copies", ())),
                               {int(index): int(fp, 16) for index, fp in data.get("feed_lines", {}).items()}))


NO_FINDINGS = FeedFindings()
_NOTHING = sketch_of(shingles((), 1), 1)  # the index entry of an article too short to link: lines only


def observe(article: Article, store: SeenStore, settings: FeedSettings) -> FeedFindings:
    """Link `article`, find its feed-wide lines, and record it in `store` (see the module doc)."""
    seconds = min(max(int(article.event_time.timestamp()), 0), 0xFFFFFFFF)
    me, source = uri_hash(article.uri), source_hash(article.source)
    meta, cutoff, meta_value = _expire(store, seconds, settings)
    bucket = seconds // settings.bucket_seconds
    earliest = seconds - settings.horizon_seconds
    live = range(max(meta[1], earliest // settings.bucket_seconds), min(meta[2], bucket) + 1)

    paragraphs = _content(article)
    line_at = {_line_fingerprint(key, text): index for index, key, text in paragraphs
               if key.words < settings.line_max_words}
    lines = sorted(line_at)
    words = sum(key.words for _, key, _ in paragraphs)
    sketch = sketch_of(shingles((key.normalised for _, key, _ in paragraphs), settings.link_shingle_words),
                       settings.link_sketch_size) if words >= settings.link_min_words else None

    copies: list[tuple[int, int, str, float]] = []  # (seconds, uri hash, uri, similarity), own versions too
    recorded = False
    for record_bucket, number, record in candidates(store, live, sketch) if sketch else ():
        if record.uri_hash == me and record.seconds == seconds:
            recorded = True  # this very article, processed again
            complete_bands(store, record_bucket, number, record)
            continue
        if (record.seconds, record.uri_hash) >= (seconds, me) or record.seconds < earliest:
            continue
        similarity = containment(sketch.values, record.sample, record.complete)
        if similarity >= settings.link_min_similarity:
            copies.append((record.seconds, record.uri_hash, record.uri, round(similarity, 4)))
    # one entry per uri, its earliest: a record written twice (a crash cut the meta write that
    # would have let the article find it again) is still one article
    copies = sorted({c[1]: c for c in sorted(copies, reverse=True)}.values())
    # Near copies are the candidates about as similar as the best: a reprint cut down to a story's
    # lead and the background paragraph it took from an earlier story holds that earlier story
    # too, but less; the story it copies is the best match.
    best = max((c[3] for c in copies), default=0.0)
    copies = [c for c in copies if c[3] >= best - settings.link_similarity_margin]
    # An update whose own earlier version is the earliest of its near copies is the original of
    # the family: its copies' reprints are not what it copies.
    original = copies[0] if copies and copies[0][1] != me else None
    copies = [copy for copy in copies if copy[1] != me]
    excluded = {uri_hash_ & 0xFFFFFFFF for _, uri_hash_, _, _ in copies} | {me & 0xFFFFFFFF}

    feed_lines, shared = _line_evidence(store, live, lines, seconds, me, source, earliest, excluded, settings)
    if seconds >= cutoff:  # an article past the cutoff would expire at once: judged, not recorded
        kept = [fp for fp in lines if fp not in shared]  # a copy's shared lines are not feed-wide evidence
        if not recorded and (sketch is not None or kept):
            # the record first: it lists the line keys, so a crash never leaves one expiry cannot reach
            indexed = sketch or _NOTHING
            add_record(store, bucket, Record(seconds, me, source, article.uri, indexed.bands, indexed.sample,
                                             indexed.complete, tuple(kept)))
        # idempotent, so also when processed again: a crash may have cut these writes
        _record_lines(store, bucket, kept, (seconds, source, me & 0xFFFFFFFF), settings)
        # the bucket joins the live range even when reprocessing adds nothing
        meta[1], meta[2] = min(meta[1], bucket), max(meta[2], bucket)
    new_meta = _META.pack(*meta)
    if new_meta != meta_value:
        store.set(_META_KEY, new_meta)

    link = Link(original[2], original[3]) if original else None
    feed_at = {line_at[fp]: fp for fp in feed_lines}
    return FeedFindings(link, FeedContext(tuple(uri for _, _, uri, _ in copies), dict(sorted(feed_at.items()))))


def _content(article: Article) -> list[tuple[int, ParagraphKey, str]]:
    """(input index, key, original text) of the article's distinct paragraphs, in order: a repeat
    inside the article adds nothing to what it is a copy of."""
    seen: set[int] = set()
    content = []
    for paragraph in article.paragraphs:
        key = key_paragraph(paragraph.text)
        if key.normalised and key.fingerprint not in seen:
            seen.add(key.fingerprint)
            content.append((paragraph.index, key, paragraph.text))
    return content


def _line_fingerprint(key: ParagraphKey, text: str) -> int:
    """The normalised line with its digits kept: "Leeds North: Labour 12,345" and "Leeds North:
    Labour 11,002" are two facts, never one feed-wide line (the normalised form has every digit 0)."""
    digits = "".join(char for char in text if char.isdigit())
    return xxhash.xxh3_64_intdigest(f"{key.normalised}\x00{digits}".encode("utf-8"), seed=_LINE_SEED)


def _line_key(bucket: int, fingerprint: int) -> str:
    return f"feed:l{bucket}:{fingerprint:016x}"


def _line_evidence(
    store: SeenStore, live: range, lines: Iterable[int], seconds: int, me: int, source: int, earliest: int,
    excluded: set[int], settings: FeedSettings,
) -> tuple[set[int], set[int]]:
    """The lines enough other sources carried earlier, and the lines a near copy carried."""
    mine = me & 0xFFFFFFFF
    feed_lines: set[int] = set()
    shared: set[int] = set()
    for fingerprint in lines:
        sightings: dict[int, set[int]] = {}  # source -> its articles that carried the line earlier
        for bucket in live:
            for when, other_source, other in _ENTRY.iter_unpack(store.get(_line_key(bucket, fingerprint)) or b""):
                if other in excluded:
                    if other != mine:
                        shared.add(fingerprint)
                    continue
                if other_source != source and earliest <= when and (when, other) < (seconds, mine):
                    sightings.setdefault(other_source, set()).add(other)
        carriers = sum(len(articles) >= settings.line_min_articles for articles in sightings.values())
        if carriers >= settings.line_min_sources:
            feed_lines.add(fingerprint)
    return feed_lines, shared


def _record_lines(store: SeenStore, bucket: int, lines: Iterable[int], entry: tuple[int, int, int],
                  settings: FeedSettings) -> None:
    """Per source and bucket its earliest `line_min_articles` sightings (distinct articles), the
    earliest `line_max_entries` in all. Recording a sighting again changes nothing."""
    source, article = entry[1], entry[2]
    for fingerprint in lines:
        key = _line_key(bucket, fingerprint)
        entries = list(_ENTRY.iter_unpack(store.get(key) or b""))
        if any(e[1] == source and e[2] == article for e in entries):
            continue  # a uri counts once, whichever version: its earliest sighting stays
        same = sorted([e for e in entries if e[1] == source] + [entry])[: settings.line_min_articles]
        if entry not in same:
            continue
        entries = sorted([e for e in entries if e[1] != source] + same)[: settings.line_max_entries]
        if entry in entries:
            store.set(key, b"".join(_ENTRY.pack(*e) for e in entries))


def _expire(store: SeenStore, seconds: int, settings: FeedSettings) -> tuple[list[int], int, bytes | None]:
    """Advance the watermark and drop every bucket that ends before the cutoff, whole."""
    value = store.get(_META_KEY)
    bucket_seconds = settings.bucket_seconds
    if value is None:
        meta = [seconds, seconds // bucket_seconds, seconds // bucket_seconds]
    else:
        meta = list(_META.unpack(value))
        meta[0] = max(meta[0], seconds)
    cutoff = meta[0] - settings.horizon_seconds - settings.grace_seconds
    dead = cutoff // bucket_seconds
    if meta[1] < dead:
        for bucket in range(meta[1], min(dead, meta[2] + 1)):
            for record in drop_records(store, bucket):
                for fingerprint in record.lines:
                    store.delete(_line_key(bucket, fingerprint))
        meta[1] = dead
    return meta, cutoff, value


def persisted_key(key: str) -> bool:
    """Whether `key` is one `rebuild` derives the rest from: an article record or the meta."""
    return key == _META_KEY or (key.startswith("feed:r") and "." in key)


def rebuild(primary: Mapping[str, bytes], settings: FeedSettings, store: SeenStore) -> None:
    """Write the link index (record counts, bands) and the line entries into `store` from the
    article records, in the order they were written: what `observe` wrote for them. Line entries
    keep the earliest sightings, so they do not depend on that order."""
    records = [(key, value) for key, value in primary.items() if key != _META_KEY and persisted_key(key)]
    per_bucket: dict[int, int] = {}
    for key, _ in records:
        bucket = int(key[6:].partition(".")[0])
        per_bucket[bucket] = per_bucket.get(bucket, 0) + 1
    views = {bucket: band_view(store, bucket, 32 * count) for bucket, count in per_bucket.items()}
    counts: dict[int, int] = {}
    for key, value in records:
        bucket, _, number = key[6:].partition(".")
        bucket, number = int(bucket), int(number)
        record = Record.unpack(value)
        counts[bucket] = max(counts.get(bucket, 0), number + 1)
        entry = struct.pack("<I", number)
        view = views[bucket]
        for band, band_value in record.bands:  # each record once, in order: what `add_record` appended
            band = band << 32 | band_value
            listed = view.add(band, entry)
            if listed is not None:
                view.set(band, listed + entry)
        if record.lines:
            _record_lines(store, bucket, record.lines, (record.seconds, record.source, record.uri_hash & 0xFFFFFFFF),
                          settings)
    for bucket, count in counts.items():
        store.set(count_key(bucket), struct.pack("<I", count))


def state_view(data: Mapping[str, bytes]) -> dict[str, object]:
    """The feed state's ``feed:`` keys as a value to compare two stores by what they decide:
    each band key as the set of records (their bytes) it lists, the records that hold only lines
    per bucket, the line entries and the meta as they are. Record numbers and a record a crash
    cut off from its bands are left out: an article processed again after such a crash writes
    its record under a new number."""
    view: dict[str, object] = {}
    bands: dict[str, tuple[int, bytes]] = {}
    records: dict[tuple[int, int], bytes] = {}
    for key, value in data.items():
        if not key.startswith("feed:"):
            continue
        kind, rest = key[5], key[6:]
        if kind == "b":
            bands[key] = (int(rest.partition(":")[0]), value)
        elif kind == "r" and "." in rest:
            bucket, _, number = rest.partition(".")
            records[(int(bucket), int(number))] = value
        elif kind != "r":
            view[key] = value
    for key, (bucket, listed) in bands.items():
        view[key] = frozenset(records[(bucket, n)] for (n,) in struct.iter_unpack("<I", listed) if (bucket, n) in records)
    lines_only: dict[int, set[bytes]] = {}
    for (bucket, _), value in records.items():
        if not Record.unpack(value).bands:
            lines_only.setdefault(bucket, set()).add(value)
    view.update({f"feed:r{bucket}": frozenset(values) for bucket, values in lines_only.items()})
    return view
