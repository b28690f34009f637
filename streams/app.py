"""The Faust shell: app, topics, the feed-state table, agents. It only moves bytes through
`streams.core.pipeline`; every decision is made in the core.

Topology (see README "Topology"):

    input topics ──route──▶ <app_id>-by-source (key: source) ──clean──▶ output topic (key: uri)
         │                        │  seen table (changelog, co-partitioned)       
         └──────────────▶ dead-letter topic ◀─┘

`route` validates and re-keys each article by its source, so all of one source's articles — and
so every fingerprint that can count as that source's boilerplate — meet, in order, in one
partition, whatever the number of input partitions or workers. `clean` runs the pipeline there.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Sequence

import faust
import orjson

from .config import Settings, from_env
from .core.envelope import Origin
from .core.ninjs import InvalidInput, decode, parse_article
from .core.pipeline import Extractor, Prepared, Processed, Rejected, enrich, finish, prepare
from .core.envelope import dead_letter
from .metrics import Metrics
from .nlp import load_extractor
from .topics import ensure_topics

log = logging.getLogger("newsclean")
ORIGIN_HEADER = "newsclean-origin"


class TableStore:
    """`SeenStore` over a Faust table. Writes name their changelog partition explicitly — the
    partition of the by-source event being processed — because a batch of events may span
    partitions and Faust would otherwise take the partition of whichever event came last."""

    __slots__ = ("table", "partition")

    def __init__(self, table: faust.Table, partition: int) -> None:
        self.table = table
        self.partition = partition

    def get(self, key: str) -> bytes | None:
        return self.table.data.get(key.encode())

    def set(self, key: str, value: bytes) -> None:
        raw_key = key.encode()
        self.table.data[raw_key] = value
        self.table.send_changelog(self.partition, raw_key, value)

    def delete(self, key: str) -> None:
        raw_key = key.encode()
        if self.table.data.pop(raw_key, None) is not None:
            self.table.send_changelog(self.partition, raw_key, None, value_serializer="raw")


class Newsclean:
    """The app and its parts, built from one `Settings`."""

    def __init__(self, settings: Settings, extractor: Extractor | None = None) -> None:
        self.settings = settings
        self.extractor = extractor
        self.app = faust.App(
            settings.app_id,
            broker=",".join(f"kafka://{server}" for server in settings.bootstrap_servers),
            broker_credentials=_credentials(settings),
            store=settings.store,
            datadir=settings.data_dir,
            topic_partitions=settings.partitions,
            topic_replication_factor=1,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
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
        self.by_source = self.app.topic(f"{settings.app_id}-by-source", partitions=settings.partitions, internal=True, **raw)
        self.output = self.app.topic(settings.output_topic, **raw)
        self.dlq = self.app.topic(settings.dlq_topic, **raw)
        # Changelog-backed (Faust compacts it), so the feed state survives restarts and rebalances.
        self.seen = self.app.Table("seen", partitions=settings.partitions, schema=faust.Schema(**raw))
        self.ner_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsclean-ner")
        self.metrics = Metrics()
        self.positions: dict[Any, int] = {}  # next offset to process, per input partition (for lag)
        self.app.agent(self.input, name=f"{settings.app_id}.route")(self.route)
        self.app.agent(self.by_source, name=f"{settings.app_id}.clean")(self.clean)
        self.app.page("/health")(self.health)
        self.app.page("/ready")(self.ready)
        self.app.page("/metrics")(self.prometheus)
        self.app.timer(5.0)(self.sample_gauges)

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
        for tp, position in self.positions.items():
            highwater = self.app.consumer.highwater(tp)
            if highwater is not None:
                self.metrics.consumer_lag.labels(tp.topic, tp.partition).set(max(0, highwater - position))

    async def route(self, stream: faust.StreamT) -> None:
        settings = self.settings
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            sends = []
            self.metrics.articles_in.inc(len(events))
            for event in events:
                message = event.message
                self.positions[message.tp] = message.offset + 1
                origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
                raw = message.value or b""
                try:
                    article = parse_article(decode(raw, settings.pipeline.limits), _timestamp(message), settings.pipeline.limits)
                except InvalidInput as exc:
                    self.metrics.dead_lettered.labels(exc.reason).inc()
                    sends.append(await self._dead_letter(raw, exc.reason, exc.detail, origin, message.key))
                    continue
                sends.append(
                    await self.by_source.send(
                        key=article.source.encode(),
                        value=raw,
                        timestamp=article.event_time.timestamp(),
                        headers=[(ORIGIN_HEADER, orjson.dumps(origin))],
                    )
                )
            # Offsets are committed only after the batch is acknowledged, and the batch only after
            # Kafka has every record: nothing is acknowledged that could still be lost.
            await asyncio.gather(*sends)

    async def clean(self, stream: faust.StreamT) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            outcomes: list[Prepared | Rejected] = []
            for event in events:
                message = event.message
                self.positions[message.tp] = message.offset + 1
                origin = _origin_of(message)
                store = TableStore(self.seen, message.partition)
                outcomes.append(
                    prepare(message.value or b"", origin, store, settings.pipeline, _timestamp(message), message.key)
                )
            accepted = [o for o in outcomes if isinstance(o, Prepared)]
            with self.metrics.ner_seconds.time():
                entities = await loop.run_in_executor(self.ner_pool, enrich, self.extractor, accepted)
            sends = []
            found = iter(entities)
            for outcome in outcomes:
                if isinstance(outcome, Rejected):
                    self.metrics.count(outcome)
                    sends.append(await self._send_rejected(outcome))
                    continue
                processed: Processed = finish(outcome, next(found))
                self.metrics.count(processed)
                sends.append(
                    await self.output.send(
                        key=processed.key,
                        value=orjson.dumps(processed.envelope),
                        timestamp=processed.timestamp_ms / 1000,
                    )
                )
            await asyncio.gather(*sends)

    async def _dead_letter(self, raw: bytes, reason: str, detail: str, origin: Origin, key: bytes | None) -> Any:
        record = dead_letter(raw, reason, detail, origin, datetime.now(timezone.utc), key)
        log.warning("dead-lettered %s:%s@%s: %s: %s", origin.get("topic"), origin.get("partition"), origin.get("offset"), reason, detail)
        return await self.dlq.send(key=key, value=orjson.dumps(record))

    async def _send_rejected(self, rejected: Rejected) -> Any:
        origin = rejected.record["input"]
        log.warning("dead-lettered %s:%s@%s: %s", origin.get("topic"), origin.get("partition"), origin.get("offset"), rejected.reason)
        return await self.dlq.send(value=orjson.dumps(rejected.record))


def _timestamp(message: Any) -> datetime | None:
    return datetime.fromtimestamp(message.timestamp, timezone.utc) if message.timestamp else None


def _origin_of(message: Any) -> Origin:
    for name, value in message.headers or ():
        if name == ORIGIN_HEADER:
            return Origin(**orjson.loads(value))
    return Origin(topic=message.topic, partition=message.partition, offset=message.offset)


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
    settings = from_env()
    asyncio.run(ensure_topics(settings))
    newsclean = build(settings)
    worker = faust.Worker(newsclean.app, loglevel="INFO")
    worker.execute_from_commandline()  # returns when the worker stops (SIGTERM, SIGINT)
    return worker.exitcode or 0


def __getattr__(name: str) -> Any:
    # `faust -A streams.app worker` looks up `app`; built on first access so importing this
    # module (tests, tools) never reads the environment or loads a model.
    if name == "app":
        return build().app
    raise AttributeError(name)
