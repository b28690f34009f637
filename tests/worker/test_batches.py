"""`streams.worker.batches`: an agent's batches from its inbox, and its end when Faust stops it."""

from __future__ import annotations

import asyncio

import pytest
from mode.utils.queues import ThrowableQueue

from streams.worker.batches import take_arrived
from tests.support.faust_fakes import Message


class _Channel:
    topics = ("nc-by-source",)
    pattern = None

    def __init__(self, app) -> None:
        self.queue = ThrowableQueue(flow_control=app.flow_control)


class _Stream:
    def __init__(self, app) -> None:
        self.channel = _Channel(app)


async def test_batches_yield_what_arrived_leave_the_release_to_the_agent_and_end_when_faust_stops_the_agent(newsclean):
    consumer, stream = newsclean.app.consumer, _Stream(newsclean.app)
    batches = take_arrived(consumer, stream, 2)
    taking = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    assert not taking.done()  # nothing arrived yet
    inbox = consumer._inbox_for("nc-by-source")
    messages = [Message(b"{}", offset=n) for n in range(3)]
    for message in messages:
        consumer._unacked_messages.add(message)
        inbox.put(message)
    inbox.notify()
    assert await asyncio.wait_for(taking, 5) == messages[:2]
    assert await asyncio.wait_for(anext(batches), 5) == messages[2:]  # what is left, without waiting for more
    assert not any(m.acked for m in messages)  # the agent releases a batch once it is out, not on the next take
    ending = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    stream.channel.queue._throw(StopAsyncIteration())  # Faust's `Actor.cancel`
    with pytest.raises(StopAsyncIteration):  # ends (a TimeoutError: went on after Faust stopped the agent)
        await asyncio.wait_for(ending, 5)
    assert not messages[2].acked
