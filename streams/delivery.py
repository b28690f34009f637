"""How records leave the worker and how its input offsets advance (README "Guarantees").

- `IdempotentProducer`: acks=all with idempotence, always.
- `ReleasingConsumer`: input offsets are committed by newsclean, per partition, only up to
  the first message whose output has not been delivered; Faust's own offset commits are off.
- `deliver`: send a batch's records and wait until Kafka has every one; a record refused as too
  large is replaced by what its `Outgoing.instead` says (a dead letter).

Why Faust does not commit here. Faust 0.15 commits the offsets of *acknowledged* messages, and it
acknowledges messages nobody processed: a message a stream takes while flow control is paused (a
rebalance, a table recovery, shutdown) or from an older consumer generation is skipped *and
acknowledged* (`Stream._py_aiter`, "We want to ack the filtered out message"), and its head-gap
check (`min(acked) - committed > 1` in `Consumer._new_offset`) commits over a single missing
offset. Either loses the message for good; tests/integration/test_shutdown.py lost one article
in about half of its SIGTERM-and-restart runs before this module existed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

log = logging.getLogger("newsclean")


class IdempotentProducer(aiokafka_driver.Producer):
    """acks=all with idempotence, always. Faust enables idempotence only inside transactions
    (`processing_guarantee="exactly_once"`, which we do not use); without it a retried batch
    can be written twice or out of order."""

    def _settings_extra(self) -> dict[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class ReleasingConsumer(aiokafka_driver.Consumer):
    """Commits what the agents report delivered, never past a message that was not.

    An acknowledgement only releases the message — shutdown and rebalances wait for that — and
    never makes its offset committable, so Faust's periodic, rebalance and shutdown commits find
    nothing to commit. Instead, per partition: the offsets delivered so far and the committed
    offset, which is the first one not yet delivered.

    A hole — an offset never delivered while later ones were — is a message Faust dropped
    (`getmany` drops fetched records of a partition it is pausing, the stream skips those of a
    stale generation; its fetcher then lists them as "gaps"). The commit stays below the hole
    and the partition is read again from there (`_reread`); the first offset that comes back
    tells whether the log had nothing in between (a compacted record, a transaction marker),
    which is then passed over. Faust's own gap list is not trusted: it lists dropped messages
    too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.next_offset: dict[Any, int] = {}  # tp -> first offset not yet delivered (= committed)
        self.delivered_offsets: dict[Any, set[int]] = defaultdict(set)  # tp -> delivered offsets past it
        self.highest: dict[Any, int] = {}  # tp -> highest offset delivered since the last seek
        self.reread_from: dict[Any, int] = {}  # tp -> the hole the partition is being read again from

    def ack(self, message: Any) -> bool:
        with ack_lock:
            if message.acked:
                return False
            message.acked = True
        self._unacked_messages.discard(message)
        notify(self._waiting_for_ack)
        return False

    async def perform_seek(self) -> None:
        # Every (re)assignment ends here: positions are back at the committed offsets, whoever
        # committed them, so the bookkeeping starts over from there.
        await super().perform_seek()
        for state in (self.next_offset, self.delivered_offsets, self.highest, self.reread_from):
            state.clear()

    async def delivered(self, messages: Iterable[Any]) -> None:
        """Record that these messages' output is in Kafka; commit what is now contiguous."""
        offsets: dict[Any, list[int]] = defaultdict(list)
        for message in messages:
            offsets[message.tp].append(message.offset)
        commit, holes = {}, {}
        for tp, delivered in offsets.items():
            if tp not in self.next_offset:
                self.next_offset[tp] = await self._start_of(tp)
            start = self.next_offset[tp]
            done = self.delivered_offsets[tp]
            for offset in delivered:
                hole = self.reread_from.get(tp)
                if hole is not None and offset <= self.highest.get(tp, -1):
                    # the first message read again: the log holds nothing in [hole, offset)
                    done.update(range(hole, offset))
                    del self.reread_from[tp]
                if offset >= start:
                    done.add(offset)
                self.highest[tp] = max(self.highest.get(tp, -1), offset)
            position = start
            while position in done:
                done.discard(position)
                position += 1
            if position > start:
                self.next_offset[tp] = commit[tp] = position
            if done and tp not in self.reread_from:
                holes[tp] = position
        if commit:
            await self._commit(commit)  # skips partitions no longer assigned
            self._committed_offset.update(commit)
        for tp, hole in holes.items():
            await self._reread(tp, hole)

    async def _reread(self, tp: Any, hole: int) -> None:
        app = self.app
        if app.rebalancing or app.in_recovery or not self.flow_active:
            return  # a rebalance ends with a seek to the committed offset anyway
        log.warning("offset %d of %s never reached the agents (dropped by Faust); reading the partition again from it",
                    hole, tp)
        self.reread_from[tp] = hole
        await self.seek(tp, hole)

    async def _start_of(self, tp: Any) -> int:
        """The broker's committed offset — where the seek that ended the rebalance put the
        partition — asked for, not taken from Faust's copy (which misses some partitions)."""
        thread = self._thread
        committed = await thread.call_thread(thread._ensure_consumer().committed, tp)
        if committed is not None:
            return committed
        return (await self.earliest_offsets(tp))[tp]  # where auto_offset_reset=earliest starts


class Transport(aiokafka_driver.Transport):
    Producer = IdempotentProducer
    Consumer = ReleasingConsumer


class KafkaApp(faust.App):
    """faust.App on the transport above (the broker URL scheme is not consulted: newsclean
    speaks Kafka only), handing a crashed agent to `on_agent_crash` instead of Faust's default
    handler, which commits."""

    on_agent_crash: Callable[[Any, BaseException], Awaitable[None]] | None = None

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Transport:
        return Transport(self.conf.broker_producer, self)

    async def _on_agent_error(self, agent: Any, exc: BaseException) -> None:
        if self.on_agent_crash is not None:
            await self.on_agent_crash(agent, exc)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce, and what to send instead if Kafka refuses it as too large."""

    topic: faust.TopicT
    key: bytes | None
    value: bytes
    timestamp: float | None = None
    headers: Sequence[tuple[str, bytes]] | None = None
    instead: Callable[[BaseException], Outgoing] | None = None


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
                            len(item.value), item.topic.get_topic_name())
                item = item.instead(exc)
                delivery = await _send(item)
    await asyncio.gather(*also)


async def _send(item: Outgoing) -> asyncio.Future:
    try:
        return await item.topic.send(key=item.key, value=item.value, timestamp=item.timestamp, headers=item.headers)
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
