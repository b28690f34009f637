"""Replays through the real broker: time ranges, SIGKILL and resume, isolation from the live
worker, parity with live output, warm start.

The feed is made up here: invented outlets, word-salad paragraphs, and one boilerplate line per
outlet that every article carries, so the cross-article dedup has something to find."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.config import Settings, from_env
from streams.replay import ReplayRequest, replay

from tests.support.workers import comparable, example_articles, make_pipeline

ROOT = Path(__file__).resolve().parents[2]
DAY0 = datetime(2019, 2, 1, 6, 0, tzinfo=timezone.utc)
OUTLETS = {
    "Tidewater Courier": "Get the Tidewater Courier morning digest in your inbox every weekday.",
    "Upland Herald": "Upland Herald reporters contributed to this story. Send tips to the newsdesk.",
    "Marsh Bulletin": "Follow the Marsh Bulletin for live updates throughout the day.",
}
_WORDS = ("canal lantern orchard ferry meadow quarry harbour granary signal timber ridge basin thistle "
          "copper willow furnace pasture beacon cobble estuary kiln turbine saddle almanac vineyard "
          "plateau cistern gable marina hamlet").split()


def synthetic_feed(n: int, seed: int = 3, step: timedelta = timedelta(hours=12), start: datetime = DAY0) -> list[tuple[str, bytes, int]]:
    """(source, ninjs bytes, event time ms): articles `step` apart from `start`, the outlets in
    turn; each carries three made-up paragraphs and its outlet's boilerplate line last."""
    rng = random.Random(seed)
    outlets = list(OUTLETS)
    feed = []
    for i in range(n):
        source = outlets[i % len(outlets)]
        when = start + i * step
        paragraphs = [" ".join(rng.choice(_WORDS) for _ in range(18)).capitalize() + f" (item {i}.{k})." for k in range(3)]
        doc = {
            "uri": f"urn:newsclean:test:{seed}:{i}", "version": "1",
            "versionCreated": when.isoformat().replace("+00:00", "Z"), "language": "en", "type": "text",
            "headlines": [{"role": "main", "value": f"{source} item {i}"}],
            "altIds": [{"role": "source", "value": source}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": "\n\n".join([*paragraphs, OUTLETS[source]])}],
        }
        feed.append((source, orjson.dumps(doc), int(when.timestamp() * 1000)))
    return feed


def uri_of(raw: bytes) -> str:
    return orjson.loads(raw)["uri"]


async def read_all(bootstrap: str, topic: str, isolation: str = "read_committed", timeout: float = 30.0) -> list:
    """Every record of `topic` up to its end (last stable offset for read_committed), all partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(await _partitions(bootstrap, topic))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records = []
        async with asyncio.timeout(timeout):
            while any([await consumer.position(tp) < ends[tp] for tp in tps]):
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return records
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> set[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        assert not described["error_code"], f"{topic}: {described}"
        return {p["partition"] for p in described["partitions"]}
    finally:
        await admin.close()


@pytest.fixture
async def scratch(admin):
    """Topic names for one test; every topic whose name starts with its prefix is deleted after."""
    prefix = f"rp-{uuid.uuid4().hex[:10]}"
    yield prefix
    doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
    if doomed:
        await admin.delete_topics(doomed)


async def make_input(admin, bootstrap: str, name: str, partitions: int, feed) -> str:
    # Kafka deletes by record timestamp: without retention.ms=-1, 2019 records would go at the next check.
    await admin.create_topics([NewTopic(name, partitions, 1, topic_configs={"retention.ms": "-1"})])
    await produce_once(bootstrap, name, [(source.encode(), raw, ms) for source, raw, ms in feed])
    return name


async def produce_once(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, int | None]]) -> None:
    """With a producer of its own, stopped after: a long-lived one refreshes metadata for the topic
    after the test deleted it, and the broker (auto.create.topics.enable) would create it again."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, raw, key=key, timestamp_ms=ms) for key, raw, ms in records])
    finally:
        await producer.stop()


def settings_for(bootstrap: str, prefix: str, topic: str, **extra) -> Settings:
    return Settings(broker_url=f"kafka://{bootstrap}", input_topics=(topic,), output_topic=f"{prefix}-out",
                    dlq_topic=f"{prefix}-dlq", app_id=f"{prefix}-app", ner_enabled=False, partitions=2, **extra)


def envelopes(records) -> list[dict]:
    return [orjson.loads(r.value) for r in records]


# ------------------------------------------------------------------ time range


async def test_replay_time_range_yields_exactly_the_articles_in_range(bootstrap_servers, admin, scratch):
    feed = synthetic_feed(30)  # 15 days, 12 h apart, the outlets spread over 2 partitions by key
    topic = await make_input(admin, bootstrap_servers, f"{scratch}-in", 2, feed)
    start, end = DAY0 + timedelta(days=4), DAY0 + timedelta(days=9, hours=1)
    settings = settings_for(bootstrap_servers, scratch, topic)

    summary = await replay(ReplayRequest(start=start, end=end, name="range", progress="none"), settings)

    wanted = {uri_of(raw): ms for _, raw, ms in feed if start.timestamp() * 1000 <= ms < end.timestamp() * 1000}
    out = await read_all(bootstrap_servers, summary.names.output_topic)
    assert sorted(r.key.decode() for r in out) == sorted(wanted)  # each once, nothing outside the range
    assert all(r.timestamp == wanted[r.key.decode()] for r in out)  # stamped with the event time, as live
    assert {e["article"]["uri"] for e in envelopes(out)} == set(wanted)
    assert summary.status == "complete" and summary.totals.read == summary.totals.written == len(wanted)
    assert sum(s.size for s in summary.spans) == len(wanted)


# ------------------------------------------------------------------ SIGKILL and resume


def _replay_process(env: dict, args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as err:
        return subprocess.Popen([sys.executable, "-m", "streams.cli", "replay", *args], env={**os.environ, **env},
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd=ROOT)


async def test_replay_killed_and_resumed_gives_each_article_once(bootstrap_servers, admin, scratch, tmp_path):
    feed = synthetic_feed(60)
    # a second version of some articles: (uri, version) pairs, not uris, must each come out once
    for _, raw, ms in feed[:5]:
        doc = orjson.loads(raw)
        feed.append((doc["altIds"][0]["value"], orjson.dumps({**doc, "version": "2"}), ms + 1))
    topic = await make_input(admin, bootstrap_servers, f"{scratch}-in", 2, feed)
    env = {"NEWSCLEAN_BROKER_URL": f"kafka://{bootstrap_servers}", "NEWSCLEAN_INPUT_TOPICS": topic,
           "NEWSCLEAN_OUTPUT_TOPIC": f"{scratch}-out", "NEWSCLEAN_DLQ_TOPIC": f"{scratch}-dlq",
           "NEWSCLEAN_APP_ID": f"{scratch}-app", "NEWSCLEAN_NER_ENABLED": "false", "NEWSCLEAN_PARTITIONS": "2"}
    args = ["--name", "kill", "--progress", "json", "--progress-every", "0.5"]
    group = f"{scratch}-app-replay-kill"
    log = tmp_path / "replay.log"

    slow = _replay_process(env, [*args, "--rate", "25", "--batch-size", "4", "--commit-interval", "0.1"], log)
    try:
        async with asyncio.timeout(45):  # until a batch past the plan commit is visible
            while not any(o.offset > 0 for o in (await admin.list_consumer_group_offsets(group)).values()):
                assert slow.poll() is None, f"replay exited early:\n{log.read_text()}"
                await asyncio.sleep(0.1)  # polling the committed offsets, bounded above
    finally:
        os.killpg(slow.pid, signal.SIGKILL)
        slow.wait()
    killed_at = sum(o.offset for o in (await admin.list_consumer_group_offsets(group)).values())
    assert 0 < killed_at < len(feed)

    resumed = _replay_process(env, args, log)
    stdout, _ = await asyncio.to_thread(resumed.communicate, timeout=60)
    assert resumed.returncode == 0, log.read_text()
    summary = orjson.loads(stdout.splitlines()[-1])
    assert summary["status"] == "complete" and summary["resumed"] is True
    assert summary["read"] == summary["written"] == len(feed)
    assert summary["this_run"]["read"] == len(feed) - killed_at

    out = envelopes(await read_all(bootstrap_servers, summary["output_topic"]))
    pairs = Counter((e["article"]["uri"], e["article"]["version"]) for e in out)
    assert len(pairs) == len(feed) and set(pairs.values()) == {1}
    offsets = await admin.list_consumer_group_offsets(group)
    assert sum(o.offset for o in offsets.values()) == len(feed)

    # the feed state came back too: the same envelopes as a run never interrupted
    whole = await replay(ReplayRequest(name="whole", output_topic=f"{scratch}-whole", progress="none"),
                         from_env(env))
    uninterrupted = envelopes(await read_all(bootstrap_servers, whole.names.output_topic))
    assert sorted(map(comparable, out), key=_pair) == sorted(map(comparable, uninterrupted), key=_pair)
    assert sum(e["counts"]["boilerplate"] for e in out) > 0


def _pair(envelope: dict) -> tuple[str, str]:
    return envelope["article"]["uri"], envelope["article"]["version"]


# ------------------------------------------------------------------ the live worker


@pytest.fixture
async def live(bootstrap_servers, new_topic, tmp_path, consume, admin):
    """A live worker that has processed the example articles and a synthetic feed on a
    single-partition topic, with its group offsets settled. All event times lie within 7 days of
    each other: these topics keep the broker's 7-day retention, which goes by record timestamps."""
    made = make_pipeline(bootstrap_servers, tmp_path, await new_topic(1, "in"), await new_topic(1, "out"),
                         await new_topic(1, "dlq"))
    near_examples = datetime(2026, 4, 10, 9, tzinfo=timezone.utc)
    raws = [raw for _, raw, _ in synthetic_feed(12, seed=5, step=timedelta(hours=6), start=near_examples)]
    raws += example_articles()[:7] + [b"{not json"]
    await made.start_worker()
    await produce_once(bootstrap_servers, made.input_topic, [(None, raw, None) for raw in raws])
    live_out = await consume(made.output_topic, len(raws) - 1, timeout=60)
    await _settled(bootstrap_servers, admin, made.app_id, made.input_topic, len(raws))
    yield made, raws, live_out
    await made.stop_all()
    mine = (made.app_id, f"{made.output_topic}-backfill", f"{made.dlq_topic}-backfill")
    doomed = [t for t in await admin.list_topics() if t.startswith(mine)]
    if doomed:
        await admin.delete_topics(doomed)


async def _settled(bootstrap: str, admin, group: str, topic: str, end: int, timeout: float = 30.0) -> None:
    """Until the worker has committed the whole input and all it passed on through feed and by-source."""
    async with asyncio.timeout(timeout):
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            ends = await _end_offsets(bootstrap, [f"{group}-feed", f"{group}-by-source"])
            wanted = {TopicPartition(topic, 0): end, **{tp: o for tp, o in ends.items() if o}}
            if all(tp in committed and committed[tp].offset >= o for tp, o in wanted.items()):
                return
            await asyncio.sleep(0.2)  # polling the worker's commits, bounded above


async def _end_offsets(bootstrap: str, topics: list[str]) -> dict:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in await _partitions(bootstrap, t)]
        return await consumer.end_offsets(tps)
    finally:
        await consumer.stop()


async def test_replay_leaves_the_live_group_and_topics_alone(live, bootstrap_servers, admin):
    made, raws, _ = live
    live_topics = [t for t in await admin.list_topics() if t.startswith(made.app_id)]
    live_topics += [made.output_topic, made.dlq_topic]
    before = await admin.list_consumer_group_offsets(made.app_id)
    ends_before = await _end_offsets(bootstrap_servers, live_topics)

    settings = from_env(made.env())
    summary = await replay(ReplayRequest(name="iso", progress="none"), settings)

    assert summary.totals.read == len(raws)
    assert await admin.list_consumer_group_offsets(made.app_id) == before
    assert await _end_offsets(bootstrap_servers, live_topics) == ends_before  # no write to any live topic
    assert summary.names.group != made.app_id and summary.names.output_topic not in live_topics


async def test_replay_output_equals_live_output(live, bootstrap_servers):
    made, raws, live_out = live
    summary = await replay(ReplayRequest(name="parity", progress="none"), from_env(made.env()))

    replayed = await read_all(bootstrap_servers, summary.names.output_topic)
    assert len(replayed) == len(live_out) == len(raws) - 1
    live_by_uri = {e["article"]["uri"]: comparable(e) for e in envelopes(live_out)}
    replay_by_uri = {e["article"]["uri"]: comparable(e) for e in envelopes(replayed)}
    assert replay_by_uri == live_by_uri
    assert sum(e["counts"]["boilerplate"] for e in live_by_uri.values()) > 0  # the comparison covers removals
    assert {(r.key, r.timestamp) for r in replayed} == {(r.key, r.timestamp) for r in live_out}
    dead = envelopes(await read_all(bootstrap_servers, summary.names.dlq_topic))
    assert [(d["reason"], d["input"]["offset"]) for d in dead] == [("not_json", len(raws) - 1)]


# ------------------------------------------------------------------ warm start


async def test_replay_warm_start_removes_boilerplate_the_cold_replay_misses(bootstrap_servers, admin, scratch):
    feed = synthetic_feed(24)
    topic = await make_input(admin, bootstrap_servers, f"{scratch}-in", 1, feed)
    start, end = DAY0 + timedelta(days=6), DAY0 + timedelta(days=12)
    settings = settings_for(bootstrap_servers, scratch, topic)

    cold = await replay(ReplayRequest(start=start, end=end, name="cold", output_topic=f"{scratch}-cold",
                                      progress="none"), settings)
    warm = await replay(ReplayRequest(start=start, end=end, warm_from=DAY0, name="warm", output_topic=f"{scratch}-warm",
                                      progress="none"), settings)
    # what live processing from DAY0 would have said about the same range
    since = await replay(ReplayRequest(start=DAY0, end=end, name="since", output_topic=f"{scratch}-since",
                                       progress="none"), settings)

    cold_env = {e["article"]["uri"]: e for e in envelopes(await read_all(bootstrap_servers, f"{scratch}-cold"))}
    warm_env = {e["article"]["uri"]: e for e in envelopes(await read_all(bootstrap_servers, f"{scratch}-warm"))}
    since_env = {e["article"]["uri"]: e for e in envelopes(await read_all(bootstrap_servers, f"{scratch}-since"))}
    assert cold_env.keys() == warm_env.keys()
    lines = set(OUTLETS.values())

    def kept_boilerplate(env: dict) -> int:
        return sum(p in lines for p in env["article"]["bodies"][0]["value"].split("\n\n"))

    # cold: each outlet's first article in the range still carries its line; warm: none does
    assert sum(kept_boilerplate(e) for e in cold_env.values()) == len(OUTLETS)
    assert sum(kept_boilerplate(e) for e in warm_env.values()) == 0
    assert warm.warm is not None and warm.warm["primed"] == 12
    assert warm.warm["removed_extra"] == {"boilerplate": len(OUTLETS)} and warm.warm["kept_extra"] == {}
    assert warm.warm["articles_changed"] == len(OUTLETS)
    assert warm.totals.removed["boilerplate"] == cold.totals.removed["boilerplate"] + len(OUTLETS)
    # priming with the window gives exactly what an uninterrupted run from the window's start gives
    assert {u: comparable(e) for u, e in warm_env.items()} == {u: comparable(since_env[u]) for u in warm_env}
    assert since.status == "complete"
