"""Where the fetcher leaves an agent's messages (`ReleasingConsumer.inbox`), and how the agent
takes them: every message waiting, up to a batch, at once.

Faust hands each fetched message to its streams one at a time: four tasks per message to wait on
the callback (`Service.wait_first`), the conductor's lock and flow-control checks, an `Event`, a
channel queue, the stream's iterator and its processors. The agents never used any of it — they
take batches of messages, admit them in offset order and commit by themselves — so their topics'
messages go into an inbox instead: appended as fetched, taken a batch at a time. Everything else
the consumer reads (the tables' changelogs during recovery) still goes Faust's way.

The inbox keeps what Faust's path keeps: each message is tracked until it is released (the stop
and rebalances wait for that, `Consumer.wait_empty`), at most `limit` messages wait (Faust's
`stream_buffer_maxsize`, the channel queue's bound: a full inbox holds the fetcher back), and
the app's flow control empties it as it does the channels (a rebalance drops what was not
taken; the seek after it reads it again)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class Inbox:
    """The fetched messages of one agent's topics, in fetch order, until the agent takes them."""

    def __init__(self, release: Callable[[Any], None], limit: int) -> None:
        self.messages: list[Any] = []
        self.limit = limit
        self.arrived = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self._release = release

    def full(self) -> bool:
        return len(self.messages) >= self.limit

    def put(self, message: Any) -> None:
        """Add a fetched message; the agent hears of it at the next `notify`, once per fetch."""
        self.messages.append(message)

    def notify(self) -> None:
        if self.messages:
            self.arrived.set()
        if self.full():
            self.room.clear()

    def take(self, max_: int) -> list[Any]:
        """The first `max_` messages waiting (none: wait for `arrived`)."""
        batch = self.messages[:max_]
        del self.messages[:max_]
        if not self.messages:
            self.arrived.clear()
        if not self.full():
            self.room.set()
        return batch

    def clear(self) -> None:
        """Drop and release what waits (Faust's flow control, on a rebalance): read again after the seek."""
        dropped, self.messages = self.messages, []
        self.arrived.clear()
        self.room.set()
        for message in dropped:
            self._release(message)
