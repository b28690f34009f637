"""`streams.kafka.consumer` without a broker: acknowledging, admission in offset order, halting."""

from __future__ import annotations

import asyncio
from faust.types import TP

from streams.kafka.consumer import ReleasingConsumer
from tests.support.faust_fakes import Message


async def test_consumer_acknowledging_releases_a_message_but_never_makes_it_committable(newsclean):
    consumer = newsclean.app.consumer
    assert isinstance(consumer, ReleasingConsumer)
    message = Message(b"{}", offset=7)
    consumer._unacked_messages.add(message)
    assert consumer.ack(message) is False
    assert message.acked and message not in consumer._unacked_messages
    assert not any(consumer._acked.values()) and consumer._n_acked == 0
    consumer._acked[message.tp].append(7)  # even if something filled Faust's list, it commits nothing
    assert consumer._new_offset(message.tp) is None


async def test_consumer_admit_takes_each_partition_strictly_in_offset_order(newsclean):
    consumer = newsclean.app.consumer
    tp = TP("nc-by-source", 0)
    consumer.expected[tp] = 5
    m = {n: Message(b"{}", offset=n) for n in range(4, 10)}
    assert await consumer.admit([m[5], m[7], m[6], m[4]]) == [m[5], m[6]]  # 7 came before 6: not taken
    assert consumer.expected[tp] == 7 and consumer.skipped[tp] == 7  # a hole at 7, to be read again
    assert await consumer.admit([m[7], m[8]]) == [m[7], m[8]]
    assert tp not in consumer.skipped
    stale = Message(b"{}", offset=9, generation_id=-1)  # fetched before a rebalance
    assert await consumer.admit([stale]) == [] and consumer.expected[tp] == 9


async def test_consumer_after_a_crash_nothing_is_admitted_or_committed(newsclean, monkeypatch):
    consumer = newsclean.app.consumer
    commits = []

    async def commit(offsets):
        commits.append(dict(offsets))
        return True

    monkeypatch.setattr(consumer, "_commit", commit)
    tp = TP("nc-by-source", 0)
    consumer.expected[tp] = 0
    taken = await consumer.admit([Message(b"{}", offset=0)])
    await consumer.delivered(taken)
    await consumer.commits.flush()
    assert commits == [{tp: 1}]
    consumer.halt()
    assert await consumer.admit([Message(b"{}", offset=1)]) == []
    await consumer.delivered(taken)  # a batch that finishes after the crash commits nothing
    await consumer.commits.flush()
    assert commits == [{tp: 1}]


async def test_consumer_after_a_crash_the_stop_waits_for_no_message_taken_since(newsclean):
    """A stream tracks what it takes (Faust inlines `track_message`); the dead actor's take
    buffer keeps taking after the crash and never acknowledges: the stop must not wait for it."""
    consumer = newsclean.app.consumer
    consumer.halt()
    taken_since = Message(b"{}", offset=3)
    consumer._unacked_messages.add(taken_since)
    stop = asyncio.ensure_future(consumer.wait_empty())
    done, _ = await asyncio.wait({stop}, timeout=10)  # (Faust's wait loop does not end on cancel)
    consumer._stopped.set()  # ends Faust's wait loop if it is still running
    await stop
    assert stop in done, "the stop waits for a message nobody will acknowledge"  # for good, before the fix
    assert taken_since.acked and not consumer._unacked_messages


async def test_consumer_reread_holes_tick_awaits_nothing_and_reads_one_hole_at_a_time(newsclean, monkeypatch):
    consumer = newsclean.app.consumer
    tp = TP("nc-by-source", 0)
    monkeypatch.setattr(consumer, "assignment", lambda: {tp})
    consumer.expected[tp], consumer.skipped[tp] = 5, 7  # offset 5 missing, 7 came
    looked, seeks, release = [], [], asyncio.Event()

    async def first_offset(at_tp, offset):
        looked.append((at_tp, offset))
        await release.wait()  # a slow look at the log
        return None

    class Thread:
        def _ensure_consumer(self):
            return None

        async def call_thread(self, fun, consumer_, at_tp, offset):
            seeks.append((at_tp, offset))

    monkeypatch.setattr(consumer, "_first_offset", first_offset)
    monkeypatch.setattr(consumer, "_thread", Thread())
    assert consumer.reread_holes(lambda topic: True) is None  # the timer's tick: nothing to await
    await asyncio.sleep(0)
    consumer.reread_holes(lambda topic: True)  # the next tick, while the look is under way
    await asyncio.sleep(0)
    assert looked == [(tp, 5)]  # one at a time
    release.set()
    await consumer._rereading
    assert seeks == [(tp, 5)] and consumer._read_offset[tp] == 5


