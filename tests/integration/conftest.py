"""Fixtures for tests against a real Kafka broker (`bash tests/run.sh` starts one).

- `bootstrap_servers`: env NEWSCLEAN_TEST_BROKER (default 127.0.0.1:9092); FAILS when unreachable.
- `new_topic(partitions=1) -> name`: a fresh uuid-named topic, deleted after the test.
- `new_group() -> group id`: a fresh uuid-named consumer group.
- `produce(topic, [(key, value, timestamp_ms), ...]) -> [RecordMetadata]`: acks=all, awaited.
- `consume(topic, n, timeout=30, **consumer_kwargs)`: the first n `Record`s from the start of the topic.
- `consume_until(topic, predicate, timeout=30, **consumer_kwargs)`: records up to and including the
  first one matching `predicate(record)`. consumer_kwargs go to AIOKafkaConsumer (e.g. SASL settings).
- `sasl_broker`: a second, SASL-enabled broker on free ports (started on first use, session-wide).
Waits are bounded: a wait that runs out fails the test with what was seen so far.
Every test in this folder is marked `integration`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import RecordMetadata

from streams.dev import broker

import orjson

from tests.support.chaos import free_ports
from tests.support.workers import comparable, keyed, make_pipeline

HERE = Path(__file__).parent
MAX_MESSAGE = 16 * 1024 * 1024  # the local broker's message.max.bytes

Key = bytes | str | None
Produced = tuple[Key, bytes | None, int | None]  # (key, value, timestamp_ms)


@dataclass(frozen=True, slots=True)
class Record:
    key: bytes | None
    value: bytes | None
    timestamp: int
    partition: int
    offset: int
    topic: str
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class SaslBroker:
    bootstrap_servers: str  # the SASL_PLAINTEXT listener
    plaintext_servers: str
    scram_user: tuple[str, str]  # SCRAM-SHA-512
    plain_user: tuple[str, str]  # PLAIN


@pytest.hookimpl(tryfirst=True)  # before -m selection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def bootstrap_servers() -> str:
    servers = os.environ.get("NEWSCLEAN_TEST_BROKER", "127.0.0.1:9092")
    if not await broker.probe(servers, timeout=10.0):
        pytest.fail(f"no Kafka broker answers at {servers} (env NEWSCLEAN_TEST_BROKER): run the suite with "
                    "`bash tests/run.sh`, or start one with `newsclean broker start`", pytrace=False)
    return servers


@pytest.fixture(scope="session")
async def admin(bootstrap_servers: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await client.start()
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def producer(bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True,
                              max_request_size=MAX_MESSAGE)
    await client.start()
    yield client
    await client.stop()


@pytest.fixture
async def new_topic(admin: AIOKafkaAdminClient) -> AsyncIterator[Callable]:
    created: list[str] = []

    async def make(partitions: int = 1, prefix: str = "test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        response = await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        errors = [e for e in response.topic_errors if e[1] != 0]
        assert not errors, f"creating topic {name} failed: {errors}"
        created.append(name)
        return name

    yield make
    if created:
        await admin.delete_topics(created)


@pytest.fixture
def new_group() -> Callable[[], str]:
    return lambda prefix="test": f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def produce(producer: AIOKafkaProducer) -> Callable:
    async def send(topic: str, records: Iterable[Produced]) -> list[RecordMetadata]:
        pending = [await producer.send(topic, value=value, key=key.encode() if isinstance(key, str) else key,
                                       timestamp_ms=timestamp) for key, value, timestamp in records]
        return [await delivery for delivery in pending]

    return send


async def read_records(topic: str, done: Callable[[list[Record]], bool], timeout: float, wanted: str,
                       **client: object) -> list[Record]:
    """Read `topic` from the beginning (no group, no commits) until `done(records)` or `timeout`."""
    consumer = AIOKafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
                                metadata_max_age_ms=1000, max_partition_fetch_bytes=MAX_MESSAGE, **client)
    records: list[Record] = []
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while not done(records):
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(Record(key=m.key, value=m.value, timestamp=m.timestamp, partition=m.partition,
                                          offset=m.offset, topic=m.topic, headers=tuple(m.headers)) for m in batch)
    except TimeoutError:
        seen = "\n".join(repr(r)[:300] for r in records[-5:])
        raise AssertionError(f"{topic}: {wanted} not seen within {timeout}s; "
                             f"{len(records)} record(s) read, the last ones:\n{seen}") from None
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def consume(bootstrap_servers: str) -> Callable:
    async def first(topic: str, n: int, timeout: float = 30.0, **client: object) -> list[Record]:
        client.setdefault("bootstrap_servers", bootstrap_servers)
        records = await read_records(topic, lambda rs: len(rs) >= n, timeout, f"{n} record(s)", **client)
        return records[:n]

    return first


@pytest.fixture
def consume_until(bootstrap_servers: str) -> Callable:
    async def until(topic: str, predicate: Callable[[Record], bool], timeout: float = 30.0,
                    **client: object) -> list[Record]:
        client.setdefault("bootstrap_servers", bootstrap_servers)
        records = await read_records(topic, lambda rs: any(map(predicate, rs)), timeout,
                                     "a record matching the predicate", **client)
        return records[: next(i for i, r in enumerate(records) if predicate(r)) + 1]

    return until


@pytest.fixture(scope="session")
async def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SaslBroker]:
    """A second broker with a SASL_PLAINTEXT listener; its own data dir, the shared jars."""
    home = tmp_path_factory.mktemp("kafka-sasl")
    await asyncio.to_thread(broker.fetch_jars)
    (home / "lib").symlink_to(broker.default_home() / "lib")
    port, controller_port, sasl_port = free_ports(3)
    found = SaslBroker(bootstrap_servers=f"127.0.0.1:{sasl_port}", plaintext_servers=f"127.0.0.1:{port}",
                       scram_user=("scram-alice", "scram-secret-1"), plain_user=("plain-bob", "plain-secret-2"))
    # a thread: start() runs its own event loop for the readiness probe
    await asyncio.to_thread(broker.start, port, home=home, controller_port=controller_port, sasl_port=sasl_port,
                            scram_user=found.scram_user, plain_user=found.plain_user)
    yield found
    await asyncio.to_thread(broker.stop, port, home=home)


async def read_all(topic: str, wanted: set, bootstrap_servers: str) -> dict[tuple[str, str], dict]:
    """Envelopes by (uri, version) once every wanted one has arrived; repeats must be identical."""
    records = await read_records(
        topic, lambda rs: wanted <= set(keyed(orjson.loads(r.value) for r in rs)), 90, "every article",
        bootstrap_servers=bootstrap_servers,
    )
    envelopes = [comparable(orjson.loads(r.value)) for r in records]
    first = keyed(envelopes)
    for envelope in envelopes:
        assert envelope == first[(envelope["article"]["uri"], envelope["article"]["version"])]
    return first


class OneThenTwo(NamedTuple):
    single: dict  # envelopes by (uri, version), one worker
    double: dict  # the same, two workers
    one: Any  # the pipelines (tests.support.workers)
    two: Any


async def one_worker_then_two(pipelines: Callable, input_topic: str, wanted: set, bootstrap_servers: str) -> OneThenTwo:
    """The envelopes of one worker, then of two workers of a second pipeline, on the same input.
    The second worker's arrival rebalances the group: at-least-once may repeat a batch, and
    `read_all` checks that any repeat is identical to the first copy."""
    one = await pipelines(input_topic, "one")
    await one.start_worker()
    single = await read_all(one.output_topic, wanted, bootstrap_servers)
    two = await pipelines(input_topic, "two")
    await two.start_worker()
    await two.start_worker()
    return OneThenTwo(single, await read_all(two.output_topic, wanted, bootstrap_servers), one, two)


@pytest.fixture
def pipelines(bootstrap_servers, new_topic, tmp_path):
    """Pipelines (4-partition output, 1-partition dead letters) on a given input topic, by name."""
    made = []

    async def make(input_topic: str, name: str):
        pipeline = make_pipeline(
            bootstrap_servers, tmp_path / name, input_topic, await new_topic(4, "out"), await new_topic(1, "dlq")
        )
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        for worker in pipeline.workers:
            worker.terminate()


@pytest.fixture
async def pipeline(bootstrap_servers, new_topic, tmp_path):
    """One pipeline on fresh one-partition input, output and dead-letter topics, stopped after."""
    made = make_pipeline(bootstrap_servers, tmp_path, await new_topic(1, "in"), await new_topic(1, "out"),
                         await new_topic(1, "dlq"))
    yield made
    await made.stop_all()
