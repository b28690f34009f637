"""Records travel through the real local broker: plain listener and SASL (SCRAM-SHA-512, PLAIN)."""

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

TS = 1_700_000_000_000


@pytest.mark.parametrize("partitions", [1, 3])
async def test_broker_roundtrip_keeps_key_value_timestamp(new_topic, produce, consume, partitions):
    topic = await new_topic(partitions=partitions)
    sent = [(f"uri-{i}", f"body {i} \u00e9\u2014\U0001f4f0".encode(), TS + i) for i in range(5)]
    delivered = await produce(topic, sent)

    records = await consume(topic, len(sent))

    assert sorted((r.key, r.value, r.timestamp) for r in records) == sorted(
        (k.encode(), v, ts) for k, v, ts in sent)
    assert {(r.partition, r.offset) for r in records} == {(d.partition, d.offset) for d in delivered}


async def test_broker_roundtrip_consume_until_stops_at_first_match(new_topic, produce, consume_until):
    topic = await new_topic()
    await produce(topic, [(b"a", b"1", TS), (b"b", b"2", TS + 1), (b"c", b"3", TS + 2)])

    records = await consume_until(topic, lambda r: r.key == b"b")

    assert [(r.key, r.offset) for r in records] == [(b"a", 0), (b"b", 1)]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_broker_roundtrip_over_sasl(sasl_broker, consume, mechanism):
    user, password = sasl_broker.scram_user if mechanism == "SCRAM-SHA-512" else sasl_broker.plain_user
    auth = dict(security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                sasl_plain_username=user, sasl_plain_password=password)
    producer = AIOKafkaProducer(bootstrap_servers=sasl_broker.bootstrap_servers, acks="all", **auth)
    await producer.start()
    try:
        await producer.send_and_wait(f"sasl-{mechanism.lower()}", b"secret news", key=b"k", timestamp_ms=TS)
    finally:
        await producer.stop()

    [record] = await consume(f"sasl-{mechanism.lower()}", 1, bootstrap_servers=sasl_broker.bootstrap_servers, **auth)

    assert (record.key, record.value, record.timestamp) == (b"k", b"secret news", TS)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_broker_roundtrip_sasl_rejects_wrong_password(sasl_broker, mechanism):
    user = (sasl_broker.scram_user if mechanism == "SCRAM-SHA-512" else sasl_broker.plain_user)[0]
    producer = AIOKafkaProducer(bootstrap_servers=sasl_broker.bootstrap_servers, security_protocol="SASL_PLAINTEXT",
                                sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password="wrong")

    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(producer.start(), timeout=30)
    await producer.stop()
