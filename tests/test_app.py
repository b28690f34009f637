"""The Faust shell without a broker: Kafka client settings, commit bookkeeping, serializers,
the per-article state transaction, the time limit, internal errors, crash handling, startup
failures. The same behaviours through a real broker are in tests/integration/."""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError
from faust.types import TP

import streams.batch as batch
import streams.deadline
import streams.worker.agents as agents
from streams.dead_letters import rejection
from streams.deadline import ArticleTimeout, Deadline
from streams.worker.app import Newsclean
from streams.worker.headers import INPUT_TIME_HEADER, ORIGIN_HEADER
from streams.worker.main import run_worker
from streams.worker.state import TableStore, send_changelog
from streams.config import Settings
from streams.core.models import Entity, Mention
from streams.core.ninjs import InvalidInput
from streams.core.settings import Limits
from streams.core.tombstone import KEYLESS_DETAIL
from streams.kafka.consumer import ReleasingConsumer
from streams.kafka.delivery import Outgoing, deliver, too_large
from streams.kafka.security import client_options
from streams.kafka.transport import IdempotentProducer, faust_credentials

SECRET = "s3cr3t-never-logged"


@pytest.fixture
def newsclean() -> Newsclean:
    return Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=lambda exc: None)


# ---------------------------------------------------------------- Kafka clients


async def test_app_producer_is_idempotent_with_acks_all(newsclean):
    producer = newsclean.app.producer
    assert isinstance(producer, IdempotentProducer)
    client = producer._new_producer()
    assert client._txn_manager is not None  # what enable_idempotence=True creates
    assert client._sender._acks == -1
    assert client._max_request_size >= 2 * Limits().max_message_bytes


async def test_app_acknowledging_releases_a_message_but_never_makes_it_committable(newsclean):
    consumer = newsclean.app.consumer
    assert isinstance(consumer, ReleasingConsumer)
    message = _Message(b"{}", offset=7)
    consumer._unacked_messages.add(message)
    assert consumer.ack(message) is False
    assert message.acked and message not in consumer._unacked_messages
    assert not any(consumer._acked.values()) and consumer._n_acked == 0
    consumer._acked[message.tp].append(7)  # even if something filled Faust's list, it commits nothing
    assert consumer._new_offset(message.tp) is None


async def test_app_admit_takes_each_partition_strictly_in_offset_order(newsclean):
    consumer = newsclean.app.consumer
    tp = TP("nc-by-source", 0)
    consumer.expected[tp] = 5
    m = {n: _Message(b"{}", offset=n) for n in range(4, 10)}
    assert await consumer.admit([m[5], m[7], m[6], m[4]]) == [m[5], m[6]]  # 7 came before 6: not taken
    assert consumer.expected[tp] == 7 and consumer.skipped[tp] == 7  # a hole at 7, to be read again
    assert await consumer.admit([m[7], m[8]]) == [m[7], m[8]]
    assert tp not in consumer.skipped
    stale = _Message(b"{}", offset=9, generation_id=-1)  # fetched before a rebalance
    assert await consumer.admit([stale]) == [] and consumer.expected[tp] == 9


async def test_app_after_a_crash_nothing_is_admitted_or_committed(newsclean, monkeypatch):
    consumer = newsclean.app.consumer
    commits = []

    async def commit(offsets):
        commits.append(dict(offsets))
        return True

    monkeypatch.setattr(consumer, "_commit", commit)
    tp = TP("nc-by-source", 0)
    consumer.expected[tp] = 0
    taken = await consumer.admit([_Message(b"{}", offset=0)])
    await consumer.delivered(taken)
    assert commits == [{tp: 1}]
    consumer.halt()
    assert await consumer.admit([_Message(b"{}", offset=1)]) == []
    await consumer.delivered(taken)  # a batch that finishes after the crash commits nothing
    assert commits == [{tp: 1}]


