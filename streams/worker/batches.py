"""How an agent takes its batches from a Faust stream: all that has arrived, at once.

Faust's `Stream.take_events(n, within)` yields when `n` events are buffered or `within` has passed:
an idle agent holds its first event for the whole window at every hop, and wakes every `within`
while nothing comes. `take_arrived` yields as soon as one event is there, with every event that
arrived meanwhile (up to `max_`): one article alone goes at once, and under load the next batch
fills while the previous one is processed, so batches still grow with the backlog.

Its events are acknowledged (released for the stop and rebalances; newsclean commits by itself,
`streams.kafka.consumer`) once the agent has processed the batch and asks for the next — or closes the
generator, which the agents do even when a batch fails (`contextlib.aclosing`): a buffer left
registered on the stream after a crash would keep taking events nobody processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust


async def take_arrived(stream: faust.StreamT, max_: int) -> AsyncIterator[list[Any]]:
    """Lists of at most `max_` events of `stream`, in stream order, each as soon as one event has
    arrived; never waiting for more."""
    events: list[Any] = []
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()

    # A stream processor runs for every event the stream's passive drainer pulls from the
    # channel, in order (Faust's own take_events is built the same way).
    async def add(value: Any) -> Any:
        while len(events) >= max_:  # full: the drainer waits until the agent takes the batch
            room.clear()
            await stream.wait(room)
            if stream.should_stop:
                return value
        event = stream.current_event
        if event is None:
            raise RuntimeError("take_arrived found no current event")
        events.append(event)
        arrived.set()
        return value

    acks = stream.enable_acks
    stream.enable_acks = False  # acknowledged here, after the agent processed them
    stream.add_processor(add)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(arrived)
            if not events:
                continue
            batch = events[:]
            events.clear()
            arrived.clear()
            room.set()
            try:
                yield batch
            finally:
                for event in batch:
                    await stream.ack(event)
    finally:
        stream.enable_acks = acks
        stream._processors.remove(add)
