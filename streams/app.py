"""The Faust shell: app, topics, the feed-state table, agents. It only moves bytes through
`streams.core.pipeline`; every decision is made in the core.

Topology (see README "How it works"):

    input topics ──route──▶ <app_id>-feed (1 partition) ──feed──▶ <app_id>-by-source (key: source)
         │                        │ feed table (links, lines)           │ ──clean──▶ output topic (key: uri)
         │                                                              │ seen table (per source)
         └──────────────▶ dead-letter topic ◀───────────────────────────┘

`route` validates each article; `feed` sees every article of the feed, in one order, links it to
an earlier near copy and finds its feed-wide lines (`streams.core.feedwide`), and re-keys it by
source with those findings in a header; so all of one source's articles — and so every
fingerprint that can count as that source's boilerplate — meet, in order, in one partition,
whatever the number of input partitions or workers. `clean` runs the pipeline there.

Delivery (README "Guarantees"; `streams.delivery`): at least once, with idempotent keyed
output. Each agent takes a batch — each partition's messages strictly in offset order, see
`ReleasingConsumer.admit` —, sends everything the batch produces — envelopes, dead letters,
re-keyed articles, the table's changelog records —, waits until Kafka has all of it, and only
then commits the batch's input offsets. A batch that fails is never recorded and the worker stops (`_agent_crashed`), so
after a crash or restart the uncommitted tail is processed again and yields the same records.
"""

from __future__ import annotations

import asyncio
import base64
import faulthandler
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from contextlib import aclosing
from datetime import datetime, timezone
from typing import Any

import faust
import orjson

from .batches import take_arrived
from .config import ConfigError, Settings, from_env
from .core.envelope import Origin, dead_letter
from .core.feedwide import NO_FINDINGS, FeedFindings, observe
from .core.ninjs import InvalidInput, Limits, decode, read_item, source_of, to_article
from .core.pipeline import Enrichment, Extractor, Prepared, Processed, Rejected, Skipped, enrich, finish, prepare
from .core.tombstone import Tombstone, tombstone
from .delivery import KafkaApp, Outgoing, deliver
from .metrics import Metrics
from . import logs
from .core.gazetteer import GazetteerError
from .nlp import EntityExtractor, ModelMissing, load_extractor
from .topics import StartupError, ensure_topics, topic_record_bytes

log = logging.getLogger("newsclean")
ORIGIN_HEADER = "newsclean-origin"
INPUT_TIME_HEADER = "newsclean-input-time"  # the input record's timestamp (s): the event time of last resort
# Set by `route` on what it re-keys: the bytes passed decode and schema validation there, so `clean`
# does not repeat them. The by-source topic is internal (only `route` writes it); a record without
# the header (an older worker's) is checked again.
CHECKED_HEADER = "newsclean-checked"
FEED_HEADER = "newsclean-feed"  # the feed stage's findings for the article (`FeedFindings.encode`)
EX_SOFTWARE = 70  # exit status after an agent crashed (sysexits.h: internal software error)
CRASH_STOP_GRACE_S = 30.0  # the stop after an agent crash takes ~1 s; past this it is stuck: hard exit
DLQ_EXCERPT_BYTES = 64 * 1024  # original bytes kept in a dead letter the DLQ topic refused as too large


# ---------------------------------------------------------------- feed state


