"""How the worker's input offsets advance (README "Guarantees"): `ReleasingConsumer` hands each
partition's messages to the agents strictly in offset order (a message Faust dropped is read
again, not skipped), and input offsets are committed by newsclean after delivery; Faust's own
offset commits are off.

Why Faust does not commit here. Faust 0.15 commits the offsets of *acknowledged* messages, and it
acknowledges messages nobody processed: a message a stream takes while flow control is paused (a
rebalance, a table recovery, shutdown) or from an older consumer generation is skipped *and
acknowledged* (`Stream._py_aiter`, "We want to ack the filtered out message"), and its head-gap
check (`min(acked) - committed > 1` in `Consumer._new_offset`) commits over a single missing
offset. Either loses the message for good: with Faust committing, the SIGTERM-and-restart test
(tests/integration/test_shutdown.py) lost one article in 4 of 7 runs.

This module overrides Faust internals (`Consumer._unacked_messages`, `_waiting_for_ack`,
`_new_offset`, `_commit`, `_committed_offset`, `_read_offset`, `_thread`, `perform_seek`,
`callback`): the one place newsclean depends on Faust's private side. `SUPPORTED_FAUST` names
the faust-streaming releases it was read against and tested on. A consumer whose Faust lacks one
of those internals refuses to start (`missing_internals`); a release not in the list starts
with a warning; tests/kafka/test_consumer_faust_internals.py fails on either.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import aiokafka
from faust.exceptions import ConsumerNotStarted
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

log = logging.getLogger("newsclean")
# faust-streaming releases whose Consumer internals this module was read against and tested on;
# pyproject.toml pins the same series. Add a release only after reading its consumer.py.
SUPPORTED_FAUST = ("0.15.2", "0.15.3")
# Faust's private consumer state used below (set by Faust's Consumer.__init__) ...
FAUST_STATE = ("_unacked_messages", "_waiting_for_ack", "_committed_offset", "_read_offset", "_thread", "callback")
# ... and the methods overridden or called: their absence would leave Faust's committing on.
FAUST_METHODS = ("ack", "_new_offset", "_commit", "perform_seek", "earliest_offsets", "assignment", "wait_empty")
FAUST_THREAD = ("call_thread", "_ensure_consumer")  # of `_thread`, the consumer's own thread
REREAD_AGAIN_S = 2.0  # a hole still open this long after its partition was read again: read again


class ReleasingConsumer(aiokafka_driver.Consumer):
    """Hands the agents each partition's messages strictly in offset order, and commits what
    they report delivered — never past a message that was not.

    An acknowledgement only releases the message (shutdown and rebalances wait for that), and
    `_new_offset` finds nothing committable, so Faust's periodic, rebalance and shutdown
    commits commit nothing. Instead the consumer keeps, per partition, the next offset it expects:
    first the broker's committed offset, then one past each message admitted (`admit`). The
    agents commit through `delivered` once a batch's output is in Kafka.

    A message past the expected offset means Faust dropped the one expected (`getmany` drops
    fetched records of a partition it is pausing, the stream skips those of a stale
    generation). It is not processed — out of order it would see a feed state without the
    missing article, and the ones after it would have been judged without it — and the
    partition is read again from the expected offset (`reread_holes`, from a timer; it also
    notices a partition whose fetch position stays past the expected offset with nothing on
    its way to the agents: the dropped message was the last one fetched), unless a look at the log
    (`_first_offset`) shows there is no record there (compaction, a transaction marker): then
    the hole is passed over. Faust's own gap list is not trusted: it lists dropped messages
    too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        missing = missing_internals(self)
        if missing:
            raise RuntimeError(f"faust-streaming {faust_version()} lacks the consumer internals newsclean overrides "
                               f"({', '.join(missing)}); supported: {', '.join(SUPPORTED_FAUST)}")
        if faust_version() not in SUPPORTED_FAUST:
            log.warning("faust-streaming %s is not among the releases newsclean's consumer was tested on (%s)",
                        faust_version(), ", ".join(SUPPORTED_FAUST))
        self.halted = False
        self.expected: dict[Any, int] = {}  # tp -> next offset to admit
        self.skipped: dict[Any, int] = {}  # tp -> highest offset skipped while a hole is open
        self.reread_at: dict[Any, float] = {}  # tp -> when the partition was last read again
        self.in_flight: dict[Any, set[int]] = defaultdict(set)  # tp -> offsets handed to a stream, not yet acked
        self.idle: dict[Any, tuple[int, int, float]] = {}  # tp -> (expected, position, since)
        self._rereading: asyncio.Future | None = None  # the timer's work on holes, one task at a time
        on_message = self.callback

        async def hand(message: Any) -> None:
            self.in_flight[message.tp].add(message.offset)
            await on_message(message)

        self.callback = hand

    def ack(self, message: Any) -> bool:
        with ack_lock:
            if message.acked:
                return False
            message.acked = True
        self._unacked_messages.discard(message)
        if message.generation_id == self.app.consumer_generation_id:
            self.in_flight[message.tp].discard(message.offset)
        notify(self._waiting_for_ack)
        return False

    def _new_offset(self, tp: Any) -> int | None:
        # Faust's own commits (periodic, on rebalance, on shutdown) all ask here: nothing, ever.
        return None

    def halt(self) -> None:
        """After an agent crashed: admit and commit nothing more (Faust restarts a crashed
        agent, whose next batch would otherwise commit past the failed one), and release every
        message in flight so that the stop does not wait for them; they are read again next time."""
        self.halted = True
        for message in list(self._unacked_messages):
            self.ack(message)

    async def wait_empty(self) -> None:
        """The stop's wait for every message in flight to be acknowledged; after a crash,
        nothing. Faust restarts a crashed agent on the same stream, and the dead actor's
        `take_events` buffer stays registered on it: events it keeps taking are tracked after
        `halt` and never acknowledged, and Faust's wait loops until they are (the worker "still
        running" after an agent crash). Nothing is committed after a crash, so nothing needs
        waiting for: release again what streams took since `halt`."""
        if self.halted:
            self.halt()
            return
        await super().wait_empty()

    async def perform_seek(self) -> None:
        # Every (re)assignment ends here: positions are back at the committed offsets, whoever
        # committed them, so the bookkeeping starts over from there.
        await super().perform_seek()
        if self._rereading is not None:
            self._rereading.cancel()  # its partitions and offsets are of the assignment before
        for state in (self.expected, self.skipped, self.reread_at, self.in_flight, self.idle):
            state.clear()

    async def admit(self, messages: Iterable[Any]) -> list[Any]:
        """The messages to process now: per partition contiguous from the expected offset."""
        admitted = []
        if self.halted:
            return admitted
        for message in messages:
            tp, offset = message.tp, message.offset
            if message.generation_id != self.app.consumer_generation_id:
                continue  # fetched before a rebalance; the seek after it brings it again
            expected = self.expected.get(tp)
            if expected is None:
                expected = await self._expected(tp)
                if message.generation_id != self.app.consumer_generation_id:
                    continue  # a rebalance came while the committed offset was asked for
            if offset > expected:
                self.skipped[tp] = max(self.skipped.get(tp, -1), offset)
            elif offset == expected:
                self.expected[tp] = offset + 1
                admitted.append(message)
                if self.skipped.get(tp, -1) <= offset:
                    self.skipped.pop(tp, None)  # the hole is closed
            # offset < expected: already taken in this generation
        return admitted

    def reread_holes(self, agents_read: Callable[[str], bool]) -> None:
        """Read a partition the agents read again from its expected offset when a message is
        missing there: a later one came (`admit` noted it), or nothing more comes although the
        fetch position is past it (dropped at the end of what was fetched). Again after a
        while if the first read did not bring it: a record fetched before the seek can still
        pass after it and make Faust's fetcher drop the ones read again.

        Called by a 1-s timer, so a tick awaits nothing: the fetch positions are read off the
        consumer's subscription state, and what needs the consumer thread or the broker (the
        committed offset of a partition nothing was admitted from yet, the look at the log and
        the seek of a hole) runs in one task at a time. Through the consumer thread every call
        queues behind its fetches (each up to 1 s) and ahead of the agents' commits: the timer
        that did so ran 1 to 12.6 s a tick, and held up the agents' commits."""
        if self._rereading is not None and not self._rereading.done():
            return  # the last tick's work is still under way: never two at once
        app = self.app
        if app.rebalancing or app.in_recovery or not self.flow_active:
            return  # a rebalance ends with a seek to the committed offsets anyway
        now = time.monotonic()
        unknown = []  # nothing admitted from them yet: their expected offset is to be asked for
        for tp in self.assignment():
            if tp in self.skipped or not agents_read(tp.topic):
                continue
            if tp not in self.expected:
                unknown.append(tp)
            elif self._dropped_at_tail(tp, now):
                self.skipped[tp] = self.expected[tp]
        due = [tp for tp in self.skipped if now - self.reread_at.get(tp, 0.0) >= REREAD_AGAIN_S]
        if unknown or due:
            self._rereading = asyncio.ensure_future(self._reread(unknown, due, now))

    async def _reread(self, unknown: list[Any], due: list[Any], now: float) -> None:
        generation = self.app.consumer_generation_id
        for tp in unknown:
            await self._expected(tp)  # once per partition and assignment; the next ticks look at it
        for tp in due:
            if self.app.consumer_generation_id != generation or tp not in self.skipped:
                return  # reassigned meanwhile (the seek after it starts over), or the hole closed
            self.reread_at[tp] = now
            hole = self.expected[tp]
            first = await self._first_offset(tp, hole)
            if first is not None and first > hole:  # the log has no record there: pass over it
                log.info("offsets %d-%d of %s hold no records (compaction, transaction markers)", hole, first - 1, tp)
                self.expected[tp] = first
            else:
                log.warning("offset %d of %s never reached the agents (dropped by Faust); reading the partition "
                            "again from it", hole, tp)
            # In the consumer's own thread (Faust's `seek` would touch aiokafka from this one),
            # and without waiting for the position as `seek_wait` does (up to a minute and more).
            thread = self._thread
            await thread.call_thread(_seek, thread._ensure_consumer(), tp, self.expected[tp])
            self._read_offset[tp] = self.expected[tp]  # Faust's fetcher drops records below it
            self.idle.pop(tp, None)

    def _dropped_at_tail(self, tp: Any, now: float) -> bool:
        """Whether the fetch position of `tp` has stayed past its expected offset for a while
        with no message of `tp` on its way to the agents (handed to a stream and not acked)."""
        expected = self.expected[tp]
        if max(self.in_flight.get(tp, ()), default=-1) >= expected:
            self.idle.pop(tp, None)
            return False  # on its way: no need to look at the position
        position = self._fetch_position(tp)
        if position is None or position <= expected:
            self.idle.pop(tp, None)
            return False
        seen = self.idle.get(tp)
        if seen is None or seen[:2] != (expected, position):
            self.idle[tp] = (expected, position, now)
            return False
        return now - seen[2] >= REREAD_AGAIN_S

    def _fetch_position(self, tp: Any) -> int | None:
        """The fetch position of `tp` as the consumer thread last set it, or None while it has
        none (being reset, not assigned, a rebalance under way). Read without the thread: one
        attribute of its subscription state, and a stale value only delays the verdict, which
        waits for the position to stay put anyway."""
        try:
            state = self._thread._ensure_consumer()._subscription.subscription.assignment.state_value(tp)
            return state.position if state is not None and state.has_valid_position else None
        except (AttributeError, ConsumerNotStarted):
            return None

    async def _first_offset(self, tp: Any, offset: int) -> int | None:
        """The offset of the first record at or after `offset`, read by a consumer of its own
        (no group): whether a hole is a message Faust dropped or a place with no record."""
        transport = self.transport
        probe = aiokafka.AIOKafkaConsumer(
            bootstrap_servers=aiokafka_driver.server_list(transport.url, transport.default_port),
            group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",  # before the log start: its first record
            **aiokafka_driver.credentials_to_aiokafka_auth(self.app.conf.broker_credentials, self.app.conf.ssl_context),
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

    async def delivered(self, messages: Iterable[Any]) -> None:
        """The output of these admitted messages is in Kafka: commit past them."""
        commit: dict[Any, int] = {}
        generation = self.app.consumer_generation_id
        for message in messages:
            if message.generation_id == generation and message.tp in self.expected:
                commit[message.tp] = max(commit.get(message.tp, 0), message.offset + 1)
        if commit and not self.halted:
            await self._commit(commit)  # skips partitions no longer assigned
            self._committed_offset.update(commit)

    async def _expected(self, tp: Any) -> int:
        if tp not in self.expected:
            start = await self._start_of(tp)
            # The agents and the timer ask concurrently: the first answer stands, later ones would
            # move it back.
            self.expected.setdefault(tp, start)
        return self.expected[tp]

    async def _start_of(self, tp: Any) -> int:
        """The broker's committed offset — where the seek that ended the rebalance put the
        partition — asked for, not taken from Faust's copy (which misses some partitions)."""
        thread = self._thread
        committed = await thread.call_thread(thread._ensure_consumer().committed, tp)
        if committed is not None:
            return committed
        return (await self.earliest_offsets(tp))[tp]  # where auto_offset_reset=earliest starts


async def _seek(consumer: Any, tp: Any, offset: int) -> None:
    consumer.seek(tp, offset)


def faust_version() -> str:
    return importlib.metadata.version("faust-streaming")


def missing_internals(consumer: Any) -> list[str]:
    """The Faust internals `ReleasingConsumer` relies on that `consumer` does not have."""
    missing = [name for name in FAUST_STATE if not hasattr(consumer, name)]
    missing += [name for name in FAUST_METHODS if not callable(getattr(aiokafka_driver.Consumer, name, None))]
    thread = getattr(consumer, "_thread", None)
    missing += [f"_thread.{name}" for name in FAUST_THREAD if thread is not None and not callable(getattr(thread, name, None))]
    return missing
