"""The agents (README "How it works"): `route` validates each input article and re-keys it to the
feed topic; `feed` observes it on the feed table and re-keys it by source; `clean` runs the
batch path (`streams.batch`). With NER on, `clean` decides and drafts, and `enrich` — keyed by
uri, so on every worker whatever the sources — runs the model and writes the output. Each takes
a batch, admits it in offset order, delivers what it produced and only then releases it for the
commit (`streams.kafka.consumer`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import faust

from streams.batch import (
    Final,
    Incoming,
    Outgoing,
    complete_each,
    conclude,
    dead_letter_record,
    decide,
    drafts_of,
    enrich_each,
    extract_each,
    prepared_of,
    staged,
    to_record,
)
from streams.config import Settings
from streams.core.envelope import Origin
from streams.core.feedwide import observe
from streams.core.ninjs import decode, read_item, source_of, to_article
from streams.core.pipeline import Draft, Extractor, Rejected, Skipped
from streams.core.tombstone import Tombstone, tombstone
from streams.dead_letters import now, refusal, rejection
from streams.deadline import Deadline
from streams.kafka.delivery import deliver
from streams.kafka.transport import KafkaApp
from streams.worker.metrics import Metrics
from streams.worker.headers import FEED_HEADER, incoming, input_time, is_checked, origin_of, record_time, routed
from streams.worker.batches import take_arrived
from streams.worker import drafts
from streams.worker.state import TableBatch, TableState, TableStore, send_changelog

log = logging.getLogger("newsclean")


class Agents:
    """The agents' batch handlers, mixed into `streams.worker.app.Newsclean`, which builds
    what they use (declared here):"""

    settings: Settings
    app: KafkaApp
    feed_topic: faust.TopicT  # <app_id>-feed
    by_source: faust.TopicT  # <app_id>-by-source
    enrich_topic: faust.TopicT | None  # <app_id>-enrich (key: uri), when NER is on
    output: faust.TopicT
    dlq: faust.TopicT
    seen_log: TableState  # the per-source feed state
    feed_log: TableState  # the feed-wide state
    extractor: Extractor | None
    ner_pool: ThreadPoolExecutor  # where enrichment runs, off the event loop
    metrics: Metrics
    positions: dict[Any, int]  # next offset to process, per input partition (for lag)

    async def _in_batches(self, stream: faust.StreamT, handle: Callable[[Sequence[Any]], Awaitable[None]]) -> None:
        """Every agent's loop: take a batch, admit it in offset order, let `handle` process and
        deliver it, then release it for the commit."""
        consumer = self.app.consumer
        async with aclosing(take_arrived(consumer, stream, self.settings.batch_size)) as batches:  # closed on a crash too
            async for taken in batches:
                await self._handled(taken, await self._admitted(taken), handle)

    async def _admitted(self, taken: list[Any]) -> list[Any]:
        """The messages of a batch taken to process now (`ReleasingConsumer.admit`); the batch
        is released again should that fail."""
        try:
            return await self.app.consumer.admit(taken)
        except BaseException:
            self.app.consumer.release(taken)
            raise

    async def _handled(self, taken: list[Any], messages: list[Any], handle: Callable[[Sequence[Any]], Awaitable[None]]) -> None:
        """`handle` the admitted messages, report them delivered, then release the batch taken
        (for the stop and rebalances, which wait for that), failed or not."""
        try:
            if messages:  # none after a crash, or when all were read before
                await handle(messages)
                await self.app.consumer.delivered(messages)
        finally:
            self.app.consumer.release(taken)

    async def route(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._route_batch)

    async def _route_batch(self, messages: Sequence[Any]) -> None:
        self.metrics.articles_in.inc(len(messages))
        await deliver([self._route(message) for message in messages])

    def _route(self, message: Any) -> Outgoing:
        """A valid item, text or not, goes on to the feed topic keyed by its source (`clean`
        decides on it, in the item's stream order); an invalid one is dead-lettered here.

        A tombstone takes the articles' way, through the feed topic (so it never overtakes the
        article it deletes), and `feed` sends it to every by-source partition, and `clean`
        forwards each copy to the output. Its article's source (and so its partition) is unknown,
        and only the copy in that partition is sure to follow the article's envelope onto the
        output topic; the others may come earlier, which deletes nothing that the last copy would not."""
        self.positions[message.tp] = message.offset + 1
        origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
        raw, key = message.value, message.key
        if raw is None:  # a tombstone; an empty value (b"") is a broken message for `decode`
            outcome = tombstone(key, None, origin, now())
            if isinstance(outcome, Rejected):
                return self._dead_letter(outcome)
            return Outgoing(self.feed_topic, outcome.key, None, "tombstone", headers=routed(origin, message, False))
        limits = self.settings.pipeline.limits
        try:
            with Deadline(limits.max_article_seconds):
                item = read_item(decode(raw, limits), record_time(message), "record_timestamp", limits,
                                 self.settings.pipeline.input)
        except Exception as exc:
            return self._dead_letter(rejection(raw, exc, limits, origin, key))
        return Outgoing(self.feed_topic, source_of(item.ninjs).encode(), raw, "article",
                        _ms(item.event_time), headers=routed(origin, message, True),
                        instead=self._refused_article(raw, origin, key))

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
                sends += [Outgoing(self.by_source, message.key, None, "tombstone", headers=headers, partition=partition)
                          for partition in range(self.settings.partitions)]
                continue
            raw = message.value or b""
            headers = [(name, value) for name, value in message.headers or () if name != FEED_HEADER]
            timestamp = None if message.timestamp is None else round(message.timestamp * 1000)
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
                timestamp = _ms(item.event_time)
                if findings is not None:
                    store.apply(message.partition, writes)
                    headers.append((FEED_HEADER, findings.encode()))
            sends.append(self._by_source(message, raw, timestamp, headers))
        changelog = await send_changelog(self.feed_log, writes)
        await deliver(sends, changelog)

    def _by_source(self, message: Any, raw: bytes, timestamp_ms: int | None, headers: list[tuple[str, bytes]]) -> Outgoing:
        return Outgoing(self.by_source, message.key, raw, "article", timestamp_ms, headers=headers,
                        instead=self._refused_article(raw, origin_of(message), message.key))

    async def clean(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._clean_batch)

    async def _clean_batch(self, messages: Sequence[Any]) -> None:
        """The batch path (`streams.batch`) on the by-source table: decide in order, send the
        table's changelog, then each outcome's record. With NER off, entities are none and the
        envelopes go to the output; with NER on, every outcome bound for the output goes to the
        enrich stage, in order (a draft, a passed envelope, a tombstone), dead letters straight
        to the dead-letter topic."""
        writes: dict[tuple[int, str], bytes | None] = {}  # the batch's table writes, for the changelog
        incomings = [incoming(message) for message in messages]
        for message in messages:
            self.positions[message.tp] = message.offset + 1
        state = TableBatch(self.seen_log, writes)
        decided = [decide(one, state, self.settings.pipeline) for one in incomings]
        if self.enrich_topic is None:  # NER off (no extractor): no model, so no thread hop
            changelog = await send_changelog(self.seen_log, writes)
            final = conclude(incomings, decided, enrich_each(None, prepared_of(decided)), self.settings.pipeline.limits)
            await deliver(self._records(incomings, final), changelog)
            return
        changelog = await send_changelog(self.seen_log, writes)
        sends = []
        for one, outcome in zip(incomings, staged(incomings, decided, self.extractor, self.settings.pipeline.limits)):
            if isinstance(outcome, (Rejected, Skipped)):
                sends += self._records([one], [outcome])
            else:
                sends.append(self._to_enrich(one, outcome))
        await deliver(sends, changelog)

    def _to_enrich(self, one: Incoming, outcome: drafts.Staged) -> Outgoing:
        assert self.enrich_topic is not None
        value = drafts.encode(outcome, one)

        def instead(exc: BaseException) -> Outgoing:
            rejected = refusal(one.value or b"", "the envelope", len(value), exc, one.origin, one.key, "output_too_large")
            self._count_refused(rejected)
            return dead_letter_record(rejected, self.dlq)

        return Outgoing(self.enrich_topic, outcome.key, value, "article", instead=instead)

    def _records(self, incomings: Sequence[Incoming], final: Sequence[Final]) -> list[Outgoing]:
        """Each final outcome's record (none for a skipped item), counted."""
        sends = []
        for one, outcome in zip(incomings, final):
            if isinstance(outcome, Tombstone):
                self.metrics.tombstones.inc()
            else:
                self.metrics.count(outcome)
            if isinstance(outcome, Rejected):
                _log_dead_letter(outcome)
            record = to_record(one, outcome, self.output, self.dlq, on_refused=self._count_refused)
            if record is not None:
                sends.append(record)
        return sends

    async def enrich(self, stream: faust.StreamT) -> None:
        """`_in_batches` with batches side by side, so a short article does not wait behind a
        long one: each batch goes to the model as soon as it is taken, and its records go out
        once the model is done and every batch taken before it that shares a uri with it is out
        (a uri's records stay in order: the topic is keyed by uri). Batches are reported
        delivered (for the commit: `delivered` commits past the highest offset) and released in
        the order taken, so a commit never passes a batch not yet out. At most
        `ENRICH_BATCHES_UNDER_WAY` batches, and twice the batch size in messages, are under way.
        A failed batch stops the agent (the task group) before any later batch sharing a uri
        with it sends, and before anything after it is reported delivered."""
        consumer = self.app.consumer
        under_way: list[_UnderWay] = []
        try:
            async with (asyncio.TaskGroup() as tasks,
                        aclosing(take_arrived(consumer, stream, self.settings.batch_size)) as batches):
                async for taken in batches:
                    under_way = [batch for batch in under_way if not batch.turn.done()]
                    while under_way and (len(under_way) == ENRICH_BATCHES_UNDER_WAY or sum(
                            len(batch.taken) for batch in under_way) + len(taken) > 2 * self.settings.batch_size):
                        await asyncio.wait([under_way[0].turn])
                        under_way = [batch for batch in under_way if not batch.turn.done()]
                    messages = await self._admitted(taken)  # here, in the order taken
                    if not messages:  # none after a crash, or all read before: nothing to send or commit
                        consumer.release(taken)
                        continue
                    uris = {message.key for message in messages}
                    after = [batch.sending for batch in under_way if batch.uris & uris]
                    sending = tasks.create_task(self._enrich_batch(messages, after))
                    before = under_way[-1].turn if under_way else None
                    turn = tasks.create_task(self._handled(taken, messages, partial(_in_turn, sending, before)))
                    under_way.append(_UnderWay(taken, uris, sending, turn))
        finally:
            for batch in under_way:  # a task cancelled before it ran never released its batch
                consumer.release(batch.taken)

    async def _enrich_batch(self, messages: Sequence[Any], after: Sequence[asyncio.Task] = ()) -> None:
        """The model for the batch's drafts (this worker's share: the topic is keyed by uri),
        then, once the batches `after` are out, each outcome's record on the output, in the
        enrich partition's order."""
        frames, broken = [], []
        for message in messages:
            self.positions[message.tp] = message.offset + 1
            try:
                frames.append(drafts.decode(message.value))
            except drafts.BadFrame as exc:  # never written by `clean`: kept as a dead letter
                origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
                broken.append(self._dead_letter(rejection(message.value or b"", exc, self.settings.pipeline.limits,
                                                          origin, message.key)))
        incomings = [frame.incoming for frame in frames]
        outcomes = [frame.outcome for frame in frames]
        model = asyncio.ensure_future(self._extract(drafts_of(outcomes)))
        try:
            for batch in after:
                await asyncio.shield(batch)  # raises when it failed: nothing of this batch goes out
            found = await model
        finally:
            model.cancel()  # a no-op once done; the thread's run, if any, ends by itself
        final = complete_each(incomings, outcomes, found, self.settings.pipeline.limits)
        await deliver(broken + self._records(incomings, final))

    async def _extract(self, batch: list[Draft]) -> list[Any]:
        """`extract_each` in a thread (the model itself in the NER processes, `NEWSCLEAN_NER_PROCESSES`);
        a broken process pool stops the worker (the batch stays uncommitted). Counts this worker's
        model input."""
        if not batch:  # passed envelopes and tombstones only
            return []
        for one in batch:
            if one.model_input is not None:
                self.metrics.count_model_input(one.model_input[0], one.model_input[1])
        loop = asyncio.get_running_loop()
        with self.metrics.ner_seconds.time():
            return await loop.run_in_executor(self.ner_pool, extract_each, self.extractor, batch)

    def _dead_letter(self, rejected: Rejected) -> Outgoing:
        self.metrics.count(rejected)
        _log_dead_letter(rejected)
        return dead_letter_record(rejected, self.dlq)

    def _refused_article(self, raw: bytes, origin: Origin, key: bytes | None) -> Callable[[BaseException], Outgoing]:
        return lambda exc: self._dead_letter(refusal(raw, "the article", len(raw), exc, origin, key))

    def _count_refused(self, rejected: Rejected) -> None:
        self.metrics.count(rejected)
        _log_dead_letter(rejected)


# Enough for the articles that arrive while a long one is in the model to pass it.
ENRICH_BATCHES_UNDER_WAY = 8


@dataclass(frozen=True, slots=True)
class _UnderWay:
    """An enrich batch: its messages, their uris, the task sending its records and the task
    reporting it delivered and releasing it (after the batch before it)."""

    taken: list[Any]
    uris: set[bytes | None]
    sending: asyncio.Task
    turn: asyncio.Task


async def _in_turn(sending: asyncio.Task, before: asyncio.Task | None, messages: Sequence[Any]) -> None:
    """A batch's `handle` in `_handled`: its records out, then the batch before it reported."""
    await asyncio.shield(sending)
    if before is not None:
        await asyncio.shield(before)


def _log_dead_letter(rejected: Rejected) -> None:
    origin = rejected.record["input"]
    log.warning("dead-lettered %s:%s@%s: %s: %s", origin.get("topic"), origin.get("partition"), origin.get("offset"),
                rejected.reason, rejected.record["detail"][:300], extra={**origin, "reason": rejected.reason})


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
