"""Compressed records through the real broker, codec by codec: the worker reads input compressed
by the topic (`compression.type`) and by the producer, and writes its output and internal topics
with NEWSCLEAN_COMPRESSION; the replay writes its output with it too."""

from __future__ import annotations

import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from streams.config import Settings
from streams.replay import ReplayRequest, replay

from tests.support.codecs import stored_codecs
from tests.support.workers import example_articles, make_pipeline

CODECS = ["gzip", "snappy", "lz4", "zstd"]


@pytest.fixture
async def topics(admin):
    """make(prefix, **configs) -> a fresh topic with those topic configs; deleted after the test."""
    created: list[str] = []

    async def make(prefix: str, **configs: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={k.replace("_", "."): v for k, v in configs.items()})])
        created.append(name)
        return name

    yield make
    if created:
        await admin.delete_topics(created)


async def _produce(bootstrap: str, topic: str, values: list[bytes], codec: str | None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type=codec, linger_ms=20)
    await producer.start()
    try:
        for delivery in [await producer.send(topic, value) for value in values]:
            await delivery
    finally:
        await producer.stop()


@pytest.mark.parametrize("codec", CODECS)
async def test_compression_worker_reads_every_codec_and_writes_the_configured_one(codec, bootstrap_servers, topics, consume,
                                                                                  tmp_path):
    by_topic = await topics("in-topic", compression_type=codec)  # the broker compresses whatever it is sent
    by_producer = await topics("in-producer")
    output, dlq = await topics("out"), await topics("dlq")
    articles = example_articles()
    half = len(articles) // 2
    await _produce(bootstrap_servers, by_topic, articles[:half], None)
    await _produce(bootstrap_servers, by_producer, articles[half:], codec)
    assert set(await stored_codecs(bootstrap_servers, by_topic)) == {codec}
    assert set(await stored_codecs(bootstrap_servers, by_producer)) == {codec}

    pipeline = make_pipeline(bootstrap_servers, tmp_path, f"{by_topic},{by_producer}", output, dlq)
    try:
        await pipeline.start_worker(NEWSCLEAN_COMPRESSION=codec, NEWSCLEAN_PARTITIONS="1")
        envelopes = [orjson.loads(r.value) for r in await consume(output, len(articles), timeout=60)]
    finally:
        await pipeline.stop_all()
    assert sorted(e["article"]["uri"] for e in envelopes) == sorted(orjson.loads(a)["uri"] for a in articles)
    assert {e["pipeline"]["input"]["topic"] for e in envelopes} == {by_topic, by_producer}
    for written in (output, f"{pipeline.app_id}-by-source", f"{pipeline.app_id}-seen-changelog"):
        assert set(await stored_codecs(bootstrap_servers, written)) == {codec}, written


async def test_compression_replay_reads_compressed_input_and_writes_the_configured_codec(bootstrap_servers, topics, admin):
    source = await topics("rp-in", compression_type="lz4", retention_ms="-1")
    articles = example_articles()
    await _produce(bootstrap_servers, source, articles, "snappy")  # the broker recompresses: lz4 on disk
    assert set(await stored_codecs(bootstrap_servers, source)) == {"lz4"}
    prefix = f"rp-{uuid.uuid4().hex[:10]}"
    output, dlq = await topics(f"{prefix}-out"), await topics(f"{prefix}-dlq")
    settings = Settings(broker_url=f"kafka://{bootstrap_servers}", input_topics=(source,), output_topic=f"{prefix}-live",
                        dlq_topic=f"{prefix}-live-dlq", app_id=f"{prefix}-app", ner_enabled=False, partitions=1,
                        compression="zstd")
    try:
        summary = await replay(ReplayRequest(topics=(source,), name="codec", output_topic=output, dlq_topic=dlq,
                                             progress="json"), settings)
        assert (summary.totals.read, summary.totals.written) == (len(articles), len(articles))
        codecs = await stored_codecs(bootstrap_servers, output)
        assert codecs and set(codecs) == {"zstd"}
    finally:
        await admin.delete_topics([f"{settings.app_id}-replay-codec-state"])  # the replay's own state topic
