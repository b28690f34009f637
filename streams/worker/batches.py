"""How an agent takes its batches: all that has arrived, at once, straight from its inbox.

The consumer puts the agent's fetched messages into the agent's inbox (`ReleasingConsumer.inbox`,
`streams.kafka.inbox`), not through Faust's channel, stream and events. `take_arrived` yields as
soon as one message is there, with every message that arrived meanwhile (up to `max_`): one
article alone goes at once, and under load the next batch fills while the previous one is
processed, so batches still grow with the backlog. (Faust's `Stream.take_events(n, within)`
would hold an idle agent's first event for the whole window at every hop.)

The agent releases a batch's messages (for the stop and rebalances, which wait for that;
newsclean commits by itself, `streams.kafka.consumer`) once it has delivered them, or failed:
`consumer.release`, in a `finally`. Not on asking for the next batch, so the enrich agent can take
the next one while the one before is still going out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust


async def take_arrived(consumer: Any, stream: faust.StreamT, max_: int) -> AsyncIterator[list[Any]]:
    """Lists of at most `max_` messages of `stream`'s topics, in fetch order, each as soon as one
    message has arrived; never waiting for more. `consumer`: the app's `ReleasingConsumer`. Ends
    when Faust stops the agent: it throws into the stream's channel (`Actor.cancel`), which
    nothing else feeds now, so a read of the channel ends only then."""
    inbox = consumer.inbox(stream.channel)
    stopped = asyncio.ensure_future(stream.channel.queue.get())
    try:
        while not stopped.done():
            if not inbox.messages:
                arrived = asyncio.ensure_future(inbox.arrived.wait())
                await asyncio.wait((arrived, stopped), return_when=asyncio.FIRST_COMPLETED)
                arrived.cancel()
                continue
            yield inbox.take(max_)
    finally:
        if stopped.done() and not stopped.cancelled():
            stopped.exception()  # the StopAsyncIteration Faust threw: retrieved
        stopped.cancel()
