"""The Faust shell: app, topics, the feed-state table, agents. It only moves bytes through
`streams.core.pipeline`; every decision is made in the core.

Topology (see README "How it works"):

    input topics ──route──▶ <app_id>-feed (1 partition) ──feed──▶ <app_id>-by-source (key: source)
         │                        │ feed table (links, lines)           │ ──clean──▶ output topic (key: uri)   NER off
         │                                                              │ seen table (per source)
         │                                                              │ ──clean──▶ <app_id>-enrich (key: uri) NER on
         │                                                              │                 │ ──enrich──▶ output topic
         └──────────────▶ dead-letter topic ◀───────────────────────────┴─────────────────┘

`route` validates each article; `feed` sees every article of the feed, in one order, links it to
an earlier near copy and finds its feed-wide lines (`streams.core.feedwide`), and re-keys it by
source with those findings in a header; so all of one source's articles — and so every
fingerprint that can count as that source's boilerplate — meet, in order, in one partition,
whatever the number of input partitions or workers. `clean` runs the pipeline there. With NER
on, `clean` only decides: each record bound for the output (an article's draft — its envelope
without entities —, a passed envelope, a tombstone) goes in order to the uri-keyed enrich topic,
whose partitions Faust spreads over every worker; `enrich` runs the model and writes the output.

Delivery (README "Guarantees"; `streams.kafka.consumer`): at least once, with idempotent keyed
output. Each agent takes a batch — each partition's messages strictly in offset order, see
`ReleasingConsumer.admit` —, sends everything the batch produces — envelopes, dead letters,
re-keyed articles, the table's changelog records —, waits until Kafka has all of it, and only
then commits the batch's input offsets. A batch that fails is never recorded and the worker stops (`_agent_crashed`), so
after a crash or restart the uncommitted tail is processed again and yields the same records.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust

from streams.config import Settings
from streams.core.pipeline import Extractor
from streams.kafka.topics import enrich_record_bytes, enrich_topic, topic_record_bytes
from streams.kafka.transport import KafkaApp, faust_credentials
from streams.worker.agents import ENRICH_BATCHES_UNDER_WAY, Agents
from streams.worker.metrics import Metrics
from streams.worker.state import TableState

log = logging.getLogger("newsclean")
EX_SOFTWARE = 70  # exit status after an agent crashed (sysexits.h: internal software error)
CRASH_STOP_GRACE_S = 30.0  # the stop after an agent crash takes ~1 s; past this it is stuck: hard exit


class Newsclean(Agents):
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
        # largest record produced or fetched (the enrich topic's frames are the largest)
        record_bytes = topic_record_bytes(settings) if extractor is None else enrich_record_bytes(settings)
        self.app = KafkaApp(
            settings.app_id,
            env={},  # Faust would otherwise let unprefixed variables such as BROKER_URL override these
            broker=",".join(f"kafka://{server}" for server in settings.bootstrap_servers),
            broker_credentials=faust_credentials(settings),
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
        # NER on: the model runs in the enrich stage, keyed by uri, so every worker takes a share
        self.enrich_topic = None if extractor is None else self.app.topic(
            enrich_topic(settings), partitions=settings.partitions, internal=True, **raw)
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
        # the tables hold the state's log; the state itself is rebuilt in memory (streams.worker.state)
        self.seen_log, self.feed_log = (TableState(self.seen, settings.pipeline, settings.state_index),
                                        TableState(self.feed_state, settings.pipeline, settings.state_index))
        # a thread per enrich batch under way: each waits there for its turns in the model's pool
        self.ner_pool = ThreadPoolExecutor(max_workers=ENRICH_BATCHES_UNDER_WAY, thread_name_prefix="newsclean-ner")
        self.metrics = Metrics()
        self.positions: dict[Any, int] = {}  # next offset to process, per input partition (for lag)
        self.app.on_agent_crash = self._agent_crashed
        self.app.agent(self.input, name=f"{settings.app_id}.route")(self.route)
        self.app.agent(self.feed_topic, name=f"{settings.app_id}.feed")(self.feed)
        self.app.agent(self.by_source, name=f"{settings.app_id}.clean")(self.clean)
        if self.enrich_topic is not None:
            self.app.agent(self.enrich_topic, name=f"{settings.app_id}.enrich")(self.enrich)
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
        self.metrics.table_keys.set(self.seen_log.keys)
        self.metrics.feed_keys.set(self.feed_log.keys)
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
        internal = [self.by_source, self.feed_topic, *([self.enrich_topic] if self.enrich_topic is not None else [])]
        if topic in (t.get_topic_name() for t in internal):
            return True
        pattern = self.settings.input_pattern
        return bool(re.match(pattern, topic)) if pattern else topic in self.settings.input_topics

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


def _stop_this_process(exc: BaseException, grace_s: float = CRASH_STOP_GRACE_S) -> None:
    """The worker's own SIGTERM path (nothing more is committed after the crash), bounded: a
    stop that has not ended the process within `grace_s` — whatever it waits on — dumps every
    thread's stack and exits with EX_SOFTWARE. A thread, not the event loop: the loop may be
    what is stuck. The NER processes notice their parent is gone and exit (`streams.nlp.pool`)."""
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