def test_app_every_topic_and_the_table_carry_raw_bytes(newsclean):
    conf = newsclean.app.conf
    assert (conf.key_serializer, conf.value_serializer) == ("raw", "raw")
    changelog = newsclean.seen.changelog_topic
    for topic in (newsclean.input, newsclean.by_source, newsclean.output, newsclean.dlq, changelog):
        assert (topic.key_serializer, topic.value_serializer) == ("raw", "raw"), topic
    assert (newsclean.seen.key_serializer, newsclean.seen.value_serializer) == ("raw", "raw")


def test_app_table_and_router_web_views_are_off(newsclean):
    conf = newsclean.app.conf
    assert not (conf.web_tables_enabled or conf.web_router_enabled or conf.web_graph_enabled or conf.web_stats_enabled)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
async def test_app_producer_writes_with_the_configured_codec(codec):
    newsclean = Newsclean(Settings(ner_enabled=False, web_enabled=False, compression=codec), on_crash=lambda exc: None)
    assert newsclean.app.conf.producer_compression_type == (None if codec == "none" else codec)
    client = newsclean.app.producer._new_producer()  # aiokafka refuses a codec whose library is missing
    assert client._compression_type == (None if codec == "none" else codec)


# ---------------------------------------------------------------- the feed-state transaction


@dataclass
class _Topic:
    sent: list = field(default_factory=list)

    async def send(self, key, value, partition, key_serializer=None, value_serializer=None, callback=None, force=False):
        self.sent.append((partition, key, value, key_serializer, value_serializer))
        return asyncio.get_running_loop().create_future()


@dataclass
class _Table:
    data: dict = field(default_factory=dict)
    changelog_topic: _Topic = field(default_factory=_Topic)

    @property
    def sent(self):
        return self.changelog_topic.sent

    def _on_changelog_sent(self, fut):
        pass


async def test_app_table_store_holds_writes_until_commit():
    table = _Table({b"old": b"1", b"gone": b"2"})
    store = TableStore(table)
    store.set("new", b"3")
    store.delete("gone")
    store.delete("never-there")
    assert store.get("new") == b"3" and store.get("gone") is None and store.get("old") == b"1"
    assert table.data == {b"old": b"1", b"gone": b"2"} and table.sent == []  # nothing applied yet
    sent = await store.commit(partition=5)
    assert table.data == {b"old": b"1", b"new": b"3"}
    assert table.sent == [(5, b"new", b"3", "raw", "raw"), (5, b"gone", None, "raw", "raw")]  # no tombstone for a key never there
    assert len(sent) == 2 and store.pending == {}


async def test_app_table_store_batch_sends_each_key_once_with_its_last_value():
    table = _Table({b"old": b"1"})
    writes = {}
    first, second = TableStore(table), TableStore(table)
    first.set("k", b"a")
    first.set("gone-later", b"x")
    first.apply(0, writes)
    assert second.get("k") == b"a"  # the next article of the batch sees the first one's writes
    second.set("k", b"b")
    second.delete("gone-later")  # written and deleted within the batch: the tombstone still goes out
    second.delete("old")
    second.delete("never-there")
    second.apply(0, writes)
    assert table.data == {b"k": b"b"}
    assert len(await send_changelog(table, writes)) == 3
    assert table.sent == [(0, b"k", b"b", "raw", "raw"), (0, b"gone-later", None, "raw", "raw"), (0, b"old", None, "raw", "raw")]


# ---------------------------------------------------------------- time limit


def test_app_deadline_interrupts_a_busy_article():
    with pytest.raises(ArticleTimeout):
        with Deadline(0.05):
            while True:
                pass
    with Deadline(5.0):
        pass  # disarmed on exit: no alarm arrives later
    assert streams.deadline.signal.getitimer(streams.deadline.signal.ITIMER_REAL) == (0.0, 0.0)


