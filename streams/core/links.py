"""Near-duplicate article links: what an article's body looks like to the link index, and the
index itself on a `SeenStore`.

An article is reduced to the set of its word shingles: every run of `shingle_words` normalised
words of its content paragraphs read as one stream (so paragraphs cut, merged or split
differently keep their shingles; a repeat inside the article adds nothing to a set). From that
set come, in one pass each:

- candidates, by locality-sensitive hashing: a one-permutation MinHash (Li, Owen and Zhang 2012)
  with `_BINS` bins — the top bits of a shingle's hash pick its bin, the bin keeps its smallest
  hash — and bands of `_ROWS` bins; empty bins (short texts) are filled by rotation densification. Two
  bodies whose shingle sets have Jaccard similarity J agree on a band with probability about
  J**2; an earlier article is a candidate when one of the 32 bands agrees: 99.7% of pairs at
  J = 0.4 (a copy with half its paragraphs cut), 8% at J = 0.05 (two stories of one outlet
  sharing its furniture), 0.08% at J = 0.005; verification settles the rest;
- verification, by a bottom-k sketch (Broder 1997): the `sketch_size` smallest shingle hashes (32
  bits), stored with the article. The containment of this article's shingles in a candidate's is
  estimated on the hash range the candidate's sketch covers: of my shingles hashing there, the
  share the sketch holds (exact when the candidate has no more shingles than the sketch keeps).

The similarity reported is that containment: how much of this article is in the earlier one. A
copy that cuts paragraphs keeps it near 1; a story that reuses a background paragraph or two of
an earlier one stays far below (the paragraphs are a small part of its shingles).

Store layout (keys under ``feed:``, the feed stage's slice; `feedwide` owns the bucket range and
the expiry that drops a bucket whole):
- ``feed:r{bucket}`` -> ``<I`` records written in the event-time bucket, and
  ``feed:r{bucket}.{n}`` -> the n-th article of the bucket (`Record`): event time, 64-bit uri
  hash, source hash, uri, bands, sketch and the line fingerprints it recorded for `feedwide`;
- ``feed:b{bucket}:{band}{hash}`` -> ``<I`` record numbers of that bucket whose band `band` has
  that hash: the LSH index. A bucket's keys are all found from its records, so it goes whole.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from .fingerprint import KGRAM_BASE, word_hash
from .models import SeenStore

_BINS = 64
_BIN_SHIFT = 58  # 64 - log2(_BINS): a shingle hash's top 6 bits pick its bin
_ROWS = 2  # bins per band: 32 bands
MIN_SHARED_BANDS = 1  # bands an earlier article must share to be a candidate
_U_BIN_SHIFT = np.uint64(_BIN_SHIFT)
_U_LOW58 = np.uint64((1 << _BIN_SHIFT) - 1)
_U_LOW32 = np.uint64(0xFFFFFFFF)
_U30, _U27, _U31 = np.uint64(30), np.uint64(27), np.uint64(31)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_KGRAM_BASE = np.uint64(KGRAM_BASE)
_NO_SHINGLES = np.empty(0, np.uint64)
_HEADER = struct.Struct("<IQIHBBH")  # seconds, uri hash, source hash, uri bytes, complete, bands, sketch
_BAND = struct.Struct("<BI")
_COUNT = struct.Struct("<I")


def uri_hash(uri: str) -> int:
    """64 bits of the uri: every version of one uri is one article."""
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8"))


def source_hash(source: str) -> int:
    return xxhash.xxh32_intdigest(source.encode("utf-8"))


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: the rolling k-gram hash is a polynomial; its top bits, which pick
    bins, and its low bits must both look random. uint64 arithmetic wraps: mod 2**64."""
    values = (values ^ (values >> _U30)) * _MIX1
    values = (values ^ (values >> _U27)) * _MIX2
    return values ^ (values >> _U31)