class TableStore:
    """`SeenStore` over the Faust table for one article, as a transaction: writes are held until
    `commit()`, so an article that fails or runs out of time half way leaves no trace in the
    feed state and the state stays a function of the articles that went through."""

    __slots__ = ("table", "pending")

    def __init__(self, table: faust.Table) -> None:
        self.table = table
        self.pending: dict[bytes, bytes | None] = {}  # None: delete

    def get(self, key: str) -> bytes | None:
        raw_key = key.encode()
        if raw_key in self.pending:
            return self.pending[raw_key]
        return self.table.data.get(raw_key)

    def set(self, key: str, value: bytes) -> None:
        self.pending[key.encode()] = value

    def delete(self, key: str) -> None:
        self.pending[key.encode()] = None

    async def commit(self, partition: int) -> list[asyncio.Future]:
        """Apply the writes and send them to the changelog; the futures resolve on delivery."""
        writes: dict[tuple[int, bytes], bytes | None] = {}
        self.apply(partition, writes)
        return await send_changelog(self.table, writes)

    def apply(self, partition: int, writes: dict[tuple[int, bytes], bytes | None]) -> None:
        """Apply the writes to the table and note them in `writes` for the changelog, the last
        value per key winning: a batch sends each key once however many of its articles wrote it,
        at the place of its last write. That order keeps what a crash leaves (a prefix of the
        records) consistent: an article's index record still precedes every entry value that
        carries its sighting (`streams.core.boilerplate`).
        The partition is named explicitly — that of the by-source event being processed —
        because Faust would otherwise take the partition of whatever event it saw last."""
        data = self.table.data
        for raw_key, value in self.pending.items():
            if value is None:
                if data.pop(raw_key, None) is None and (partition, raw_key) not in writes:
                    continue  # nothing to delete: no tombstone needed
            else:
                data[raw_key] = value
            writes.pop((partition, raw_key), None)  # to the end: the place of the last write
            writes[(partition, raw_key)] = value
        self.pending.clear()


async def send_changelog(table: faust.Table, writes: dict[tuple[int, bytes], bytes | None]) -> list[asyncio.Future]:
    """One changelog record per key (a compacted changelog keeps only a key's last value); the
    futures resolve on delivery. Sent straight to the producer rather than through
    `Table.send_changelog`: its `send_soon` buffer holds 100 records, a batch writes hundreds, and
    past 100 Faust stalls the stream in `wait_until_ebb` until the buffer drains one record per
    loop iteration (about 0.05 s per batch alone, 0.15 s with two workers on two cores)."""
    topic = table.changelog_topic
    return [await topic.send(key=raw_key, value=value, partition=partition, key_serializer="raw", value_serializer="raw",
                             callback=table._on_changelog_sent, force=True)  # now, not attached to the event
            for (partition, raw_key), value in writes.items()]


# ---------------------------------------------------------------- time limit


class ArticleTimeout(Exception):
    pass


class Deadline:
    """Preempts one synchronous pipeline step after `seconds` of wall time by raising
    `ArticleTimeout` in it (SIGALRM). The step runs on the event loop's thread, so nothing
    else runs meanwhile; only the main thread can take the signal, elsewhere it is not armed.
    Pure-Python work is interrupted between bytecodes, so a hostile input cannot stall the
    worker even where the core's cost grows faster than linearly."""

    __slots__ = ("seconds", "previous", "armed")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.previous: Any = None
        self.armed = False

    def __enter__(self) -> Deadline:
        if self.seconds > 0 and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, _expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            self.armed = False


def _expire(signum: int, frame: Any) -> None:
    raise ArticleTimeout


# ---------------------------------------------------------------- the app


