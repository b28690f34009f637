"""A replay's own durable state: the compacted topic `<group>-state`.

It holds the replay's plan (the request and the spans snapshotted at its first start), its
progress (positions and running totals) and its feed state(s), as the worker's changelog holds
them (`streams.core.state_log`: a record per slice and batch, the index rebuilt). Each batch's changes
are written in the same Kafka transaction as the batch's output and consumed offsets, so what a
read_committed reader rebuilds from this topic is exactly the state after the last committed
batch: a replay killed at any point resumes from there with the same store, positions and ends.

Keys: ``~plan`` and ``~progress`` (JSON), ``<store>:<record>`` for a state-log record (a tombstone
when the log drops it). `store` is ``w`` for the replay's store and ``c`` for the cold shadow a warm start
keeps to report what priming changed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Iterator

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.core.settings import PipelineSettings
from streams.core.state_log import StateLog, rebuild

PLAN = b"~plan"
PROGRESS = b"~progress"
STORES = ("w", "c")


class JournalStore:
    """A `SeenStore` in memory that remembers what changed since the last `drain`."""

    __slots__ = ("name", "data", "changes", "log")

    def __init__(self, name: str, data: dict[str, bytes] | None = None) -> None:
        self.name = name
        self.data: dict[str, bytes] = data or {}
        self.changes: dict[str, bytes | None] = {}
        self.log = StateLog()

    @classmethod
    def restore(cls, name: str, records: dict[str, bytes], settings: PipelineSettings) -> JournalStore:
        """The store the state topic's live log records (`Restored.stores[name]`) describe."""
        store = cls(name)
        store.data = rebuild(store.log.restore((0, key, value) for key, value in records.items()),
                             settings.dedup, settings.feed)
        return store

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.data[key] = value
        self.changes[key] = value

    def delete(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self.changes[key] = None

    def drain(self) -> Iterator[tuple[bytes, bytes | None]]:
        """What changed (last write wins), as state-log records and tombstones, then forget it."""
        changes, self.changes = self.changes, {}
        prefix = self.name + ":"
        for _, name, value in self.log.log((0, key, value) for key, value in changes.items()):
            yield (prefix + name).encode(), value


@dataclass(slots=True)
class Restored:
    plan: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    stores: dict[str, dict[str, bytes]] = field(default_factory=lambda: {name: {} for name in STORES})
    records: int = 0


def checkpoint_records(plan: dict[str, Any], progress: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    return [(PLAN, orjson.dumps(plan)), (PROGRESS, orjson.dumps(progress))]


def apply_record(restored: Restored, key: bytes | None, value: bytes | None) -> None:
    restored.records += 1
    if key == PLAN:
        restored.plan = orjson.loads(value) if value else None
    elif key == PROGRESS:
        restored.progress = orjson.loads(value) if value else None
    elif key:
        store, _, name = key.decode().partition(":")
        if store in restored.stores:
            if value is None:
                restored.stores[store].pop(name, None)
            else:
                restored.stores[store][name] = value


async def restore(consumer: AIOKafkaConsumer, topic: str, timeout_s: float = 300.0) -> Restored:
    """Read the state topic from the start to its last stable offset. Call it after the replay's
    transactional producer has started: that aborts or completes a killed run's open
    transaction, so the last stable offset is not held back by it."""
    restored = Restored()
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    await consumer.seek_to_beginning(tp)
    end = (await consumer.end_offsets([tp]))[tp]
    async with asyncio.timeout(timeout_s):
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=500, max_records=5000)).values():
                for record in records:
                    if record.offset < end:
                        apply_record(restored, record.key, record.value)
    # Stop fetching: an idle long-poll fetch would hold up the offset requests that come next.
    consumer.unsubscribe()
    return restored