def shingles(normalised_paragraphs: Iterable[str], words_per_shingle: int) -> np.ndarray:
    """Mixed 64-bit hashes of every run of `words_per_shingle` words of the paragraphs read as
    one stream, distinct and ascending (uint64).

    The run hashes are `fingerprint.kgram_hashes`' Rabin-Karp polynomial, sum(h(w_i) * B^(k-1-i))
    mod 2^64, evaluated for all windows at once (k multiply-adds over the article's word
    hashes) rather than rolled word by word: a whole article is hundreds of words."""
    words: list[str] = []
    for paragraph in normalised_paragraphs:
        words += paragraph.split()
    if not words:
        return _NO_SHINGLES
    hashes = np.fromiter(map(word_hash, words), np.uint64, len(words))
    k = min(words_per_shingle, len(words))  # fewer words than k: one hash of them all
    windows = len(words) - k + 1
    rolled = np.zeros(windows, np.uint64)
    for offset in range(k):
        rolled = rolled * _KGRAM_BASE + hashes[offset : offset + windows]
    return _distinct(_mix(rolled))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (`np.unique` costs several times more on a few hundred)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


@dataclass(frozen=True, slots=True, eq=False)
class Sketch:
    """What the index keeps of a body: LSH bands and the bottom-k sample of its shingles."""

    bands: tuple[tuple[int, int], ...]  # (band number, 32-bit hash); none for an empty text
    sample: tuple[int, ...]  # the smallest 32-bit shingle values, ascending
    complete: bool  # the sample holds every shingle: containment in it is exact
    values: np.ndarray  # every shingle's 32-bit value, distinct and ascending: this article's side of a containment

    @property
    def size(self) -> int:
        return len(self.values)


