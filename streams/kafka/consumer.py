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
`callback`, `_drain_messages`): the one place newsclean depends on Faust's private side. `SUPPORTED_FAUST` names
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

from faust.exceptions import ConsumerNotStarted
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from streams.kafka.commits import Commits
from streams.kafka.consumer_thread import FetchingThread
from streams.kafka.inbox import Inbox
from streams.kafka.probe import first_offset, starts_of

log = logging.getLogger("newsclean")
# faust-streaming releases whose Consumer internals this module was read against and tested on;
# pyproject.toml pins the same series. Add a release only after reading its consumer.py.
SUPPORTED_FAUST = ("0.15.2", "0.15.3")
# Faust's private consumer state used below (set by Faust's Consumer.__init__) ...
FAUST_STATE = ("_unacked_messages", "_waiting_for_ack", "_committed_offset", "_read_offset", "_thread", "callback",
               "suspend_flow", "diag")
# ... and the methods overridden or called: their absence would leave Faust's committing on.
FAUST_METHODS = ("ack", "_new_offset", "_commit", "perform_seek", "assignment", "wait_empty",
                 "_drain_messages", "getmany")
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
    too.

    The agents' topics are read into their inboxes (`inbox`, `streams.kafka.inbox`), not through
    Faust's streams; commits run in the background, one at a time, each taking every offset
    delivered meanwhile (`delivered`); the stop and rebalances wait for them (`wait_empty`)."""

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
        self.inboxes: list[tuple[Any, Inbox]] = []  # (the agent's channel, its inbox)
        self._inbox_of: dict[str, Inbox | None] = {}  # topic name -> its agent's inbox, or None: Faust's way
        self.commits = Commits(self._commit_delivered)
        on_message = self.callback

        async def hand(message: Any) -> None:
            self.in_flight[message.tp].add(message.offset)
            await on_message(message)

        self.callback = hand

    def _new_consumer_thread(self) -> FetchingThread:
        return FetchingThread(self, loop=self.loop, beacon=self.beacon)

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

    def inbox(self, channel: Any) -> Inbox:
        """The inbox of an agent reading `channel` (a Faust topic): from now on its topics'
        messages go there, not to its stream."""
        def same(known: Any) -> bool:  # a restarted agent's channel is a new clone of the same topic
            return (tuple(known.topics), known.pattern) == (tuple(channel.topics), channel.pattern)

        for known, old in self.inboxes:
            if same(known):
                old.clear()  # released; read again after the restart's seek
        inbox = Inbox(self.ack, self.app.conf.stream_buffer_maxsize)
        self.inboxes = [(known, old) for known, old in self.inboxes if not same(known)] + [(channel, inbox)]
        self._inbox_of.clear()
        self.app.flow_control.manage_queue(inbox)  # emptied with the channels on a rebalance
        return inbox

    def release(self, messages: Iterable[Any]) -> None:
        """An agent is done with these messages (processed, or not admitted)."""
        for message in messages:
            self.ack(message)

    def _inbox_for(self, topic: str) -> Inbox | None:
        try:
            return self._inbox_of[topic]
        except KeyError:
            found = next((inbox for channel, inbox in self.inboxes if topic in channel.topics
                          or (channel.pattern is not None and channel.pattern.match(topic))), None)
            self._inbox_of[topic] = found
            return found

    async def _drain_messages(self, fetcher: Any) -> None:  # the fetcher's loop, as Faust's
        """Faust's fetch loop (`Consumer._drain_messages`), with each message of an agent's topic
        put into its inbox (tracked as a stream would: the stop and rebalances wait for it) rather
        than handed to Faust's callback and streams one by one; the agents hear once per fetch."""
        callback, getmany = self.callback, self.getmany
        consumer_should_stop, fetcher_should_stop = self._stopped.is_set, fetcher._stopped.is_set
        read_offset, in_flight, unacked = self._read_offset, self.in_flight, self._unacked_messages
        inbox_for, flowing = self._inbox_for, self.app.flow_control.is_active
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                fetched = getmany(timeout=1.0)
                await self.sleep(0)  # getmany may return at once, again and again
                if self.should_stop:
                    continue
                filled: list[Inbox] = []
                async for tp, message in fetched:
                    offset = message.offset
                    r_offset = read_offset[tp]
                    if r_offset is not None and offset < r_offset:
                        continue  # Faust drops what is behind its read offset too
                    inbox = inbox_for(message.topic)
                    if inbox is None:
                        await self.wait_first(callback(message), self.suspend_flow.wait())
                    elif not flowing() or (inbox.full() and not await self._room(inbox, filled)):
                        pass  # flow suspended (a rebalance): dropped, as Faust's streams skip it; read again later
                    else:
                        message.tracked = True
                        unacked.add(message)
                        in_flight[tp].add(offset)
                        inbox.put(message)
                        if inbox not in filled:
                            filled.append(inbox)
                    read_offset[tp] = offset  # (Faust's gap list and `commit_every` feed only its own commits: off)
                for inbox in filled:
                    inbox.notify()
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        except Exception as exc:
            log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _room(self, inbox: Inbox, filled: list[Inbox]) -> bool:
        """Wait until the agent took from its full inbox; False if the flow was suspended meanwhile."""
        for waiting in filled:
            waiting.notify()
        await self.wait_first(inbox.room, self.suspend_flow.wait())
        return inbox.room.is_set() and self.app.flow_control.is_active()

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
        await self.commits.flush()

    async def perform_seek(self) -> None:
        # Every (re)assignment ends here: positions are back at the committed offsets, whoever
        # committed them, so the bookkeeping starts over from there.
        await super().perform_seek()
        if self._rereading is not None:
            self._rereading.cancel()  # its partitions and offsets are of the assignment before
        for state in (self.expected, self.skipped, self.reread_at, self.in_flight, self.idle):
            state.clear()
        self.commits.drop()

    async def admit(self, messages: Iterable[Any]) -> list[Any]:
        """The messages to process now: per partition contiguous from the expected offset."""
        admitted: list[Any] = []
        if self.halted:
            return admitted
        messages = list(messages)
        for message in messages:
            tp, offset = message.tp, message.offset
            if message.generation_id != self.app.consumer_generation_id:
                continue  # fetched before a rebalance; the seek after it brings it again
            expected = self.expected.get(tp)
            if expected is None:
                await self._learn_starts({m.tp for m in messages if m.tp not in self.expected})
                if message.generation_id != self.app.consumer_generation_id:
                    continue  # a rebalance came while the committed offset was asked for
                expected = self.expected[tp]
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
        await self._learn_starts(unknown)  # once per partition and assignment; the next ticks look at it
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
        return await first_offset(self.app, self.transport, tp, offset)

    async def delivered(self, messages: Iterable[Any]) -> None:
        """The output of these admitted messages is in Kafka: commit past them, in the background
        (`streams.kafka.commits`); the agent goes on with its next batch. A commit that failed
        raises here, the next time."""
        generation = self.app.consumer_generation_id
        commits = self.commits
        for message in messages:
            if message.generation_id == generation and message.tp in self.expected:
                commits.add(message.tp, message.offset + 1)
        if not self.halted:
            commits.start()

    async def _commit_delivered(self, offsets: dict[Any, int]) -> None:
        if not self.halted:
            await self._commit(offsets)  # skips partitions no longer assigned
            self._committed_offset.update(offsets)

    async def _learn_starts(self, tps: Iterable[Any]) -> None:
        """The expected offset of each partition not known yet: where the seek that ended the
        rebalance put it (`probe.starts_of`), asked of the broker rather than taken from Faust's
        copy, which misses some partitions. The agents and the timer ask concurrently: the first
        answer stands, later ones would move it back."""
        unknown = [tp for tp in tps if tp not in self.expected]
        if unknown:
            thread = self._thread
            for tp, start in (await thread.call_thread(starts_of, thread._ensure_consumer(), unknown)).items():
                self.expected.setdefault(tp, start)


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