class _Fetcher:
    def __init__(self) -> None:
        self._stopped = asyncio.Event()


async def _drain_once(consumer, fetched) -> None:
    """One pass of the consumer's fetch loop over `fetched` ((tp, message) pairs)."""
    fetcher = _Fetcher()

    async def getmany(timeout):
        for pair in fetched:
            yield pair
        fetcher._stopped.set()

    consumer.getmany = getmany
    await asyncio.wait_for(consumer._drain_messages(fetcher), 10)


async def test_consumer_drain_puts_an_agents_messages_into_its_inbox_and_the_rest_goes_fausts_way(newsclean):
    consumer = newsclean.app.consumer
    newsclean.app.flow_control.resume()
    handed = []

    async def callback(message):
        handed.append(message)

    consumer.callback = callback
    inbox = consumer.inbox(newsclean.by_source)
    topic = newsclean.by_source.get_topic_name()
    ours = [Message(b"{}", offset=n, topic=topic) for n in (4, 5)]
    changelog = Message(b"{}", offset=0, topic="nc-seen-changelog")
    consumer._read_offset[ours[0].tp] = 4  # Faust's read offset: below it is dropped, as Faust drops it
    behind = Message(b"{}", offset=3, topic=topic)
    await _drain_once(consumer, [(m.tp, m) for m in (behind, ours[0], changelog, ours[1])])
    assert inbox.messages == ours and inbox.arrived.is_set()  # the agent hears of them once
    assert handed == [changelog]  # the tables' changelogs still go to Faust's streams
    assert all(m in consumer._unacked_messages for m in ours)  # the stop and rebalances wait for them
    assert consumer.in_flight[ours[0].tp] == {4, 5} and consumer._read_offset[ours[0].tp] == 5
    consumer.release(inbox.take(10))
    assert not consumer._unacked_messages and not consumer.in_flight[ours[0].tp]


async def test_consumer_drain_drops_an_agents_messages_while_the_flow_is_suspended(newsclean):
    consumer = newsclean.app.consumer
    newsclean.app.flow_control.suspend()  # a rebalance: Faust's streams skip every event
    inbox = consumer.inbox(newsclean.by_source)
    message = Message(b"{}", offset=0, topic=newsclean.by_source.get_topic_name())
    await _drain_once(consumer, [(message.tp, message)])
    assert not inbox.messages and message not in consumer._unacked_messages
    newsclean.app.flow_control.clear()  # what Faust does to its channels then: the inbox too
    assert not inbox.messages


async def test_consumer_commits_in_the_background_one_at_a_time_taking_all_delivered_meanwhile(newsclean, monkeypatch):
    consumer = newsclean.app.consumer
    commits, release = [], asyncio.Event()

    async def commit(offsets):
        commits.append(dict(offsets))
        await release.wait()  # a slow round trip to the broker
        return True

    monkeypatch.setattr(consumer, "_commit", commit)
    a, b = TP("nc-by-source", 0), TP("nc-by-source", 1)
    consumer.expected.update({a: 0, b: 0})
    first = await consumer.admit([Message(b"{}", offset=0)])
    await asyncio.wait_for(consumer.delivered(first), 10)  # returns before the commit is done
    await asyncio.sleep(0)
    assert commits == [{a: 1}]
    await consumer.delivered(await consumer.admit([Message(b"{}", offset=1), Message(b"{}", offset=0, partition=1)]))
    await consumer.delivered(await consumer.admit([Message(b"{}", offset=2)]))
    assert len(commits) == 1  # never two at once
    stop = asyncio.ensure_future(consumer.wait_empty())  # the stop and rebalances wait for what was delivered
    await asyncio.sleep(0)
    assert not stop.done()
    release.set()
    await asyncio.wait_for(stop, 10)
    assert commits == [{a: 1}, {a: 3, b: 1}] and consumer._committed_offset[a] == 3


async def test_consumer_starts_of_asks_every_partition_in_one_hop_committed_first_else_the_log_start():
    from streams.kafka.probe import starts_of

    class FakeConsumer:  # the aiokafka consumer's two calls, as its thread would answer them
        def __init__(self):
            self.beginning_asked = []

        async def committed(self, tp):
            return {"a": 7}.get(tp)

        async def beginning_offsets(self, tps):
            self.beginning_asked.append(list(tps))
            return {tp: 100 for tp in tps}

    consumer = FakeConsumer()
    assert await starts_of(consumer, ["a", "b", "c"]) == {"a": 7, "b": 100, "c": 100}
    assert consumer.beginning_asked == [["b", "c"]]  # one request for the partitions without a commit