def sketch_of(hashes: np.ndarray, sketch_size: int) -> Sketch:
    """The sketch of `shingles`' distinct ascending hashes."""
    bins = [-1] * _BINS
    bands = []
    if len(hashes):
        # ascending hashes: the first of each bin (its top bits) holds the bin's smallest low bits
        slots = hashes >> _U_BIN_SHIFT
        first = np.flatnonzero(np.concatenate(([True], slots[1:] != slots[:-1])))
        for slot, low in zip(slots[first].tolist(), (hashes[first] & _U_LOW58).tolist()):
            bins[slot] = low
        _densify(bins)
        for band in range(_BINS // _ROWS):
            rows = bins[band * _ROWS : (band + 1) * _ROWS]
            bands.append((band, xxhash.xxh32_intdigest(struct.pack("<2Q", *rows), seed=band)))
    values = _distinct(hashes & _U_LOW32)  # low bits: independent of the bin
    sample = tuple(values[:sketch_size].tolist())
    return Sketch(tuple(bands), sample, len(values) <= sketch_size, values)


def _densify(bins: list[int]) -> None:
    """Fill empty bins (a short text leaves some) from the next filled bin to the right, with the
    distance added (rotation densification, Shrivastava and Li 2014): two near copies fill them
    alike, so a short text gets all its bands and a cut copy stays a candidate."""
    filled = [slot for slot, value in enumerate(bins) if value >= 0]
    for slot in range(_BINS):
        if bins[slot] < 0:
            source = next((f for f in filled if f > slot), filled[0] + _BINS)
            bins[slot] = bins[source % _BINS] + ((source - slot) << _BIN_SHIFT)


def containment(mine: np.ndarray, sample: Sequence[int], complete: bool) -> float:
    """Estimated share of `mine` (distinct ascending 32-bit shingle values) in the body whose
    bottom-k `sample` is given."""
    if not sample or not len(mine):
        return 0.0
    covered = mine if complete else mine[: np.searchsorted(mine, sample[-1], side="right")]
    if not len(covered):
        return 0.0
    return len(set(covered.tolist()).intersection(sample)) / len(covered)


@dataclass(frozen=True, slots=True)
class Record:
    """One article in the link index."""

    seconds: int
    uri_hash: int
    source: int
    uri: str
    bands: tuple[tuple[int, int], ...]
    sample: tuple[int, ...]
    complete: bool
    lines: tuple[int, ...]  # line fingerprints the article recorded (feedwide), for expiry

    def pack(self) -> bytes:
        uri = self.uri.encode("utf-8")[:0xFFFF]
        head = _HEADER.pack(self.seconds, self.uri_hash, self.source, len(uri), int(self.complete), len(self.bands),
                            len(self.sample))
        return b"".join((head, uri, *(_BAND.pack(*band) for band in self.bands),
                         struct.pack(f"<{len(self.sample)}I", *self.sample),
                         struct.pack(f"<{len(self.lines)}Q", *self.lines)))

    @classmethod
    def unpack(cls, value: bytes) -> Record:
        seconds, uri_hash_, source, uri_bytes, complete, n_bands, n_sample = _HEADER.unpack_from(value)
        at = _HEADER.size
        uri = value[at : at + uri_bytes].decode("utf-8", "replace")
        at += uri_bytes
        bands = tuple(_BAND.unpack_from(value, at + i * _BAND.size) for i in range(n_bands))
        at += n_bands * _BAND.size
        sample = struct.unpack_from(f"<{n_sample}I", value, at)
        at += 4 * n_sample
        lines = struct.unpack_from(f"<{(len(value) - at) // 8}Q", value, at)
        return cls(seconds, uri_hash_, source, uri, bands, sample, bool(complete), lines)


def record_key(bucket: int, number: int) -> str:
    return f"feed:r{bucket}.{number}"


def count_key(bucket: int) -> str:
    return f"feed:r{bucket}"


def band_key(bucket: int, band: int, value: int) -> str:
    return _band_prefix(bucket) + _band_suffix(band, value)


def _band_prefix(bucket: int) -> str:
    return f"feed:b{bucket}:"


def _band_suffix(band: int, value: int) -> str:
    return f"{band:02x}{value:08x}"


def records_of(store: SeenStore, bucket: int) -> Iterable[tuple[int, Record]]:
    """Every record of a bucket, also one whose count write a crash cut off."""
    value = store.get(count_key(bucket))
    (count,) = _COUNT.unpack(value) if value else (0,)
    number = 0
    while True:
        raw = store.get(record_key(bucket, number))
        if raw is None and number >= count:
            return
        if raw is not None:
            yield number, Record.unpack(raw)
        number += 1


def candidates(store: SeenStore, buckets: Iterable[int], sketch: Sketch) -> list[tuple[int, int, Record]]:
    """(bucket, number, record) of the records of `buckets` that share at least
    `MIN_SHARED_BANDS` bands with `sketch`, in (bucket, number) order."""
    needed = min(MIN_SHARED_BANDS, len(sketch.bands))
    if not needed:
        return []
    found: list[tuple[int, int, Record]] = []
    suffixes = [_band_suffix(band, value) for band, value in sketch.bands]  # the same in every bucket
    get = store.get
    for bucket in buckets:
        hits: Counter[int] = Counter()
        prefix = _band_prefix(bucket)
        for suffix in suffixes:
            listed = get(prefix + suffix)
            if listed:
                hits.update(number for (number,) in _COUNT.iter_unpack(listed))
        for number in sorted(n for n, count in hits.items() if count >= needed):
            raw = store.get(record_key(bucket, number))
            if raw is not None:
                found.append((bucket, number, Record.unpack(raw)))
    return found


def complete_bands(store: SeenStore, bucket: int, number: int, record: Record) -> None:
    """List record `number` under every band of its own. An article processed again after a
    crash that cut its band writes finds its record through the bands that were written."""
    entry = _COUNT.pack(number)
    for band, band_value in record.bands:
        key = band_key(bucket, band, band_value)
        listed = store.get(key) or b""
        if number not in {n for (n,) in _COUNT.iter_unpack(listed)}:
            store.set(key, listed + entry)


def add_record(store: SeenStore, bucket: int, record: Record) -> None:
    """Write the record, then its count, then its bands. A crash keeps a prefix of these writes:
    a band never lists a record that is not there, and a record is never overwritten."""
    value = store.get(count_key(bucket))
    (number,) = _COUNT.unpack(value) if value else (0,)
    while store.get(record_key(bucket, number)) is not None:
        number += 1
    store.set(record_key(bucket, number), record.pack())
    store.set(count_key(bucket), _COUNT.pack(number + 1))
    entry = _COUNT.pack(number)
    for band, band_value in record.bands:
        key = band_key(bucket, band, band_value)
        store.set(key, (store.get(key) or b"") + entry)


def drop_records(store: SeenStore, bucket: int) -> Iterable[Record]:
    """Delete a bucket's records, count and bands; yield the records (their lines go too)."""
    for number, record in list(records_of(store, bucket)):
        for band, band_value in record.bands:
            store.delete(band_key(bucket, band, band_value))
        store.delete(record_key(bucket, number))
        yield record
    store.delete(count_key(bucket))
