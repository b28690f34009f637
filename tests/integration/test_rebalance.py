"""Rebalances under a backlog, through the real broker.

A second worker that joins while the first is working through thousands of waiting articles
moves partitions mid-batch; Faust drops the messages it had fetched for them. Every article must
still come out, and the group must end with every input and by-source partition committed to its
end (the single-partition feed topic too), or the next restart would clean the tail again.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from .conftest import read_records
from tests.support.synthetic import feed
from tests.support.workers import comparable, make_pipeline

BACKLOG = 3000


def source_of(raw: bytes) -> bytes:
    return orjson.loads(raw)["altIds"][0]["value"].encode()


async def _lag(bootstrap: str, group: str, topics: list[str]) -> dict[str, int]:
    """Per topic-partition: end offset minus the group's committed offset (missing = 0)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await admin.start()
    await probe.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        await probe._client.force_metadata_update()  # a group-less consumer knows no topics yet
        tps = [TopicPartition(t, p) for t in topics for p in sorted(probe.partitions_for_topic(t) or ())]
        ends = await probe.end_offsets(tps)
        return {f"{tp.topic}:{tp.partition}": ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps}
    finally:
        await probe.stop()
        await admin.close()


async def test_rebalance_a_worker_joining_a_backlog_loses_nothing_and_commits_everything(
        bootstrap_servers, new_topic, produce, tmp_path):
    items = feed(BACKLOG, seed=23)
    input_topic = await new_topic(2, "in")
    await produce(input_topic, [(source_of(i.raw), i.raw, None) for i in items])
    pipeline = make_pipeline(bootstrap_servers, tmp_path, input_topic, await new_topic(2, "out"),
                             await new_topic(1, "dlq"))
    pipeline.extra["NEWSCLEAN_PARTITIONS"] = "2"
    try:
        # One worker joins while the other is mid-backlog, and both join at once: the two ways a
        # group rebalances under load.
        await pipeline.start_worker()
        await asyncio.gather(pipeline.start_worker(), pipeline.start_worker())

        wanted = {(i.uri, i.version) for i in items}
        records = await read_records(
            pipeline.output_topic,
            lambda rs: wanted <= {(e["article"]["uri"], e["article"]["version"]) for e in map(_decode, rs)},
            240, f"all {len(wanted)} articles", bootstrap_servers=bootstrap_servers)
        first: dict[tuple[str, str], dict] = {}
        for envelope in map(_decode, records):
            key = (envelope["article"]["uri"], envelope["article"]["version"])
            assert first.setdefault(key, comparable(envelope)) == comparable(envelope), key  # repeats are exact
        assert all(w.running for w in pipeline.workers)

        topics = [input_topic, f"{pipeline.app_id}-feed", f"{pipeline.app_id}-by-source"]
        deadline = time.monotonic() + 60
        while any((lag := await _lag(bootstrap_servers, pipeline.app_id, topics)).values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # polling the group's committed offsets, bounded by the deadline
        assert not any(lag.values()), f"uncommitted records per partition: {lag}"
    finally:
        await pipeline.stop_all()


def _decode(record) -> dict:
    return orjson.loads(record.value)
