"""How records leave the worker (README "Guarantees"): `deliver` sends a batch's records and waits
until Kafka has every one; a record refused as too large is replaced by what its
`Outgoing.instead` says (a dead letter). The topics are the worker's Faust topics; the replay
sends in its own transactions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

from streams.batch import Outgoing

log = logging.getLogger("newsclean")


def record_time_ms(event_ms: int) -> int:
    """The Kafka timestamp for a record of this event time: the event time, but never in the
    future. A broker refuses records stamped more than `log.message.timestamp.after.max.ms`
    ahead (1 hour by default since Kafka 4.0); an embargoed or mis-dated article would fail its
    whole batch and stop the worker at every restart."""
    return min(event_ms, int(time.time() * 1000))


async def deliver(items: Sequence[Outgoing], also: Sequence[asyncio.Future] = ()) -> None:
    """Send `items` in order, then wait until Kafka has every one of them and of `also`. A
    record refused as too large is replaced by its `instead`; any other failure raises."""
    pending = [(item, await _send(item)) for item in items]
    for item, delivery in pending:
        while True:
            try:
                await delivery
                break
            except Exception as exc:
                if item.instead is None or not too_large(exc):
                    raise
                log.warning("Kafka refused a record of %d bytes for %s as too large; sending a dead letter instead",
                            len(item.value or b""), item.topic.get_topic_name())
                item = item.instead(exc)
                delivery = await _send(item)
    await asyncio.gather(*also)


async def _send(item: Outgoing) -> asyncio.Future:
    try:
        # Straight to the app's producer (Faust's transport `Producer.send`: aiokafka's send), not
        # through `Topic.send`, whose future, pending message and callbacks per record cost more
        # than the send itself; the topics carry raw bytes, so nothing is serialised either way.
        topic = item.topic
        timestamp = None if item.timestamp_ms is None else record_time_ms(item.timestamp_ms) / 1000  # Faust takes seconds
        return await topic.app.producer.send(topic.get_topic_name(), item.key, item.value, item.partition, timestamp,
                                             item.headers)
    except Exception as exc:  # refused before sending (e.g. too large for the producer)
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(exc)
        return failed


def too_large(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, (MessageSizeTooLargeError, RecordListTooLargeError)):
            return True
        exc = exc.__cause__
    return False
