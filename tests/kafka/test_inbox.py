"""`streams.kafka.inbox`: what an agent takes, when, and what a rebalance drops."""

from __future__ import annotations

from streams.kafka.inbox import Inbox
from tests.support.faust_fakes import Message


def _filled(inbox: Inbox, offsets: range) -> list[Message]:
    messages = [Message(b"{}", offset=n) for n in offsets]
    for message in messages:
        inbox.put(message)
    inbox.notify()
    return messages


async def test_inbox_takes_everything_waiting_up_to_a_batch_at_once():
    inbox = Inbox(lambda message: None, limit=100)
    messages = _filled(inbox, range(5))
    assert inbox.arrived.is_set()
    assert inbox.take(3) == messages[:3] and inbox.arrived.is_set()
    assert inbox.take(3) == messages[3:]  # the rest, without waiting for a third
    assert not inbox.messages and not inbox.arrived.is_set()


async def test_inbox_the_agent_hears_of_messages_once_per_fetch():
    inbox = Inbox(lambda message: None, limit=100)
    inbox.put(Message(b"{}", offset=0))
    assert not inbox.arrived.is_set()  # heard of at the fetch's notify, not per message
    inbox.notify()
    assert inbox.arrived.is_set()


async def test_inbox_a_full_inbox_holds_the_fetcher_back_until_the_agent_takes():
    inbox = Inbox(lambda message: None, limit=3)
    _filled(inbox, range(3))
    assert inbox.full() and not inbox.room.is_set()
    inbox.take(2)
    assert inbox.room.is_set()


async def test_inbox_clear_drops_and_releases_what_waits():
    released = []
    inbox = Inbox(released.append, limit=2)
    messages = _filled(inbox, range(2))
    inbox.clear()
    assert released == messages and not inbox.messages
    assert inbox.room.is_set() and not inbox.arrived.is_set()