def test_app_deadline_is_not_armed_off_the_main_thread():
    armed = []
    thread = threading.Thread(target=lambda: armed.append(Deadline(0.01).__enter__().armed))
    thread.start()
    thread.join()
    assert armed == [False]


@pytest.mark.parametrize("exc, reason, detail", [
    (InvalidInput("not_json", "bad"), "not_json", "bad"),
    (ArticleTimeout(), "too_slow", "max_article_seconds=10.0"),
    (KeyError("bodies"), "internal_error", "KeyError: 'bodies'"),
])
def test_app_rejection_names_the_reason_and_the_limit(exc, reason, detail):
    rejected = rejection(b"raw", exc, Limits(), {"topic": "t", "partition": 0, "offset": 3}, b"k")
    assert rejected.reason == reason == rejected.record["reason"]
    assert detail in rejected.record["detail"]


# ---------------------------------------------------------------- the clean agent's batch


@dataclass
class _Message:
    value: bytes
    offset: int = 0
    key: bytes | None = None
    topic: str = "nc-by-source"
    partition: int = 0
    timestamp: float | None = None
    headers: tuple = ()
    acked: bool = False
    refcount: int = 0
    generation_id: int = 0

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)

    def __hash__(self) -> int:
        return id(self)


@dataclass
class _Event:
    message: _Message


def _article(n: int, headline: str = "Headline") -> bytes:
    return orjson.dumps({"uri": f"urn:app:{n}", "version": "1", "versionCreated": "2024-01-01T00:00:00Z",
                         "headlines": [{"role": "main", "value": headline}],
                         "bodies": [{"role": "main", "value": f"Paragraph of article {n}."}],
                         "altIds": [{"role": "source", "value": "Desk"}]})


class _Extractor:
    languages = ("en",)

    def extract_many(self, items):
        if any(item[0] == "poison" for item in items):  # (headline, paragraphs, metadata)
            raise RuntimeError("the model failed on this text")
        return [[Entity("Desk", "ORG", (Mention("Desk", 0, 4, "body"),))] for _ in items]


async def _clean(newsclean, monkeypatch, values) -> list[dict]:
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def no_changelog(table, writes):
        return []  # the unit tests have no broker; the changelog path has its own tests

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(agents, "send_changelog", no_changelog)
    await newsclean._clean_batch([_Message(v, offset=n) for n, v in enumerate(values)])
    return [orjson.loads(item.value) for item in sent]


async def test_app_unexpected_error_in_one_article_is_dead_lettered_as_internal_error(newsclean, monkeypatch):
    real = batch.prepare

    def failing(raw, *args, **kwargs):
        if b"urn:app:1" in raw:
            raise ZeroDivisionError("a bug in the core")
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(batch, "prepare", failing)
    records = await _clean(newsclean, monkeypatch, [_article(0), _article(1), _article(2)])
    assert [r.get("reason") or r["article"]["uri"] for r in records] == ["urn:app:0", "internal_error", "urn:app:2"]
    assert "ZeroDivisionError: a bug in the core" in records[1]["detail"]


async def test_app_entity_failure_costs_only_its_own_article(newsclean, monkeypatch):
    newsclean.extractor = _Extractor()
    records = await _clean(newsclean, monkeypatch, [_article(0), _article(1, "poison"), _article(2)])
    assert [r.get("reason") or r["article"]["uri"] for r in records] == ["urn:app:0", "internal_error", "urn:app:2"]
    assert records[0]["entities"][0]["name"] == "Desk"


async def test_app_articles_in_other_languages_skip_the_model(newsclean, monkeypatch):
    newsclean.extractor = _Extractor()
    german = orjson.loads(_article(1, "poison"))  # the model would fail on it: it must never see it
    values = [_article(0), orjson.dumps({**german, "language": "de-CH"}), _article(2)]
    records = await _clean(newsclean, monkeypatch, values)
    assert [r["ner"] for r in records] == [
        {"ran": True, "reason": None},
        {"ran": False, "reason": "language", "language": "de-CH"},
        {"ran": True, "reason": None},
    ]
    assert [len(r["entities"]) for r in records] == [1, 0, 1]


