"""What a replay reads: per partition, a span of offsets [start, end), resolved once at start.

A time range becomes offsets with Kafka's offsets-for-times: a span starts at the first record
stamped at or after `from` and ends before the first record stamped at or after `to`. So
consecutive ranges tile the log: every record falls in exactly one of them, even when producers
stamp out of order (a late record belongs to the span it was appended in). Ends are capped at the
end offsets snapshotted at start, so a replay finishes while the topic keeps growing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

_OFFSETS = re.compile(r"^(?P<topic>[A-Za-z0-9._-]+):(?P<partition>\d+)(?::(?P<start>\d*)-(?P<end>\d*))?$")


class RangeError(ValueError):
    """Arguments that do not describe a readable range."""


@dataclass(frozen=True, slots=True)
class Span:
    topic: str
    partition: int
    start: int  # first offset to read
    end: int  # first offset not to read

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)

    @property
    def label(self) -> str:
        return f"{self.topic}:{self.partition}"


@dataclass(frozen=True, slots=True)
class OffsetRequest:
    """One `--offsets` item; None means the partition's first offset / the snapshotted end."""

    topic: str
    partition: int
    start: int | None
    end: int | None


def parse_time(text: str) -> datetime:
    """ISO 8601 (`2019-03-01`, `2019-03-01T00:00Z`, with any offset); without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RangeError(f"{text!r} is not an ISO 8601 time (e.g. 2019-03-01T00:00Z)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def parse_offsets(spec: str) -> tuple[OffsetRequest, ...]:
    """`topic:partition:start-end[,...]`, end exclusive; `start-` reads to the end, `-end` from
    the first offset, and `topic:partition` alone the whole partition."""
    found = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        match = _OFFSETS.match(item)
        if match is None:
            raise RangeError(f"--offsets item {item!r} is not topic:partition:start-end")
        start = int(match["start"]) if match["start"] else None
        end = int(match["end"]) if match["end"] else None
        if start is not None and end is not None and end < start:
            raise RangeError(f"--offsets item {item!r}: end {end} is before start {start}")
        found.append(OffsetRequest(match["topic"], int(match["partition"]), start, end))
    if not found:
        raise RangeError("--offsets is empty")
    keys = [(o.topic, o.partition) for o in found]
    if len(set(keys)) != len(keys):
        raise RangeError("--offsets names a partition twice")
    return tuple(found)


def parse_partitions(text: str) -> tuple[int, ...]:
    """`0,2,5-7` -> (0, 2, 5, 6, 7)."""
    picked: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise RangeError(f"--partitions item {part!r} is not N or N-M")
        picked.update(range(int(low), int(high or low) + 1))
    if not picked:
        raise RangeError("--partitions is empty")
    return tuple(sorted(picked))


def time_spans(
    partitions: Iterable[TopicPartition],
    beginnings: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
    at_from: Mapping[TopicPartition, int | None] | None = None,
    at_to: Mapping[TopicPartition, int | None] | None = None,
) -> list[Span]:
    """Spans from offsets-for-times answers: `at_from`/`at_to` map a partition to the first offset
    stamped at or after the bound, None when no record is (the bound is past the partition's end);
    a missing mapping means no bound."""
    spans = []
    for tp in sorted(partitions):
        first, end = beginnings[tp], ends[tp]
        start = min(end, max(first, first if at_from is None else _or(at_from.get(tp), end)))
        stop = end if at_to is None else min(end, _or(at_to.get(tp), end))
        spans.append(Span(tp.topic, tp.partition, start, max(start, stop)))
    return spans


def explicit_spans(
    requests: Iterable[OffsetRequest], beginnings: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
) -> list[Span]:
    """Spans from `--offsets`, clamped to what the log holds now."""
    spans = []
    for request in requests:
        tp = TopicPartition(request.topic, request.partition)
        if tp not in ends:
            raise RangeError(f"--offsets: {request.topic}:{request.partition} does not exist")
        first, end = beginnings[tp], ends[tp]
        start = min(max(first, _or(request.start, first)), end)
        stop = min(max(start, _or(request.end, end)), end)
        spans.append(Span(tp.topic, tp.partition, start, stop))
    return sorted(spans, key=lambda s: (s.topic, s.partition))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def topic_partitions(admin: AIOKafkaAdminClient, topics: Iterable[str], only: tuple[int, ...] | None) -> list[TopicPartition]:
    found = []
    for described in await admin.describe_topics(sorted(set(topics))):
        if described["error_code"] or not described["partitions"]:
            raise RangeError(f"topic {described['topic']!r} does not exist")
        partitions = sorted(p["partition"] for p in described["partitions"])
        found.extend(TopicPartition(described["topic"], p) for p in partitions if only is None or p in only)
    if not found:
        raise RangeError("no partition selected")
    return found


async def resolve_spans(
    consumer: AIOKafkaConsumer,
    admin: AIOKafkaAdminClient,
    topics: Iterable[str],
    start: datetime | None = None,
    end: datetime | None = None,
    offsets: tuple[OffsetRequest, ...] = (),
    only: tuple[int, ...] | None = None,
) -> list[Span]:
    """Snapshot the log's bounds now and turn the requested range into spans."""
    if offsets:
        tps = [TopicPartition(o.topic, o.partition) for o in offsets]
        await topic_partitions(admin, {tp.topic for tp in tps}, None)
    else:
        tps = await topic_partitions(admin, topics, only)
    beginnings = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)  # read_committed: the last stable offset
    if offsets:
        return explicit_spans(offsets, beginnings, ends)
    at_from = await _offsets_at(consumer, tps, start) if start else None
    at_to = await _offsets_at(consumer, tps, end) if end else None
    return time_spans(tps, beginnings, ends, at_from, at_to)


async def _offsets_at(consumer: AIOKafkaConsumer, tps: list[TopicPartition], moment: datetime) -> dict[TopicPartition, int | None]:
    found = await consumer.offsets_for_times({tp: _millis(moment) for tp in tps})
    return {tp: (hit.offset if hit is not None else None) for tp, hit in found.items()}
