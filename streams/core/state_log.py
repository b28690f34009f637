"""How the feed state is persisted: a log of per-batch records, the index derived in memory.

The core decides on a `SeenStore` that holds the whole state (the fingerprint entries, the link
bands, the line entries, ...). Most of those keys are an index over a few *persisted* keys — the
per-article records of `source_table` (``{src}:t{bucket}.{n}``) and `feedwide`/`links`
(``feed:r{bucket}.{n}``), and each slice's meta — and `rebuild` derives the index from them. So
only the persisted keys go to the changelog, and they go as ONE record per slice (a source's
``{src}`` prefix, or ``feed``) and batch, the way Quix Streams writes state once per checkpoint:

    key   ``{slice}/{seq:012x}``   seq counts the slice's records, so it orders them
    value ops, in the order of their writes: ``<H`` key length, key, ``<I`` value length (or
          0xFFFFFFFF for a delete), value

Recovery (`StateLog.restore`) replays a slice's live records in seq order, which gives the
persisted keys as they were, in the order they were written (dict order), then `rebuild`.

A record stays on the log while it holds the live value of some key, or a delete another record
still needs (the delete of a key whose set lives in a record that is still on the log): the log
is its own compaction. Expiry drops a bucket's records whole in the core; their log records then
hold nothing live and are tombstoned — a few per bucket, never one per index key. A batch's
sends are its records first, its tombstones after: a crash keeps a prefix, so each slice has its
batch record or not (a record is atomic), and a tombstone is only out when every record that
makes it safe is. Reprocessing the batch after such a crash gives the state an uninterrupted
run gives (tests/core/test_state_log.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from . import feedwide, source_table
from .models import ArticleWrites, MemoryStore, SeenStore
from .settings import DedupSettings, FeedSettings

_KEY = struct.Struct("<H")
_VALUE = struct.Struct("<I")
_DELETE = 0xFFFFFFFF

Op = tuple[str, bytes | None]  # (state key, value or None: deleted)
Send = tuple[int, str, bytes | None]  # (changelog partition, record key, record or None: tombstone)


class IndexWrites(ArticleWrites):
    """`ArticleWrites` over the worker's index (a `DictIndex` or a `CompactIndex`, any store): applied with
    `apply`, which also notes the writes for the batch's log records, rather than `commit`."""

    __slots__ = ()

    def apply(self, partition: int, writes: dict[tuple[int, str], bytes | None]) -> None:
        """Apply the writes to the index and note them in the batch's `writes` (for `StateLog.log`),
        the last value per key winning, at the place of its last write (the order `rebuild`
        replays). The partition is that of the record being processed."""
        index = self.base
        for key, value in self.pending.items():
            if value is None:
                index.delete(key)  # also of a key that is not there: `StateLog.log` drops such a delete
            else:
                index.set(key, value)
            writes.pop((partition, key), None)  # to the end: the place of the last write
            writes[(partition, key)] = value
        self.pending.clear()


def slice_of(key: str) -> str:
    return key.partition(":")[0]


def persisted_key(key: str) -> bool:
    """Whether the changelog carries `key` (the rest of the state is derived from those)."""
    if slice_of(key) == "feed":
        return feedwide.persisted_key(key)
    return source_table.persisted_key(key)


def rebuild_into(store: SeenStore, persisted: Mapping[str, bytes], dedup: DedupSettings, feed: FeedSettings) -> None:
    """Write the whole state into `store` (empty) from its persisted keys, given in the order
    they were written: the persisted keys, then what each stage derives from them, key by key
    (never the derived state as a dict first: a large feed's index is larger than its log)."""
    for key, value in persisted.items():
        store.set(key, value)
    source_table.rebuild({k: v for k, v in persisted.items() if slice_of(k) != "feed"}, dedup, store)
    feedwide.rebuild({k: v for k, v in persisted.items() if slice_of(k) == "feed"}, feed, store)


def rebuild(persisted: Mapping[str, bytes], dedup: DedupSettings, feed: FeedSettings) -> dict[str, bytes]:
    """`rebuild_into` a dict: the replay's journal and the offline checks keep their state in one."""
    store = MemoryStore()
    rebuild_into(store, persisted, dedup, feed)
    return store.data


