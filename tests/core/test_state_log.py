"""The feed state's log: the index derived from the persisted records, one record per slice and
batch, and what a crash that cuts a batch's changelog sends leaves behind."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.compact_index import CompactIndex
from streams.core.dedup import DedupSettings, deduplicate
from streams.core.feedwide import FeedSettings, observe, state_view
from streams.core.models import DictIndex
from streams.core.state_log import IndexWrites, StateLog, pack_ops, persisted_key, rebuild_into, unpack_ops

from .made_up import article, paragraph, story

DEDUP, FEED = DedupSettings(), FeedSettings()
SOURCES = ["Alpha", "Beta", "Gamma"]
FURNITURE = ["Distributed by the Continental Wire service.", "Share this article", "Sign up for our newsletter."]
STORIES = [story(seed, 6) for seed in range(4)]
_RNG = random.Random(7)
OWN = [paragraph(_RNG) for _ in range(6)]


@st.composite
def feeds(draw):
    """Articles of three sources: copies of a few stories, their own lines, shared furniture, in
    event-time order (what reprocessing after a crash relies on: evidence is only what is
    earlier in event time) with gaps up to a day and, at the end, a jump past every horizon."""
    items, minutes = [], 0.0
    for number in range(draw(st.integers(min_value=1, max_value=14))):
        minutes += draw(st.sampled_from([1, 5, 50, 400, 1500]))
        body = list(draw(st.sampled_from(STORIES)))[: draw(st.integers(min_value=1, max_value=6))]
        body += draw(st.lists(st.sampled_from(OWN + FURNITURE), max_size=4))
        items.append(article(f"urn:test:state:{number % 9}", minutes, draw(st.sampled_from(SOURCES)), body,
                             version=str(number)))
    if draw(st.booleans()):
        items.append(article("urn:test:state:late", minutes + 9 * 24 * 60, "Alpha", [*STORIES[0], FURNITURE[0]]))
    return items


# the worker's index and a plain dict: recovery into either gives the same state and decisions
INDEXES = {"compact": CompactIndex, "dict": DictIndex}


def entries(index) -> dict[str, bytes]:
    return dict(index.items())


def process(batch, index):
    """Decisions on a batch (feed stage then dedup, one index) and the batch's coalesced writes."""
    writes: dict[tuple[int, str], bytes | None] = {}
    decisions = []
    for item in batch:
        store = IndexWrites(index)
        findings = observe(item, store, FEED)
        result = deduplicate(item, store, DEDUP, context=findings.context)
        store.apply(0, writes)
        decisions.append((findings, [(r.index, r.reason) for r in result.removed]))
    return decisions, writes


def send(table: dict[str, bytes], sends) -> None:
    """What the compacted changelog (and Faust's table.data) holds after `sends`."""
    for _, name, value in sends:
        if value is None:
            table.pop(name, None)
        else:
            table[name] = value


def recover(table: dict[str, bytes], kind: str = "compact"):
    log, index = StateLog(), INDEXES[kind]()
    rebuild_into(index, log.restore((0, name, value) for name, value in table.items()), DEDUP, FEED)
    return log, index


def views(index):
    """The dedup keys exactly, the feed keys by what they decide (`state_view`)."""
    data = entries(index)
    return {k: v for k, v in data.items() if not k.startswith("feed:")}, state_view(data)


def batches(stream, size):
    """Batches of at most `size` whose event times span at most the expiry grace: the grace is
    what lets a batch be processed again after later articles of it expired older buckets (a
    batch spanning more than the grace can lose, on reprocessing, evidence its first run saw —
    as with any state written before the offsets are committed)."""
    grace = timedelta(hours=min(FEED.feed_expiry_grace_hours, DEDUP.expiry_grace_hours))
    out: list[list] = []
    for item in stream:
        if out and len(out[-1]) < size and item.event_time - out[-1][0].event_time <= grace:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def test_state_log_ops_round_trip():
    ops = [("a:meta", b"\x00" * 12), ("feed:r1.0", b""), ("a:t3.0", None), ("é:x", b"\xff")]
    assert unpack_ops(pack_ops(ops)) == ops


@pytest.mark.parametrize("kind", list(INDEXES))
@settings(max_examples=120, deadline=None)
@given(stream=feeds())
def test_state_log_the_index_is_derived_from_the_persisted_keys(kind, stream):
    index = INDEXES[kind]()
    for item in stream:
        process([item], index)
    persisted = {k: v for k, v in entries(index).items() if persisted_key(k)}
    assert len(persisted) < len(entries(index)) or not entries(index)  # the index is more than what is persisted
    rebuilt = INDEXES[kind]()
    rebuild_into(rebuilt, persisted, DEDUP, FEED)
    assert views(rebuilt) == views(index)


@settings(max_examples=60, deadline=None)
@given(feeds(), st.integers(min_value=1, max_value=5))
def test_state_log_the_compact_index_decides_as_the_dict_live_and_after_recovery(stream, size):
    """Same decisions, same state, on the worker's index and on a dict, before and after a restart."""
    runs = {}
    for kind, make in INDEXES.items():
        index, log, table, decisions = make(), StateLog(), {}, []
        parts = batches(stream, size)
        for number, batch in enumerate(parts):
            if number == len(parts) // 2:
                log, index = recover(table, kind)
            made, writes = process(batch, index)
            decisions += made
            send(table, log.log((partition, key, value) for (partition, key), value in writes.items()))
        runs[kind] = decisions, entries(index)
    assert runs["compact"] == runs["dict"]


@settings(max_examples=120, deadline=None)
@given(feeds(), st.integers(min_value=1, max_value=5))
def test_state_log_recovery_from_the_log_gives_the_live_index_with_few_records(stream, size):
    index = CompactIndex()
    log, table = StateLog(), {}
    sent = 0
    for batch in batches(stream, size):
        _, writes = process(batch, index)
        sends = log.log((partition, key, value) for (partition, key), value in writes.items())
        # one record per slice (source, feed) and batch, plus tombstones of records expiry emptied
        assert sum(value is not None for _, _, value in sends) <= len({item.source for item in batch}) + 1
        sent += len(sends)
        send(table, sends)
    _, recovered = recover(table)
    assert views(recovered) == views(index)
    assert len(table) <= sent


@settings(max_examples=200, deadline=None)
@given(feeds(), st.integers(min_value=1, max_value=4), st.integers(min_value=0), st.integers(min_value=0))
def test_state_log_a_crash_after_any_send_then_reprocessing_gives_the_same_state(stream, size, which, cut):
    """A SIGKILL keeps a prefix of a batch's changelog sends; the worker recovers from the log and
    processes the batch again: decisions and state are those of an uninterrupted run."""
    parts = batches(stream, size)
    crashed = which % len(parts)
    index = CompactIndex()
    log, table = StateLog(), {}
    whole = []
    for batch in parts:
        decisions, writes = process(batch, index)
        whole += decisions
        send(table, log.log((partition, key, value) for (partition, key), value in writes.items()))
    again_index = CompactIndex()
    log, table = StateLog(), {}
    again = []
    for number, batch in enumerate(parts):
        decisions, writes = process(batch, again_index)
        sends = log.log((partition, key, value) for (partition, key), value in writes.items())
        if number == crashed:
            send(table, sends[: cut % (len(sends) + 1)])
            log, again_index = recover(table)  # the restart
            decisions, writes = process(batch, again_index)
            sends = log.log((partition, key, value) for (partition, key), value in writes.items())
        again += decisions
        send(table, sends)
    assert again == whole
    assert views(again_index) == views(index)
    assert views(recover(table)[1]) == views(index)