class Newsclean:
    """The app and its parts, built from one `Settings`.

    `on_crash` is called once when an agent fails (after logging); by default it stops this
    process as SIGTERM does, and `run_worker` then exits with status 70."""

    def __init__(
        self,
        settings: Settings,
        extractor: Extractor | None = None,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.settings = settings
        self.extractor = extractor
        self.on_crash = on_crash or _stop_this_process
        self.crashed: BaseException | None = None
        record_bytes = topic_record_bytes(settings)  # largest record produced or fetched
        self.app = KafkaApp(
            settings.app_id,
            env={},  # Faust would otherwise let unprefixed variables such as BROKER_URL override these
            broker=",".join(f"kafka://{server}" for server in settings.bootstrap_servers),
            broker_credentials=_credentials(settings),
            store=settings.store,
            datadir=settings.data_dir,
            topic_partitions=settings.partitions,
            topic_replication_factor=1,
            producer_acks=-1,
            producer_max_request_size=record_bytes,
            # every record this worker writes: output, dead letters, by-source, changelog
            producer_compression_type=settings.producer_compression,
            consumer_max_fetch_size=record_bytes,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=settings.session_timeout_s,
            # Every topic, table and internal channel carries bytes: nothing from a message is
            # ever deserialised into objects (no pickle, no Faust models).
            key_serializer="raw",
            value_serializer="raw",
            web_enabled=settings.web_enabled,
            web_port=settings.web_port,
            web_bind=settings.web_host,
            web_host=settings.web_host,
            # Endpoints that would expose table contents or routing stay off.
            web_tables_enabled=False,
            web_router_enabled=False,
            web_graph_enabled=False,
            web_stats_enabled=False,
            autodiscover=False,
        )
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        if settings.input_pattern:
            self.input = self.app.topic(pattern=settings.input_pattern, **raw)
        else:
            self.input = self.app.topic(*settings.input_topics, **raw)
        self.feed_topic = self.app.topic(f"{settings.app_id}-feed", partitions=1, internal=True, **raw)
        self.by_source = self.app.topic(f"{settings.app_id}-by-source", partitions=settings.partitions, internal=True, **raw)
        self.output = self.app.topic(settings.output_topic, **raw)
        self.dlq = self.app.topic(settings.dlq_topic, **raw)
        # Changelog-backed (Faust compacts it), so the feed state survives restarts and rebalances.
        # key_type/value_type bytes is what makes Faust read the changelog back raw (a schema
        # does not: a table's serializers come from its types, JSON otherwise).
        self.seen = self.app.Table("seen", partitions=settings.partitions, key_type=bytes, value_type=bytes,
                                   schema=faust.Schema(**raw))
        # The feed-wide state: one partition, with the feed topic's (Faust assigns topics and
        # changelogs of equal partition counts together), so one agent holds all of it.
        self.feed_state = self.app.Table("feed", partitions=1, key_type=bytes, value_type=bytes, schema=faust.Schema(**raw))
        self.ner_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsclean-ner")
        self.metrics = Metrics()
        self.positions: dict[Any, int] = {}  # next offset to process, per input partition (for lag)
        self.app.on_agent_crash = self._agent_crashed
        self.app.agent(self.input, name=f"{settings.app_id}.route")(self.route)
        self.app.agent(self.feed_topic, name=f"{settings.app_id}.feed")(self.feed)
        self.app.agent(self.by_source, name=f"{settings.app_id}.clean")(self.clean)
        self.app.page("/health")(self.health)
        self.app.page("/ready")(self.ready)
        self.app.page("/metrics")(self.prometheus)
        self.app.timer(5.0)(self.sample_gauges)
        self.app.timer(1.0)(self.reread_holes)

    # Page handlers: Faust stores them as a view's `get`, so a bound method receives only the request.
    async def health(self, request: faust.web.Request) -> faust.web.Response:
        return self.app.web.json({"alive": True})

    def is_ready(self) -> bool:
        """Assigned, recovered and consuming: not while a rebalance or table recovery runs."""
        app = self.app
        return bool(app.started and not app.rebalancing and not app.in_recovery and app.tables.recovery.completed.is_set())

    async def ready(self, request: faust.web.Request) -> faust.web.Response:
        ready = self.is_ready()
        body = {"ready": ready, "rebalancing": bool(self.app.rebalancing), "recovering": bool(self.app.in_recovery)}
        return self.app.web.json(body, status=200 if ready else 503)

    async def prometheus(self, request: faust.web.Request) -> faust.web.Response:
        return self.app.web.bytes(self.metrics.render(), content_type="text/plain; version=0.0.4")

    async def sample_gauges(self) -> None:
        self.metrics.table_keys.set(len(self.seen.data))
        self.metrics.feed_keys.set(len(self.feed_state.data))
        assigned = self.app.consumer.assignment()
        for tp in [tp for tp in self.positions if tp not in assigned]:  # revoked by a rebalance
            del self.positions[tp]
            self.metrics.consumer_lag.remove(tp.topic, str(tp.partition))
        for tp, position in self.positions.items():
            highwater = self.app.consumer.highwater(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(tp.topic, tp.partition).set(max(0, highwater - position))

    async def reread_holes(self) -> None:
        # From a timer, not from the agents: a partition whose tail Faust dropped sends no batch.
        if self.app.started:
            self.app.consumer.reread_holes(self._agents_read)

    def _agents_read(self, topic: str) -> bool:
        if topic in (self.by_source.get_topic_name(), self.feed_topic.get_topic_name()):
            return True
        pattern = self.settings.input_pattern
        return bool(re.match(pattern, topic)) if pattern else topic in self.settings.input_topics

    # ------------------------------------------------------------ agents

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
        outcome = tombstone(message.key, None, origin, _now())
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
                item = read_item(decode(raw, limits), _timestamp(message), "record_timestamp", limits,
                                 self.settings.pipeline.input)
        except Exception as exc:
            rejected = _rejection(raw, exc, limits, origin, message.key)
            self.metrics.count(rejected)
            return self._rejected(rejected)
        return Outgoing(
            self.feed_topic,
            key=source_of(item.ninjs).encode(),
            value=raw,
            timestamp=item.event_time.timestamp(),
            headers=[(ORIGIN_HEADER, orjson.dumps(origin)), (INPUT_TIME_HEADER, str(message.timestamp or "").encode()),
                     (CHECKED_HEADER, b"1")],
            instead=lambda exc: self._dead_letter(raw, _refused("the article", len(raw), exc), origin, message.key),
        )

    async def feed(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._feed_batch)

    async def _feed_batch(self, messages: Sequence[Any]) -> None:
        """Observe each article on the feed table, in order; pass it on by source with its
        findings. An article the stage cannot read (over the time limit, say) goes on without
        findings — no link, no feed-wide lines — and `clean` decides on it as on any other."""
        limits = self.settings.pipeline.limits
        writes: dict[tuple[int, bytes], bytes | None] = {}
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
            store = TableStore(self.feed_state)
            try:
                checked = _checked(message)
                with Deadline(limits.max_article_seconds):
                    item = read_item(decode(raw, limits, checked), _input_time(message), "record_timestamp", limits,
                                     self.settings.pipeline.input, checked)
                    # items that are not cleaned (pictures, kills, ...) are no feed evidence
                    findings = observe(to_article(item), store, self.settings.pipeline.feed) if item.passed_as is None else None
            except Exception as exc:
                log.warning("feed stage skipped %s: %r", _origin_of(message), exc)
            else:
                timestamp = item.event_time.timestamp()
                if findings is not None:
                    store.apply(message.partition, writes)
                    headers.append((FEED_HEADER, findings.encode()))
            sends.append(self._by_source(message, raw, timestamp, headers))
        changelog = await send_changelog(self.feed_state, writes)
        await deliver(sends, changelog)

    def _by_source(self, message: Any, raw: bytes, timestamp: float | None, headers: list[tuple[str, bytes]]) -> Outgoing:
        origin = _origin_of(message)
        return Outgoing(
            self.by_source, key=message.key, value=raw, timestamp=timestamp, headers=headers,
            instead=lambda exc: self._dead_letter(raw, _refused("the article", len(raw), exc), origin, message.key),
        )

    async def clean(self, stream: faust.StreamT) -> None:
        await self._in_batches(stream, self._clean_batch)

    async def _clean_batch(self, messages: Sequence[Any]) -> None:
        limits = self.settings.pipeline.limits
        writes: dict[tuple[int, bytes], bytes | None] = {}  # the batch's table writes, for the changelog
        outcomes: list[tuple[Prepared | Processed | Skipped | Rejected | Tombstone, Any]] = []
        for message in messages:
            self.positions[message.tp] = message.offset + 1
            if message.value is None:  # only `route` writes here: a tombstone it passed on
                outcomes.append((Tombstone(message.key, None), message))
                continue
            store = TableStore(self.seen)
            raw = message.value or b""
            origin = _origin_of(message)
            try:
                with Deadline(limits.max_article_seconds):
                    outcome = prepare(raw, origin, store, self.settings.pipeline, _input_time(message), message.key,
                                      checked=_checked(message), findings=_findings(message))
            except Exception as exc:
                outcome = _rejection(raw, exc, limits, origin, message.key)
            if isinstance(outcome, Prepared):
                store.apply(message.partition, writes)
            outcomes.append((outcome, message))
        changelog = await send_changelog(self.seen, writes)
        accepted = [o for o, _ in outcomes if isinstance(o, Prepared)]
        found = iter(await self._entities(accepted))
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
            return _rejection(message.value or b"", exc, limits, prepared.origin, message.key)

    def _envelope(self, processed: Processed, message: Any) -> Outgoing:
        raw = message.value or b""
        origin = processed.envelope["pipeline"]["input"]
        value = orjson.dumps(processed.envelope)
        return Outgoing(
            self.output,
            key=processed.key,
            value=value,
            timestamp=processed.timestamp_ms / 1000,
            instead=lambda exc: self._dead_letter(raw, _refused("the envelope", len(value), exc, "output_too_large"), origin, message.key),
        )

    def _tombstone(self, message: Any) -> Outgoing:
        """The output tombstone, stamped with its input record's time (route passed it on)."""
        moment = _input_time(message)
        return Outgoing(self.output, key=message.key, value=None, timestamp=moment.timestamp() if moment else None)

    def _rejected(self, rejected: Rejected) -> Outgoing:
        record = rejected.record
        origin = record["input"]
        log.warning("dead-lettered %s:%s@%s: %s: %s", origin.get("topic"), origin.get("partition"), origin.get("offset"),
                    rejected.reason, record["detail"][:300])
        return Outgoing(self.dlq, key=None, value=orjson.dumps(record), instead=lambda exc: _excerpt(self.dlq, record, exc))

    def _dead_letter(self, raw: bytes, reason: tuple[str, str], origin: Origin, key: bytes | None) -> Outgoing:
        self.metrics.dead_lettered.labels(reason[0]).inc()
        return self._rejected(Rejected(reason[0], dead_letter(raw, *reason, origin, _now(), key)))

    async def _agent_crashed(self, agent: Any, exc: BaseException) -> None:
        """Faust's supervisor would restart the agent and carry on past the lost batch; a crash
        must instead stop the worker, so that a restart resumes at the last committed offset."""
        if self.crashed is not None:
            return
        self.crashed = exc
        log.critical("agent %s crashed: %r; stopping the worker, the failed batch stays uncommitted", agent.name, exc,
                     exc_info=exc)
        self.app.consumer.halt()
        self.on_crash(exc)


# ---------------------------------------------------------------- helpers


def _rejection(raw: bytes, exc: Exception, limits: Limits, origin: Origin, key: bytes | None) -> Rejected:
    """The dead letter of a message the pipeline could not process: invalid, over the time
    limit, or an unexpected error (`internal_error`: a bug, logged with its traceback)."""
    if isinstance(exc, InvalidInput):
        reason, detail = exc.reason, exc.detail
    elif isinstance(exc, ArticleTimeout):
        reason, detail = "too_slow", f"processing took longer than max_article_seconds={limits.max_article_seconds}"
    else:
        log.error("internal error on %s", origin, exc_info=exc)
        reason, detail = "internal_error", f"{type(exc).__name__}: {str(exc)[:500]}"
    return Rejected(reason, dead_letter(raw, reason, detail, origin, _now(), key))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _refused(what: str, size: int, exc: BaseException, reason: str = "too_large") -> tuple[str, str]:
    return reason, f"Kafka refused {what} of {size} bytes as too large ({exc!r}); raise the topic's max.message.bytes"


def _excerpt(dlq: faust.TopicT, record: dict[str, Any], exc: BaseException) -> Outgoing:
    """A dead letter too large for the dead-letter topic: keep the start of the original; the whole
    message stays on its input topic at the offset the record names."""
    original = base64.b64decode(record["original"])
    shorter = {**record, "original": base64.b64encode(original[:DLQ_EXCERPT_BYTES]).decode("ascii"),
               "detail": f"{record['detail']} [original truncated to {DLQ_EXCERPT_BYTES} of {len(original)} bytes: "
                         f"the dead-letter topic refused the whole record ({exc!r})]"}
    return Outgoing(dlq, key=None, value=orjson.dumps(shorter))


def _timestamp(message: Any) -> datetime | None:
    return datetime.fromtimestamp(message.timestamp, timezone.utc) if message.timestamp else None


def _input_time(message: Any) -> datetime | None:
    """The input record's timestamp, which `route` resolved the event time against: the by-source
    record's own timestamp is its append time."""
    for name, value in message.headers or ():
        if name == INPUT_TIME_HEADER:
            return datetime.fromtimestamp(float(value), timezone.utc) if value else None
    return _timestamp(message)


def _checked(message: Any) -> bool:
    return any(name == CHECKED_HEADER and value == b"1" for name, value in message.headers or ())


def _findings(message: Any) -> FeedFindings:
    """The feed stage's findings from the header; none when the stage could not read the article."""
    for name, value in message.headers or ():
        if name == FEED_HEADER:
            return FeedFindings.decode(value)
    return NO_FINDINGS


def _origin_of(message: Any) -> Origin:
    for name, value in message.headers or ():
        if name == ORIGIN_HEADER:
            return Origin(**orjson.loads(value))
    return Origin(topic=message.topic, partition=message.partition, offset=message.offset)


def _stop_this_process(exc: BaseException, grace_s: float = CRASH_STOP_GRACE_S) -> None:
    """The worker's own SIGTERM path (nothing more is committed after the crash), bounded: a
    stop that has not ended the process within `grace_s` — whatever it waits on — dumps every
    thread's stack and exits with EX_SOFTWARE. A thread, not the event loop: the loop may be
    what is stuck. The NER processes notice their parent is gone and exit (`streams.nlp_pool`)."""
    def hard_exit() -> None:
        log.critical("the worker did not stop within %.0f s of the agent crash; exiting now", grace_s)
        faulthandler.dump_traceback(all_threads=True)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(EX_SOFTWARE)

    timer = threading.Timer(grace_s, hard_exit)
    timer.daemon = True  # a stop that ends in time is not held up by it
    timer.start()
    os.kill(os.getpid(), signal.SIGTERM)


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol == "PLAINTEXT":
        return None
    ssl_context = None
    if settings.security_protocol.endswith("SSL"):
        ssl_context = faust.auth.ssl.create_default_context(
            purpose=faust.auth.ssl.Purpose.SERVER_AUTH, cafile=settings.ssl_cafile or None
        )
        if settings.ssl_certfile:
            ssl_context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context)


def build(settings: Settings | None = None) -> Newsclean:
    settings = settings or from_env()
    extractor = load_extractor(settings.ner) if settings.ner_enabled else None
    return Newsclean(settings, extractor)


def run_worker() -> int:
    """Run until SIGTERM/SIGINT (exit 0), an agent crash (70) or a startup failure (2: bad
    configuration, 3: Kafka unreachable or refusing our credentials)."""
    logs.configure("INFO")  # first, so that a configuration error is a JSON line too
    try:
        settings = from_env()
        logs.configure(settings.log_level)
        asyncio.run(ensure_topics(settings))
        newsclean = build(settings)  # loads the model: a missing one stops the worker here
    except (ConfigError, ModelMissing, GazetteerError) as exc:
        log.critical("invalid configuration: %s", exc)
        return 2
    except StartupError as exc:
        log.critical("cannot start: %s", exc)
        return 3
    worker = faust.Worker(newsclean.app, loglevel=settings.log_level, quiet=True, override_logging=False)
    worker.spinner = None  # its terminal escapes would break the JSON lines
    try:
        worker.execute_from_commandline()  # raises SystemExit when the worker has stopped
    except SystemExit as stopped:
        status = stopped.code if isinstance(stopped.code, int) else 1
    else:
        status = 0
    finally:
        if isinstance(newsclean.extractor, EntityExtractor):
            newsclean.extractor.close()  # the NER processes, before interpreter exit (see streams.cli)
    return EX_SOFTWARE if newsclean.crashed is not None else status


def __getattr__(name: str) -> Any:
    # `faust -A streams.app worker` looks up `app`; built on first access so importing this
    # module (tests, tools) never reads the environment or loads a model.
    if name == "app":
        return build().app
    raise AttributeError(name)