def pack_ops(ops: Iterable[Op]) -> bytes:
    parts = []
    for key, value in ops:
        raw = key.encode("utf-8")
        parts += (_KEY.pack(len(raw)), raw)
        parts += (_VALUE.pack(_DELETE),) if value is None else (_VALUE.pack(len(value)), value)
    return b"".join(parts)


def unpack_ops(record: bytes) -> list[Op]:
    ops: list[Op] = []
    at = 0
    while at < len(record):
        (size,) = _KEY.unpack_from(record, at)
        key = record[at + 2 : at + 2 + size].decode("utf-8")
        at += 2 + size
        (size,) = _VALUE.unpack_from(record, at)
        at += 4
        if size == _DELETE:
            ops.append((key, None))
        else:
            ops.append((key, record[at : at + size]))
            at += size
    return ops


def record_key(slice_: str, seq: int) -> str:
    return f"{slice_}/{seq:012x}"


def is_record_key(name: str) -> bool:
    slice_, _, seq = name.partition("/")
    return bool(slice_) and len(seq) == 12 and all(char in "0123456789abcdef" for char in seq)


@dataclass(slots=True)
class _Record:
    partition: int
    live: int = 0  # keys whose live value it holds, plus its deletes that another record still needs
    waiting: list[str] = field(default_factory=list)  # records holding a delete of a key set here


@dataclass(slots=True)
class StateLog:
    """Which log records hold what, so each batch becomes a few records and a few tombstones."""

    owner: dict[str, str] = field(default_factory=dict)  # persisted key -> record holding its value
    records: dict[str, _Record] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    dead: list[tuple[int, str]] = field(default_factory=list)  # records to tombstone with the next batch

    def log(self, writes: Iterable[tuple[int, str, bytes | None]]) -> list[Send]:
        """The changelog sends of a batch's state writes (partition, key, value or None), each
        key's last write at its place: one record per (partition, slice), then the tombstones."""
        grouped: dict[tuple[int, str], list[Op]] = {}
        for partition, key, value in writes:
            if persisted_key(key):
                grouped.setdefault((partition, slice_of(key)), []).append((key, value))
        sends: list[Send] = []
        for (partition, slice_), ops in grouped.items():
            ops = [op for op in ops if op[1] is not None or op[0] in self.owner]
            if not ops:
                continue
            seq = self.next_seq.get(slice_, 0)
            self.next_seq[slice_] = seq + 1
            name = record_key(slice_, seq)
            self._apply(name, partition, ops)
            sends.append((partition, name, pack_ops(ops)))
        sends += [(partition, name, None) for partition, name in self.dead]
        self.dead = []
        return sends

    def restore(self, records: Iterable[tuple[int, str, bytes]]) -> dict[str, bytes]:
        """The persisted keys, in write order, from the log's live records (a table's data after
        recovery); records found to hold nothing live are tombstoned with the next batch."""
        self.__init__()
        persisted: dict[str, bytes] = {}
        ordered = sorted((name.partition("/")[0], int(name.partition("/")[2], 16), partition, name, value)
                         for partition, name, value in records)
        for slice_, seq, partition, name, value in ordered:
            self.next_seq[slice_] = max(self.next_seq.get(slice_, 0), seq + 1)
            ops = unpack_ops(value)
            self._apply(name, partition, ops)
            for key, op_value in ops:
                if op_value is None:
                    persisted.pop(key, None)
                else:
                    persisted.pop(key, None)  # to the end: the order of the last write
                    persisted[key] = op_value
        self.dead += [(record.partition, name) for name, record in self.records.items() if record.live <= 0]
        for _, name in self.dead:
            self.records.pop(name, None)
        return persisted

    def _apply(self, name: str, partition: int, ops: list[Op]) -> None:
        record = self.records[name] = _Record(partition)
        released = []
        for key, value in ops:
            before = self.owner.pop(key, None)
            if value is not None:
                self.owner[key] = name
                record.live += 1
            elif before is not None and before != name:
                # the delete must outlive the record that holds the set it undoes
                record.live += 1
                self.records[before].waiting.append(name)
            if before is not None:
                released.append(before)
        for before in released:
            self._release(before)

    def _release(self, name: str) -> None:
        """`name` lost a live key: tombstone it once it holds none, which frees its deletes' records."""
        pending = [name]
        while pending:
            current = pending.pop()
            record = self.records.get(current)
            if record is None:
                continue
            record.live -= 1
            if record.live <= 0:
                del self.records[current]
                self.dead.append((record.partition, current))
                pending += record.waiting
