"""`streams.kafka.transport`: the producer newsclean runs on."""

from __future__ import annotations

import pytest

from streams.config import Settings
from streams.core.settings import Limits
from streams.kafka.transport import BATCH_BYTES, IdempotentProducer
from streams.worker.app import Newsclean


async def test_transport_producer_is_idempotent_with_acks_all(newsclean):
    producer = newsclean.app.producer
    assert isinstance(producer, IdempotentProducer)
    client = producer._new_producer()
    assert client._txn_manager is not None  # what enable_idempotence=True creates
    assert client._sender._acks == -1
    assert client._max_request_size >= 2 * Limits().max_message_bytes


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
async def test_transport_producer_writes_with_the_configured_codec(codec):
    newsclean = Newsclean(Settings(ner_enabled=False, web_enabled=False, compression=codec), on_crash=lambda exc: None)
    assert newsclean.app.conf.producer_compression_type == (None if codec == "none" else codec)
    client = newsclean.app.producer._new_producer()  # aiokafka refuses a codec whose library is missing
    assert client._compression_type == (None if codec == "none" else codec)


async def test_transport_producer_gathers_an_agents_batch_into_one_request_per_partition(newsclean):
    client = newsclean.app.producer._new_producer()
    assert client._message_accumulator._batch_size == BATCH_BYTES
    assert 32 * 8 * 1024 <= BATCH_BYTES < 1024 * 1024  # 32 articles of 8 KB; under the broker's default message.max.bytes
