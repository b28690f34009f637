"""The replay's reader: the records of several spans, one at a time, in a deterministic order.

A k-way merge: each partition is read in offset order and the next record is the partition head
with the smallest (timestamp, topic, partition, offset). The order depends only on the log and
on where each partition stands, so a replay resumed from committed positions continues exactly
the sequence an uninterrupted run reads; for one partition it is plain offset order, which is the
order the live worker processes it in."""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.replay.ranges import Span

FETCH_TIMEOUT_MS = 500


class ReplayStalled(RuntimeError):
    """A partition stopped short of its snapshotted end for longer than the stall timeout."""


class MergedLog:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        spans: Sequence[Span],
        positions: Mapping[str, int] | None = None,
        max_records: int = 500,
        stall_timeout_s: float = 120.0,
    ) -> None:
        self.consumer = consumer
        self.spans = {TopicPartition(s.topic, s.partition): s for s in spans}
        known = positions or {}
        # next offset to hand out, per partition: what a commit records
        self.positions = {tp: min(max(known.get(s.label, s.start), s.start), s.end) for tp, s in self.spans.items()}
        self.buffers: dict[TopicPartition, deque[Any]] = {tp: deque() for tp in self.spans}
        self.open = {tp for tp, s in self.spans.items() if self.positions[tp] < s.end}
        self.max_records = max_records
        self.stall_timeout_s = stall_timeout_s

    async def start(self) -> None:
        self.consumer.assign(sorted(self.open))
        for tp in self.open:
            self.consumer.seek(tp, self.positions[tp])

    @property
    def done(self) -> int:
        """Offsets behind us, over all spans (records, control markers and gaps alike)."""
        return sum(self.positions[tp] - s.start for tp, s in self.spans.items())

    @property
    def total(self) -> int:
        return sum(s.size for s in self.spans.values())

    def committed(self) -> dict[str, int]:
        return {s.label: self.positions[tp] for tp, s in self.spans.items()}

    async def next(self) -> Any | None:
        """The next record in merge order, or None when every span is read to its end."""
        await self._fill()
        if not self.open:
            return None
        tp = min(self.open, key=lambda t: _order(self.buffers[t][0]))
        record = self.buffers[tp].popleft()
        self.positions[tp] = record.offset + 1
        if not self.buffers[tp] and self.positions[tp] >= self.spans[tp].end:
            self.open.discard(tp)
        return record

    async def _fill(self) -> None:
        """Until every open partition has a buffered head (or turns out to be finished)."""
        last_progress = time.monotonic()
        while True:
            needy = [tp for tp in self.open if not self.buffers[tp]]
            for tp in needy:
                # past the end with nothing left: only control markers or gaps remained
                if await self.consumer.position(tp) >= self.spans[tp].end:
                    self.positions[tp] = self.spans[tp].end
                    self.open.discard(tp)
            needy = [tp for tp in needy if tp in self.open]
            if not needy:
                return
            fetched = await self.consumer.getmany(*needy, timeout_ms=FETCH_TIMEOUT_MS, max_records=self.max_records)
            for tp, records in fetched.items():
                end = self.spans[tp].end
                self.buffers[tp].extend(r for r in records if self.positions[tp] <= r.offset < end)
                if records:
                    last_progress = time.monotonic()
            if time.monotonic() - last_progress > self.stall_timeout_s:
                stuck = ", ".join(f"{tp.topic}:{tp.partition}@{self.positions[tp]}" for tp in needy)
                raise ReplayStalled(f"no records for {self.stall_timeout_s:.0f}s before the snapshotted end: {stuck}")


def _order(record: Any) -> tuple[int, str, int, int]:
    return (record.timestamp, record.topic, record.partition, record.offset)
