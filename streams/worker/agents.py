"""The agents (README "How it works"): `route` validates each input article and re-keys it to the
feed topic; `feed` observes it on the feed table and re-keys it by source; `clean` runs the
pipeline. Each takes a batch, admits it in offset order, delivers what it produced and only
then releases it for the commit (`streams.kafka.consumer`)."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import BrokenExecutor
from contextlib import aclosing
from typing import Any

import faust
import orjson

from streams.worker.batches import take_arrived
from streams.core.envelope import Origin, dead_letter
from streams.core.feedwide import observe
from streams.core.ninjs import decode, read_item, source_of, to_article
from streams.core.pipeline import Enrichment, Prepared, Processed, Rejected, Skipped, enrich, finish, prepare
from streams.core.tombstone import Tombstone, tombstone
from streams.dead_letters import DLQ_EXCERPT_BYTES, now, refused, rejection
from streams.deadline import Deadline
from streams.kafka.delivery import Outgoing, deliver
from streams.worker.headers import (
    CHECKED_HEADER,
    FEED_HEADER,
    INPUT_TIME_HEADER,
    ORIGIN_HEADER,
    findings_of,
    input_time,
    is_checked,
    origin_of,
    record_time,
)
from streams.worker.state import TableStore, send_changelog

log = logging.getLogger("newsclean")
NER_CHUNK = 4  # articles per hand-over to the model while the rest of a batch is prepared


class Agents:
    """The three agents' batch handlers, mixed into `streams.worker.app.Newsclean` (which owns the
    topics, tables, metrics and extractor they use)."""

    async def _in_batches(self, stream: faust.StreamT, handle: Callable[[Sequence[Any]], Awaitable[None]]) -> None:
        """Every agent's loop: take a batch, admit it in offset order, let `handle` process and
        deliver it, then release it for the commit."""
        consumer = self.app.consumer
        async with aclosing(take_arrived(stream, self.settings.batch_size)) as batches:  # closed on a crash too
            async for events in batches:
                messages = await consumer.admit(event.message for event in events)
                if messages:  # none after a crash, or when all were read before
                    await handle(messages)
                    await consumer.delivered(messages)

    async def route(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._route_batch)

    async def _route_batch(self, messages: Sequence[Any]) -> None:
        self.metrics.articles_in.inc(len(messages))
        await deliver([out for message in messages for out in self._route(message)])

    def _route(self, message: Any) -> list[Outgoing]:
        # A null value is a tombstone; an empty one (b"") is a broken message for `decode`.
        return self._route_tombstone(message) if message.value is None else [self._route_one(message)]

    def _route_tombstone(self, message: Any) -> list[Outgoing]:
        """A tombstone takes the articles' way, through the feed topic (so it never overtakes the
        article it deletes), and `feed` sends it to every by-source partition, and `clean`
        forwards each copy to the output. Its article's source (and so its partition) is unknown,
        and only the copy in that partition is sure to follow the article's envelope onto the
        output topic; the others may come earlier, which deletes nothing that the last copy would not."""
        self.positions[message.tp] = message.offset + 1
        origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
        outcome = tombstone(message.key, None, origin, now())
        if isinstance(outcome, Rejected):
            self.metrics.count(outcome)
            return [self._rejected(outcome)]
        headers = [(ORIGIN_HEADER, orjson.dumps(origin)), (INPUT_TIME_HEADER, str(message.timestamp or "").encode())]
        return [Outgoing(self.feed_topic, key=outcome.key, value=None, headers=headers)]

    def _route_one(self, message: Any) -> Outgoing:
        self.positions[message.tp] = message.offset + 1
        origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
        raw = message.value or b""
        limits = self.settings.pipeline.limits
        try:
            with Deadline(limits.max_article_seconds):
                # every valid item goes on, text or not: `clean` decides, in the item's stream order
                item = read_item(decode(raw, limits), record_time(message), "record_timestamp", limits,
                                 self.settings.pipeline.input)
        except Exception as exc:
            rejected = rejection(raw, exc, limits, origin, message.key)
            self.metrics.count(rejected)
            return self._rejected(rejected)
        return Outgoing(
            self.feed_topic,
            key=source_of(item.ninjs).encode(),
            value=raw,
            timestamp=item.event_time.timestamp(),
            headers=[(ORIGIN_HEADER, orjson.dumps(origin)), (INPUT_TIME_HEADER, str(message.timestamp or "").encode()),
                     (CHECKED_HEADER, b"1")],
            instead=lambda exc: self._dead_letter(raw, refused("the article", len(raw), exc), origin, message.key),
        )

    async def feed(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._feed_batch)

    async def _feed_batch(self, messages: Sequence[Any]) -> None:
        """Observe each article on the feed table, in order; pass it on by source with its
        findings. An article the stage cannot read (over the time limit, say) goes on without
        findings — no link, no feed-wide lines — and `clean` decides on it as on any other."""
        limits = self.settings.pipeline.limits
        writes: dict[tuple[int, str], bytes | None] = {}
        sends = []
        for message in messages:
            self.positions[message.tp] = message.offset + 1
            if message.value is None:  # a tombstone `route` passed on: to every by-source partition
                headers = list(message.headers or ())
                sends += [Outgoing(self.by_source, key=message.key, value=None, headers=headers, partition=partition)
                          for partition in range(self.settings.partitions)]
                continue
            raw = message.value or b""
            headers = [(name, value) for name, value in message.headers or () if name != FEED_HEADER]
            timestamp = message.timestamp
            store = TableStore(self.feed_log)
            try:
                checked = is_checked(message)
                with Deadline(limits.max_article_seconds):
                    item = read_item(decode(raw, limits, checked), input_time(message), "record_timestamp", limits,
                                     self.settings.pipeline.input, checked)
                    # items that are not cleaned (pictures, kills, ...) are no feed evidence
                    findings = observe(to_article(item), store, self.settings.pipeline.feed) if item.passed_as is None else None
            except Exception as exc:
                log.warning("feed stage skipped %s: %r", origin_of(message), exc)
            else:
                timestamp = item.event_time.timestamp()
                if findings is not None:
                    store.apply(message.partition, writes)
                    headers.append((FEED_HEADER, findings.encode()))
            sends.append(self._by_source(message, raw, timestamp, headers))
        changelog = await send_changelog(self.feed_log, writes)
        await deliver(sends, changelog)

    def _by_source(self, message: Any, raw: bytes, timestamp: float | None, headers: list[tuple[str, bytes]]) -> Outgoing:
        origin = origin_of(message)
        return Outgoing(
            self.by_source, key=message.key, value=raw, timestamp=timestamp, headers=headers,
            instead=lambda exc: self._dead_letter(raw, refused("the article", len(raw), exc), origin, message.key),
        )

    async def clean(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._clean_batch)

    async def _clean_batch(self, messages: Sequence[Any]) -> None:
        limits = self.settings.pipeline.limits
        writes: dict[tuple[int, str], bytes | None] = {}  # the batch's table writes, for the changelog
        outcomes: list[tuple[Prepared | Processed | Skipped | Rejected | Tombstone, Any]] = []
        # The model starts on the first prepared articles while the rest are prepared: one chunk
        # at a time to the NER thread (in order, one thread), the entities read back in order.
        chunk = NER_CHUNK if self.extractor is not None else len(messages)
        entities: list[asyncio.Future] = []
        waiting: list[Prepared] = []
        for message in messages:
            self.positions[message.tp] = message.offset + 1
            if message.value is None:  # only `route` writes here: a tombstone it passed on
                outcomes.append((Tombstone(message.key, None), message))
                continue
            store = TableStore(self.seen_log)
            raw = message.value or b""
            origin = origin_of(message)
            try:
                with Deadline(limits.max_article_seconds):
                    outcome = prepare(raw, origin, store, self.settings.pipeline, input_time(message), message.key,
                                      checked=is_checked(message), findings=findings_of(message))
            except Exception as exc:
                outcome = rejection(raw, exc, limits, origin, message.key)
            if isinstance(outcome, Prepared):
                store.apply(message.partition, writes)
                waiting.append(outcome)
                if len(waiting) >= chunk:
                    entities.append(asyncio.ensure_future(self._entities(waiting)))
                    waiting = []
                    await asyncio.sleep(0)  # hands the chunk to the NER thread before the next article
            outcomes.append((outcome, message))
        if waiting:
            entities.append(asyncio.ensure_future(self._entities(waiting)))
        changelog = await send_changelog(self.seen_log, writes)
        found = iter([enrichment for done in await asyncio.gather(*entities) for enrichment in done])
        sends = []
        for outcome, message in outcomes:
            if isinstance(outcome, Tombstone):
                self.metrics.tombstones.inc()
                sends.append(self._tombstone(message))
                continue
            if isinstance(outcome, Prepared):
                outcome = self._finish(outcome, next(found), message)
            self.metrics.count(outcome)
            if isinstance(outcome, Processed):  # cleaned or passed
                sends.append(self._envelope(outcome, message))
            elif isinstance(outcome, Rejected):
                sends.append(self._rejected(outcome))
        await deliver(sends, changelog)

    async def _entities(self, accepted: list[Prepared]) -> list[Enrichment | BaseException]:
        """Entities per article, extracted in a thread (the model itself in the NER processes,
        `NEWSCLEAN_NER_PROCESSES`). When the batch fails, each article is tried alone so that one
        bad article costs only itself; a broken process pool is no article's fault and stops
        the worker instead (the batch stays uncommitted)."""
        loop = asyncio.get_running_loop()
        with self.metrics.ner_seconds.time():
            try:
                return await loop.run_in_executor(self.ner_pool, enrich, self.extractor, accepted)
            except BrokenExecutor:
                raise
            except Exception:
                found: list[Enrichment | BaseException] = []
                for one in accepted:
                    try:
                        found.extend(await loop.run_in_executor(self.ner_pool, enrich, self.extractor, [one]))
                    except BrokenExecutor:
                        raise
                    except Exception as exc:
                        found.append(exc)
                return found

    def _finish(self, prepared: Prepared, enrichment: Enrichment | BaseException, message: Any) -> Processed | Rejected:
        limits = self.settings.pipeline.limits
        try:
            if isinstance(enrichment, BaseException):
                raise enrichment
            return finish(prepared, enrichment)
        except Exception as exc:
            return rejection(message.value or b"", exc, limits, prepared.origin, message.key)

    def _envelope(self, processed: Processed, message: Any) -> Outgoing:
        raw = message.value or b""
        origin = processed.envelope["pipeline"]["input"]
        value = orjson.dumps(processed.envelope)
        return Outgoing(
            self.output,
            key=processed.key,
            value=value,
            timestamp=processed.timestamp_ms / 1000,
            instead=lambda exc: self._dead_letter(raw, refused("the envelope", len(value), exc, "output_too_large"), origin, message.key),
        )

    def _tombstone(self, message: Any) -> Outgoing:
        """The output tombstone, stamped with its input record's time (route passed it on)."""
        moment = input_time(message)
        return Outgoing(self.output, key=message.key, value=None, timestamp=moment.timestamp() if moment else None)

    def _rejected(self, rejected: Rejected) -> Outgoing:
        record = rejected.record
        origin = record["input"]
        log.warning("dead-lettered %s:%s@%s: %s: %s", origin.get("topic"), origin.get("partition"), origin.get("offset"),
                    rejected.reason, record["detail"][:300])
        return Outgoing(self.dlq, key=None, value=orjson.dumps(record), instead=lambda exc: excerpt(self.dlq, record, exc))

    def _dead_letter(self, raw: bytes, reason: tuple[str, str], origin: Origin, key: bytes | None) -> Outgoing:
        self.metrics.dead_lettered.labels(reason[0]).inc()
        return self._rejected(Rejected(reason[0], dead_letter(raw, *reason, origin, now(), key)))


def excerpt(dlq: faust.TopicT, record: dict[str, Any], exc: BaseException) -> Outgoing:
    """A dead letter too large for the dead-letter topic: keep the start of the original; the whole
    message stays on its input topic at the offset the record names."""
    original = base64.b64decode(record["original"])
    shorter = {**record, "original": base64.b64encode(original[:DLQ_EXCERPT_BYTES]).decode("ascii"),
               "detail": f"{record['detail']} [original truncated to {DLQ_EXCERPT_BYTES} of {len(original)} bytes: "
                         f"the dead-letter topic refused the whole record ({exc!r})]"}
    return Outgoing(dlq, key=None, value=orjson.dumps(shorter))
