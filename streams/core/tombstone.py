"""Kafka tombstones on an input topic: a record with a null value says "the item under this key
is deleted". It is forwarded as a tombstone under the same key, so that a compacted output topic
(keyed by article uri) drops the cleaned article too. A null value is told apart from an empty
one (b""), which is a broken message and is dead-lettered by `decode`.

A tombstone without a key deletes nothing (compaction needs a key) and cannot be forwarded: it
is dead-lettered as `empty`, so that it is still accounted for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .envelope import Origin, dead_letter
from .pipeline import Rejected

KEYLESS_DETAIL = "a null value (tombstone) without a key: there is nothing to delete"


@dataclass(frozen=True, slots=True)
class Tombstone:
    key: bytes  # the input key: the output key of the article it deletes when the input is keyed by uri
    timestamp_ms: int | None  # the input record's timestamp (None: the send time)


def tombstone(key: bytes | None, timestamp_ms: int | None, origin: Origin, now: datetime) -> Tombstone | Rejected:
    """What to do with an input record whose value is null (never call it for b"")."""
    if not key:
        return Rejected("empty", dead_letter(b"", "empty", KEYLESS_DETAIL, origin, now, key))
    return Tombstone(key, timestamp_ms)
