"""Dedup through the real broker: results independent of the number of workers, state that
survives a restart, event-time expiry on replayed old timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest


from .conftest import one_worker_then_two, read_all
from tests.support.synthetic import SOURCES, article, feed
from tests.support.workers import keyed, offline


def source_of(raw: bytes) -> bytes:
    return orjson.loads(raw)["altIds"][0]["value"].encode()


async def test_dedup_two_workers_remove_exactly_what_one_worker_removes(pipelines, new_topic, produce, bootstrap_servers, tmp_path):
    items = feed(160, seed=11)
    input_topic = await new_topic(4, "in")
    # Keyed by source, as feeds usually partition: each source's articles keep their order.
    await produce(input_topic, [(source_of(i.raw), i.raw, None) for i in items])

    wanted = {(i.uri, i.version) for i in items}
    single, double, _, _ = await one_worker_then_two(pipelines, input_topic, wanted, bootstrap_servers)

    assert sum(len(e["removed"]) for e in single.values()) > 50  # the feed really exercises dedup
    assert double == single
    assert single == offline([i.raw for i in items], tmp_path)


@pytest.mark.parametrize("index", ["dict", "compact"])  # NEWSCLEAN_STATE_INDEX: recovery rebuilds into either
async def test_dedup_worker_restarted_mid_stream_recognises_paragraphs_seen_before(index, pipelines, new_topic, produce, consume, bootstrap_servers, tmp_path):
    items = feed(120, seed=5)
    half = len(items) // 2
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "restart")

    first = await pipeline.start_worker(NEWSCLEAN_STATE_INDEX=index)
    await produce(input_topic, [(None, i.raw, None) for i in items[:half]])
    await consume(pipeline.output_topic, half, timeout=60)
    first.kill()  # a crash: nothing flushed on the way out; state must come back from the changelog

    # A fresh data dir: the second worker has no local state at all.
    await pipeline.start_worker(NEWSCLEAN_STATE_INDEX=index, NEWSCLEAN_DATA_DIR=str(tmp_path / "fresh"))
    await produce(input_topic, [(None, i.raw, None) for i in items[half:]])
    # After a kill, the last uncommitted batch is processed again: read until every article is in.
    live = await read_all(pipeline.output_topic, {(i.uri, i.version) for i in items}, bootstrap_servers)

    expected = offline([i.raw for i in items], tmp_path)
    later = {key: expected[key] for key in ((i.uri, i.version) for i in items[half:])}
    assert sum(r["reason"] == "boilerplate" for e in later.values() for r in e["removed"]) > 20
    assert {key: live[key] for key in later} == later


async def test_dedup_event_time_expiry_is_the_same_for_old_timestamps(pipelines, new_topic, produce, consume, tmp_path):
    # 2019 timestamps: expiry must follow event time; by the wall clock all of this is years old.
    t0 = datetime(2019, 3, 1, 8, tzinfo=timezone.utc)
    line = "Subscribe to the Valley Courier evening digest for the stories you missed."
    source = SOURCES[1]
    timeline = [
        ("a", t0, "Council opens the new library wing on Monday morning after two years of work."),
        ("b", t0 + timedelta(days=1), "Ferry timetable changes as the harbour dredging begins next week."),
        ("c", t0 + timedelta(days=10), "Market traders vote to keep Saturday opening hours through winter."),
        ("d", t0 + timedelta(days=10, hours=2), "School choir wins the regional contest for the third year running."),
    ]
    raws = [
        article(f"urn:newsclean:expiry:{name}", "1", when, source, f"Story {name}", [text, line])
        for name, when, text in timeline
    ]
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "expiry")
    await pipeline.start_worker()
    await produce(input_topic, [(None, raw, int(when.timestamp() * 1000)) for raw, (_, when, _) in zip(raws, timeline)])
    live = keyed(orjson.loads(r.value) for r in await consume(pipeline.output_topic, len(raws), timeout=60))

    removed = {uri.rsplit(":", 1)[1]: [r["text"] for r in e["removed"]] for (uri, _), e in live.items()}
    # a: first sighting; b: seen a day earlier; c: ten days on, a and b are past the 7-day horizon;
    # d: c is two hours earlier.
    assert removed == {"a": [], "b": [line], "c": [], "d": [line]}
    assert live == offline(raws, tmp_path)
