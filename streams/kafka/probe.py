"""A look at a partition's log from outside the group (`ReleasingConsumer.reread_holes`)."""

from __future__ import annotations

import logging
from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as aiokafka_driver

log = logging.getLogger("newsclean")


async def first_offset(app: Any, transport: Any, tp: Any, offset: int) -> int | None:
    """The offset of the first record at or after `offset`, read by a consumer of its own
    (no group): whether a hole is a message Faust dropped or a place with no record."""
    probe = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=aiokafka_driver.server_list(transport.url, transport.default_port),
        group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",  # before the log start: its first record
        **aiokafka_driver.credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context),
    )
    try:
        await probe.start()
        partition = aiokafka.TopicPartition(tp.topic, tp.partition)
        probe.assign([partition])
        probe.seek(partition, offset)
        found = await probe.getmany(partition, timeout_ms=5000, max_records=1)
        records = found.get(partition) or []
        if records:
            return records[0].offset
        position = await probe.position(partition)  # nothing there: retention or compaction
        return position if position > offset else None  # emptied the log up to here
    except Exception as exc:  # no answer: treat the hole as a dropped message and read again
        log.warning("could not look at offset %d of %s: %r", offset, tp, exc)
        return None
    finally:
        await probe.stop()


async def starts_of(consumer: aiokafka.AIOKafkaConsumer, tps: list[Any]) -> dict[Any, int]:
    """Where each partition's reading starts for the group: its committed offset, else its log
    start (auto_offset_reset=earliest). Run in the consumer's own thread, all partitions in one
    hop: a hop per partition queues behind a fetch of up to a second each time."""
    starts = {tp: await consumer.committed(tp) for tp in tps}
    missing = [tp for tp, offset in starts.items() if offset is None]
    if missing:
        starts.update(await consumer.beginning_offsets(missing))
    return starts
