"""Kafka tombstones (null values) through the real broker: forwarded to the output under their
key, after the envelope of the article they delete, by the worker and by the replay; a tombstone
without a key is dead-lettered as `empty`."""

from __future__ import annotations

import uuid

import orjson
from aiokafka import AIOKafkaProducer

from streams.config import Settings
from streams.replay import ReplayRequest, replay

from tests.support.workers import example_articles


def _feed() -> tuple[list[tuple[bytes | None, bytes | None, None]], bytes, bytes]:
    first, second = example_articles()[:2]
    deleted, kept = orjson.loads(first)["uri"].encode(), orjson.loads(second)["uri"].encode()
    # keyed by uri, as a compacted input topic is: the article, then its deletion
    return [(deleted, first, None), (deleted, None, None), (None, None, None), (kept, second, None)], deleted, kept


async def _produce(bootstrap: str, topic: str, feed) -> None:
    """In one batch, in order. `AIOKafkaProducer.send` refuses a record with neither key nor value;
    the Kafka protocol does not, and other clients (librdkafka, Java) send them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        batch = producer.create_batch()
        for key, value, _ in feed:
            assert batch.append(key=key, value=value, timestamp=None) is not None
        await (await producer.send_batch(batch, topic, partition=0))
    finally:
        await producer.stop()


def _last_per_key(records) -> dict[bytes, bytes | None]:
    last: dict[bytes, bytes | None] = {}
    for record in records:
        last[record.key] = record.value
    return last


async def test_tombstones_worker_forwards_a_tombstone_after_the_article_it_deletes(pipeline, bootstrap_servers, consume):
    feed, deleted, kept = _feed()
    partitions = 4  # the by-source topic's: each of its partitions forwards the tombstone once
    await pipeline.start_worker(NEWSCLEAN_PARTITIONS=str(partitions))
    await _produce(bootstrap_servers, pipeline.input_topic, feed)

    records = await consume(pipeline.output_topic, 2 + partitions, timeout=60)
    envelopes = {r.key: orjson.loads(r.value) for r in records if r.value is not None}
    assert set(envelopes) == {deleted, kept}
    tombstones = [r for r in records if r.value is None]
    assert len(tombstones) == partitions and {r.key for r in tombstones} == {deleted}
    # one output partition: the last record under the deleted uri is a tombstone, so compaction drops it
    last = _last_per_key(records)
    assert last[deleted] is None and last[kept] is not None
    assert all(t.timestamp > 0 for t in tombstones)

    [dead] = [orjson.loads(r.value) for r in await consume(pipeline.dlq_topic, 1)]
    assert dead["reason"] == "empty" and dead["input"]["offset"] == 2 and dead["original_key"] is None


async def test_tombstones_replay_forwards_a_tombstone_in_input_order(bootstrap_servers, new_topic, consume, admin):
    feed, deleted, kept = _feed()
    source = await new_topic(1, "rp-in")
    await _produce(bootstrap_servers, source, feed)
    prefix = f"rp-{uuid.uuid4().hex[:10]}"
    output, dlq = await new_topic(1, f"{prefix}-out"), await new_topic(1, f"{prefix}-dlq")
    settings = Settings(broker_url=f"kafka://{bootstrap_servers}", input_topics=(source,), output_topic=f"{prefix}-live",
                        dlq_topic=f"{prefix}-live-dlq", app_id=f"{prefix}-app", ner_enabled=False, partitions=1)
    try:
        summary = await replay(ReplayRequest(topics=(source,), name="tomb", output_topic=output, dlq_topic=dlq,
                                             progress="json"), settings)
    finally:
        await admin.delete_topics([f"{settings.app_id}-replay-tomb-state"])
    assert (summary.totals.read, summary.totals.written, summary.totals.dead_lettered) == (4, 3, 1)
    assert summary.totals.tombstones == 1 and summary.to_json()["tombstones"] == 1
    records = await consume(output, 3, isolation_level="read_committed")
    assert [(r.key, r.value is None) for r in records] == [(deleted, False), (deleted, True), (kept, False)]
    [dead] = [orjson.loads(r.value) for r in await consume(dlq, 1, isolation_level="read_committed")]
    assert dead["reason"] == "empty" and dead["input"]["offset"] == 2
