"""How an agent takes its batches: all that has arrived, at once, straight from its inbox.

The consumer puts the agent's fetched messages into the agent's inbox (`ReleasingConsumer.inbox`,
`streams.kafka.inbox`), not through Faust's channel, stream and events. `take_arrived` yields as
soon as one message is there, with every message that arrived meanwhile (up to `max_`): one
article alone goes at once, and under load the next batch fills while the previous one is
processed, so batches still grow with the backlog. (Faust's `Stream.take_events(n, within)`
would hold an idle agent's first event for the whole window at every hop.)

A batch's messages are released (for the stop and rebalances; newsclean commits by itself,
`streams.kafka.consumer`) once the agent has processed it and asks for the next — or closes the
generator, which the agents do even when a batch fails (`contextlib.aclosing`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import faust


async def take_arrived(consumer: Any, stream: faust.StreamT, max_: int) -> AsyncIterator[list[Any]]:
    """Lists of at most `max_` messages of `stream`'s topics, in fetch order, each as soon as one
    message has arrived; never waiting for more. `consumer`: the app's `ReleasingConsumer`."""
    inbox = consumer.inbox(stream.channel)
    while True:
        batch = await inbox.take(max_)
        try:
            yield batch
        finally:
            consumer.release(batch)