async def test_app_failed_article_leaves_no_trace_in_the_feed_state(newsclean, monkeypatch):
    def half_way(raw, origin, store, *args, **kwargs):
        store.set("written-before-the-failure", b"x")
        raise ArticleTimeout

    monkeypatch.setattr(batch, "prepare", half_way)
    records = await _clean(newsclean, monkeypatch, [_article(0)])
    assert records[0]["reason"] == "too_slow"
    assert b"written-before-the-failure" not in newsclean.seen.data


# ---------------------------------------------------------------- delivery


@dataclass
class _Topic:
    name: str
    limit: int = 1 << 30
    records: list = field(default_factory=list)

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, key, value, timestamp=None, headers=None, partition=None):
        if len(value) > self.limit:
            raise ProducerSendError("Error while sending") from MessageSizeTooLargeError("too big")
        self.records.append(value)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_app_deliver_replaces_a_record_refused_as_too_large():
    small, dlq = _Topic("out", limit=10), _Topic("dlq")
    await deliver([Outgoing(small, None, b"fits", "envelope"),
                   Outgoing(small, None, b"far too large", "envelope",
                            instead=lambda exc: Outgoing(dlq, None, b"dead letter", "dead_letter"))])
    assert (small.records, dlq.records) == ([b"fits"], [b"dead letter"])


async def test_app_deliver_raises_other_failures():
    class Broken(_Topic):
        async def send(self, **kwargs):
            raise ProducerSendError("Error while sending") from KafkaConnectionError("down")

    with pytest.raises(ProducerSendError):
        await deliver([Outgoing(Broken("out"), None, b"x", "envelope",
                                instead=lambda exc: Outgoing(_Topic("dlq"), None, b"y", "dead_letter"))])
    assert too_large(ProducerSendError("x")) is False


# ---------------------------------------------------------------- crashes and startup


async def test_app_agent_crash_stops_the_worker_instead_of_committing(monkeypatch):
    crashes = []
    newsclean = Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=crashes.append)
    commits = []
    monkeypatch.setattr(newsclean.app.consumer, "on_task_error", lambda exc: commits.append(exc))
    agent = next(iter(newsclean.app.agents.values()))
    await newsclean.app._on_agent_error(agent, RuntimeError("boom"))
    await newsclean.app._on_agent_error(agent, RuntimeError("again"))
    assert [str(c) for c in crashes] == ["boom"] and commits == []


