"""One replay run: restore, plan, prime, then batches of read -> pipeline -> one transaction.

Per batch, in one Kafka transaction: the consumed offsets (to the replay's group), the envelopes
(output topic, keyed by uri, stamped with the event time, as live), the dead letters, the feed
state changes and the progress record (state topic). Nothing the batch computed is visible to a
read_committed reader before the commit, and nothing is lost after it.

Per article it runs the worker's batch path (`streams.batch`): the same decisions, entities with
the same per-article fallback, the same dead letters for failures and for records too large for
Kafka; only consuming, sending and committing differ."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from datetime import datetime, timezone
from typing import IO, Any, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import MessageSizeTooLargeError

from streams.batch import Decided, Final, Incoming, Outgoing, StoreState, conclude, decide, enrich_each, prepared_of, to_record
from streams.config import Settings
from streams.kafka.delivery import record_time_ms
from streams.core.dedup import deduplicate
from streams.core.envelope import Origin
from streams.core.models import ArticleWrites
from streams.core.feedwide import observe
from streams.core.pipeline import Extractor, Prepared
from streams.replay.request import ReplayRequest, ReplaySummary, ReplayTally, check_names, conflict_check, identity, names_for
from streams.replay.journal import JournalStore, Restored, checkpoint_records, restore
from streams.replay.merge import MergedLog
from streams.replay.progress import Progress, Snapshot
from streams.replay.ranges import Span, resolve_spans
from streams.replay.topics import ensure_replay_topics
from streams.kafka.security import client_options
from streams.kafka.topics import topic_record_bytes

TRANSACTION_TIMEOUT_MS = 120_000


class Pacer:
    """The --rate cap: never ahead of `rate` articles per second since the first one."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.began: float | None = None
        self.taken = 0

    async def take(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if self.began is None:
            self.began = now
        self.taken += 1
        ahead = self.began + self.taken / self.rate - now
        if ahead > 0:
            await asyncio.sleep(ahead)  # rate limiting, not synchronisation


class ReplayRun:
    def __init__(self, request: ReplayRequest, settings: Settings, stderr: IO[str] | None, stop: asyncio.Event | None) -> None:
        self.request = request
        self.settings = settings
        self.limits = settings.pipeline.limits
        self.names = names_for(request, settings)
        self.identity = identity(request, settings)
        self.stop = stop or asyncio.Event()
        self.progress = Progress(stderr or sys.stderr, request.progress, request.progress_every_s)
        self.dry = request.dry_run
        self.extractor: Extractor | None = None
        if (settings.ner_enabled if request.ner is None else request.ner) and not self.dry:
            from streams.nlp.extractor import load_extractor

            self.extractor = load_extractor(settings.ner)
        self.store = JournalStore("w")
        self.cold: JournalStore | None = None  # a warm start's cold shadow: what priming changed
        self.tally = ReplayTally()
        self.this_run = {"read": 0, "written": 0, "dead_lettered": 0}
        self.pacer = Pacer(request.rate)
        self.began = time.monotonic()
        self.plan: dict[str, Any] = {}
        self.log: MergedLog | None = None
        self.start_done = 0
        self.record_bytes = topic_record_bytes(settings)

    async def run(self) -> ReplaySummary:
        options = client_options(self.settings)
        self.consumer = AIOKafkaConsumer(
            group_id=None, enable_auto_commit=False, isolation_level="read_committed", auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.record_bytes, fetch_max_bytes=2 * self.record_bytes,
            fetch_max_wait_ms=100,  # a long poll on one connection delays the offset lookups queued behind it
            **options,
        )
        self.admin = AIOKafkaAdminClient(**options)
        self.producer: AIOKafkaProducer | None = None
        await self.consumer.start()
        await self.admin.start()
        try:
            restored = Restored()
            if not self.dry:
                names = self.names
                for warning in await ensure_replay_topics(self.admin, names.output_topic, names.dlq_topic,
                                                          names.state_topic, self.settings.partitions, self.record_bytes):
                    print(f"newsclean replay: warning: {warning}", file=self.progress.stream)
                self.producer = AIOKafkaProducer(
                    transactional_id=self.names.group, acks="all", enable_idempotence=True,
                    transaction_timeout_ms=TRANSACTION_TIMEOUT_MS, max_request_size=self.record_bytes,
                    compression_type=self.settings.producer_compression, **options,
                )
                await self.producer.start()  # fences an earlier run of this replay and ends its open transaction
                restored = await restore(self.consumer, self.names.state_topic)
            conflict_check(restored, self.identity, self.names)
            return await self._run(restored)
        finally:
            if self.extractor is not None:
                self.extractor.close()  # the NER processes, before interpreter exit (see streams.cli)
            if self.producer is not None:
                await self.producer.stop()
            await self.admin.close()
            await self.consumer.stop()

    async def _run(self, restored: Restored) -> ReplaySummary:
        resumed = restored.plan is not None
        progress = restored.progress or {}
        if resumed:
            self.plan = restored.plan or {}
            self.tally = ReplayTally.from_json(progress.get("tally"))
            if progress.get("complete"):
                return self._summary("already_complete", resumed)
        else:
            self.plan = await self._make_plan()
        self.store = JournalStore.restore("w", restored.stores["w"], self.settings.pipeline)
        if self.request.warm_from is not None:
            self.cold = JournalStore.restore("c", restored.stores["c"], self.settings.pipeline)
        spans = self._spans("spans")
        if not resumed:
            if self.request.warm_from is not None:
                await self._prime(self._spans("warm_spans"))
            await self._commit([], {s.label: s.start for s in spans})  # the plan (and primed state) first
        self.log = MergedLog(self.consumer, spans, progress.get("positions"))
        await self.log.start()
        self.start_done = self.log.done
        while self.log.open and not self.stop.is_set():
            records = await self._collect()
            if records:
                await self._commit(await self._process(records), self.log.committed(), len(records))
            self.progress.update(self._snapshot())
        status = "stopped" if self.log.open else "complete"
        if status == "complete":
            await self._commit([], self.log.committed(), complete=True)
        self.progress.close(self._snapshot())
        return self._summary(status, resumed)

    async def _make_plan(self) -> dict[str, Any]:
        request, consumer, admin = self.request, self.consumer, self.admin
        topics = list(request.topics) or await self._input_topics()
        check_names(self.names, topics)
        spans = await resolve_spans(consumer, admin, topics, request.start, request.end, request.offsets, request.partitions)
        plan: dict[str, Any] = {"identity": self.identity, "created": _now_iso(), "spans": _span_json(spans)}
        if request.warm_from is not None:
            window = await resolve_spans(consumer, admin, topics, request.warm_from, request.start, (), request.partitions)
            plan["warm_spans"] = _span_json(window)
        return plan

    async def _input_topics(self) -> list[str]:
        if not self.settings.input_pattern:
            return list(self.settings.input_topics)
        pattern = re.compile(self.settings.input_pattern)
        return sorted(t for t in await self.admin.list_topics() if pattern.fullmatch(t))

    def _spans(self, key: str) -> list[Span]:
        return [Span(*item) for item in self.plan.get(key, [])]

    async def _prime(self, spans: list[Span]) -> None:
        """Feed the window before the range through the feed state only: no output, no NER."""
        log = MergedLog(self.consumer, spans)
        await log.start()
        while (record := await log.next()) is not None:
            await self.pacer.take()
            self.tally.primed += isinstance(self._prepare(record), Prepared)
            self.progress.update(Snapshot("priming", log.done, log.total, self.tally.primed, 0, 0, _since(self.began)))

    async def _collect(self) -> list[Any]:
        records: list[Any] = []
        deadline = time.monotonic() + self.request.commit_interval_s
        while len(records) < self.request.batch_size and time.monotonic() < deadline and not self.stop.is_set():
            record = await self.log.next()
            if record is None:
                break
            await self.pacer.take()
            records.append(record)
        return records

    def _prepare(self, record: Any) -> Decided:
        return decide(_incoming(record), StoreState(self.store), self.settings.pipeline)

    async def _process(self, records: Sequence[Any]) -> list[tuple[Outgoing | None, Final]]:
        """The batch path (`streams.batch`) on the replay's store: each record's outcome and the
        record it produces (None: a skipped item, counted as read)."""
        incomings = [_incoming(record) for record in records]
        state = StoreState(self.store)
        decided = [decide(one, state, self.settings.pipeline) for one in incomings]
        accepted = prepared_of(decided)
        if self.cold is not None:
            self._compare_cold(accepted)
        if self.extractor is None or not accepted:
            found = enrich_each(None, accepted)
        else:
            found = await asyncio.to_thread(enrich_each, self.extractor, accepted)
        final = conclude(incomings, decided, found, self.limits)
        names = self.names
        return [(to_record(one, outcome, names.output_topic, names.dlq_topic), outcome)
                for one, outcome in zip(incomings, final)]

    def _compare_cold(self, accepted: Sequence[Prepared]) -> None:
        """What priming changed: the same articles through a store that was never primed."""
        for prepared in accepted:
            store = ArticleWrites(self.cold)
            findings = observe(prepared.article, store, self.settings.pipeline.feed)
            cold = deduplicate(prepared.article, store, self.settings.pipeline.dedup, context=findings.context)
            store.commit()
            warm_removed = {r.index: r.reason for r in prepared.result.removed}
            cold_removed = {r.index: r.reason for r in cold.removed}
            if warm_removed != cold_removed:
                self.tally.warm_articles_changed += 1
                self.tally.warm_removed_extra.update(warm_removed[i] for i in warm_removed.keys() - cold_removed.keys())
                self.tally.warm_kept_extra.update(cold_removed[i] for i in cold_removed.keys() - warm_removed.keys())

    async def _commit(self, outgoing: Sequence[tuple[Outgoing | None, Final]], positions: dict[str, int], read: int = 0, complete: bool = False) -> None:
        if self.dry:
            self._count([item for item, _ in outgoing], read)
            return
        producer, names = self.producer, self.names
        await producer.begin_transaction()
        try:
            # Offsets before the batch's records: aiokafka#1004 (TxnOffsetCommit racing them).
            await producer.send_offsets_to_transaction({_partition_of(k): v for k, v in positions.items()}, names.group)
            sends, sent = [], []
            for item, _ in outgoing:
                if item is not None:
                    item, delivery = await self._send(item)
                    sends.append(delivery)
                sent.append(item)
            self._count(sent, read)
            progress = {"positions": positions, "tally": self.tally.to_json(), "complete": complete, "at": _now_iso()}
            changes = [*self.store.drain(), *(self.cold.drain() if self.cold is not None else ()),
                       *checkpoint_records(self.plan, progress)]
            for key, value in changes:
                sends.append(await producer.send(names.state_topic, key=key, value=value))
            await asyncio.gather(*sends)
            await producer.commit_transaction()
        except BaseException:
            await _abort(producer)
            raise

    async def _send(self, item: Outgoing) -> tuple[Outgoing, asyncio.Future]:
        """Send `item`, or its dead letter when the producer refuses it as too large. (A refusal
        by the broker fails the transaction instead: the run stops, the batch stays uncommitted.)"""
        while True:
            try:
                return item, await self.producer.send(item.topic, key=item.key, value=item.value, timestamp_ms=None if item.timestamp_ms is None else record_time_ms(item.timestamp_ms))
            except MessageSizeTooLargeError as exc:
                if item.instead is None:
                    raise
                item = item.instead(exc)

    def _count(self, sent: Sequence[Outgoing | None], read: int) -> None:
        self.tally.read += read
        self.this_run["read"] += read
        for item in sent:
            self.tally.count(item)
            if item is not None:
                kind = "dead_lettered" if item.kind == "dead_letter" else "written"
                self.this_run[kind] += 1

    def _snapshot(self) -> Snapshot:
        log, run = self.log, self.this_run
        return Snapshot("replay", log.done, log.total, run["read"], run["written"], run["dead_lettered"],
                        _since(self.began), self.start_done)

    def _summary(self, status: str, resumed: bool) -> ReplaySummary:
        warm = None
        if self.request.warm_from is not None:
            t = self.tally
            warm = {
                "from": self.request.warm_from.isoformat(), "primed": t.primed, "spans": self.plan.get("warm_spans", []),
                "articles_changed": t.warm_articles_changed, "removed_extra": dict(t.warm_removed_extra),
                "kept_extra": dict(t.warm_kept_extra),
            }
        return ReplaySummary(
            names=self.names, status=status, totals=self.tally, this_run=dict(self.this_run), duration_s=_since(self.began),
            resumed=resumed, dry_run=self.dry, spans=tuple(self._spans("spans")), warm=warm,
        )


async def _abort(producer: AIOKafkaProducer) -> None:
    try:
        await producer.abort_transaction()
    except Exception:  # fenced or broken: the next start of this replay (or the timeout) aborts it
        pass


def _incoming(record: Any) -> Incoming:
    # As live: the record timestamp (ms) stands in for an article without a version time.
    fallback = datetime.fromtimestamp(record.timestamp / 1000, timezone.utc) if record.timestamp else None
    return Incoming(record.value, record.key, Origin(topic=record.topic, partition=record.partition, offset=record.offset),
                    fallback, timestamp_ms=record.timestamp)


def _partition_of(label: str) -> TopicPartition:
    topic, _, partition = label.rpartition(":")
    return TopicPartition(topic, int(partition))


def _span_json(spans: Sequence[Span]) -> list[list[Any]]:
    return [[s.topic, s.partition, s.start, s.end] for s in spans]


def _since(began: float) -> float:
    return time.monotonic() - began


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


async def replay(
    request: ReplayRequest, settings: Settings, *, stderr: IO[str] | None = None, stop: asyncio.Event | None = None
) -> ReplaySummary:
    """Run (or resume) one replay to its end. A coroutine: `asyncio.run(replay(...))`.

    Raises `RangeError`/`ConfigError` for bad arguments, `ReplayConflict` when the name is taken
    by other arguments, and Kafka errors as they come (the last committed batch stays; run it
    again to resume). `stop` set (e.g. by SIGTERM) ends it after the batch in flight commits."""
    request.check()
    return await ReplayRun(request, settings, stderr=stderr, stop=stop).run()