@pytest.mark.parametrize("env, status, message", [
    ({"NEWSCLEAN_SECURITY_PROTOCOL": "TLS"}, 2, "NEWSCLEAN_SECURITY_PROTOCOL"),
    ({"NEWSCLEAN_BROKER_URL": "kafka://127.0.0.1:1"}, 3, "cannot connect to Kafka at kafka://127.0.0.1:1"),
])
def test_app_run_worker_fails_fast_with_a_clear_error(monkeypatch, capsys, env, status, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_worker() == status
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- security settings


@pytest.mark.parametrize("protocol, mechanism", [("SASL_PLAINTEXT", "SCRAM-SHA-512"), ("SASL_PLAINTEXT", "PLAIN"),
                                                 ("SASL_SSL", "SCRAM-SHA-512")])
def test_app_sasl_settings_reach_both_clients(protocol, mechanism):
    settings = Settings(security_protocol=protocol, sasl_mechanism=mechanism, sasl_username="alice", sasl_password=SECRET)
    credentials = faust_credentials(settings)
    assert (credentials.protocol.value, credentials.mechanism.value, credentials.username) == (protocol, mechanism, "alice")
    assert (credentials.ssl_context is not None) == protocol.endswith("SSL")
    options = client_options(settings)
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_password"]) == (protocol, mechanism, SECRET)
    assert SECRET not in repr(settings) and SECRET not in repr(credentials)


def test_app_ssl_context_verifies_the_broker(tmp_path):
    settings = Settings(security_protocol="SSL")
    context = faust_credentials(settings).context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert client_options(settings)["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert faust_credentials(Settings()) is None and client_options(Settings())["security_protocol"] == "PLAINTEXT"



# ---------------------------------------------------------------- tombstones


async def _route(newsclean, monkeypatch, messages, agent: str = "route") -> list[Outgoing]:
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def admit(events):
        return list(events)

    async def delivered(messages):
        pass

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(newsclean.app.consumer, "admit", admit)
    monkeypatch.setattr(newsclean.app.consumer, "delivered", delivered)

    async def batches():
        yield [_Event(m) for m in messages]

    class _Stream:
        def take_events(self, size, within):
            return batches()

    await getattr(newsclean, agent)(_Stream())
    return sent


async def test_app_route_and_feed_send_a_tombstone_to_every_by_source_partition(newsclean, monkeypatch):
    tomb = _Message(None, offset=3, key=b"urn:app:0", topic="raw", timestamp=1_700_000_000.5)
    routed = await _route(newsclean, monkeypatch, [_Message(_article(0), offset=2, key=b"urn:app:0", topic="raw"), tomb])
    # the tombstone takes the article's way, behind it: it never overtakes the envelope it deletes
    assert [(o.topic, o.value) for o in routed] == [(newsclean.feed_topic, _article(0)), (newsclean.feed_topic, None)]
    passed = _Message(None, offset=9, key=routed[1].key, topic=newsclean.feed_topic.get_topic_name(),
                      headers=tuple(routed[1].headers))
    tombstones = await _route(newsclean, monkeypatch, [passed], agent="feed")
    assert [o.partition for o in tombstones] == list(range(newsclean.settings.partitions))
    assert all(o.topic is newsclean.by_source and o.value is None and o.key == b"urn:app:0" for o in tombstones)
    headers = dict(tombstones[0].headers)
    assert orjson.loads(headers[ORIGIN_HEADER]) == {"topic": "raw", "partition": 0, "offset": 3}
    assert headers[INPUT_TIME_HEADER] == b"1700000000.5"


async def test_app_route_dead_letters_a_tombstone_without_a_key_and_an_empty_value_is_not_a_tombstone(newsclean, monkeypatch):
    sent = await _route(newsclean, monkeypatch, [_Message(None, offset=0, topic="raw"), _Message(b"", offset=1, key=b"k", topic="raw")])
    assert [o.topic for o in sent] == [newsclean.dlq, newsclean.dlq]
    keyless, empty = (orjson.loads(o.value) for o in sent)
    assert keyless["reason"] == "empty" and "nothing to delete" in keyless["detail"]
    assert empty["detail"] != KEYLESS_DETAIL  # b"" is a broken message, judged by decode, not a tombstone


async def test_app_clean_forwards_a_tombstone_to_the_output_under_its_key(newsclean, monkeypatch):
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def no_changelog(table, writes):
        return []

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(agents, "send_changelog", no_changelog)
    headers = ((ORIGIN_HEADER, b'{"topic":"raw","partition":0,"offset":3}'), (INPUT_TIME_HEADER, b"1700000000.5"))
    await newsclean._clean_batch([_Message(_article(0), offset=0), _Message(None, offset=1, key=b"urn:app:0", headers=headers)])
    envelope, tomb = sent
    assert envelope.topic is newsclean.output and orjson.loads(envelope.value)["article"]["uri"] == "urn:app:0"
    assert tomb.topic is newsclean.output and (tomb.key, tomb.value, tomb.timestamp_ms) == (b"urn:app:0", None, 1_700_000_000_500)
    assert newsclean.metrics.tombstones._value.get() == 1
