"""Dedup through the real broker: results independent of the number of workers, state that
survives a restart, event-time expiry on replayed old timestamps."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from streams.core.models import MemoryStore
from streams.core.settings import PipelineSettings
from streams.offline import clean_file

from .conftest import read_records
from .synthetic import SOURCES, article, feed
from .workers import comparable, make_pipeline


@pytest.fixture
def pipelines(bootstrap_servers, new_topic, tmp_path):
    made = []

    async def make(input_topic: str, name: str):
        pipeline = make_pipeline(
            bootstrap_servers, tmp_path / name, input_topic, await new_topic(4, "out"), await new_topic(1, "dlq")
        )
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        for worker in pipeline.workers:
            worker.terminate()


def offline(raws: list[bytes], tmp_path) -> dict[tuple[str, str], dict]:
    source = tmp_path / "feed.jsonl"
    source.write_bytes(b"\n".join(raws))
    out = io.BytesIO()
    clean_file(str(source), out, None, PipelineSettings(), extractor=None, store=MemoryStore())
    return keyed(orjson.loads(line) for line in out.getvalue().splitlines())


def keyed(envelopes) -> dict[tuple[str, str], dict]:
    return {(e["article"]["uri"], e["article"]["version"]): comparable(e) for e in envelopes}


async def read_all(topic: str, wanted: set, bootstrap_servers: str) -> dict[tuple[str, str], dict]:
    """Envelopes by (uri, version) once every wanted one has arrived; repeats must be identical."""
    records = await read_records(
        topic, lambda rs: wanted <= set(keyed(orjson.loads(r.value) for r in rs)), 90, "every article",
        bootstrap_servers=bootstrap_servers,
    )
    envelopes = [comparable(orjson.loads(r.value)) for r in records]
    first = keyed(envelopes)
    for envelope in envelopes:
        assert envelope == first[(envelope["article"]["uri"], envelope["article"]["version"])]
    return first


def source_of(raw: bytes) -> bytes:
    return orjson.loads(raw)["altIds"][0]["value"].encode()


async def test_dedup_two_workers_remove_exactly_what_one_worker_removes(pipelines, new_topic, produce, bootstrap_servers, tmp_path):
    items = feed(160, seed=11)
    input_topic = await new_topic(4, "in")
    # Keyed by source, as feeds usually partition: each source's articles keep their order.
    await produce(input_topic, [(source_of(i.raw), i.raw, None) for i in items])

    wanted = {(i.uri, i.version) for i in items}
    one = await pipelines(input_topic, "one")
    await one.start_worker()
    single = await read_all(one.output_topic, wanted, bootstrap_servers)

    two = await pipelines(input_topic, "two")
    await two.start_worker()
    await two.start_worker()
    # The second worker's arrival rebalances the group: at-least-once may repeat a batch, and
    # `read_all` checks that any repeat is identical to the first copy.
    double = await read_all(two.output_topic, wanted, bootstrap_servers)

    assert sum(len(e["removed"]) for e in single.values()) > 50  # the feed really exercises dedup
    assert double == single
    assert single == offline([i.raw for i in items], tmp_path)


async def test_dedup_worker_restarted_mid_stream_recognises_paragraphs_seen_before(pipelines, new_topic, produce, consume, bootstrap_servers, tmp_path):
    items = feed(120, seed=5)
    half = len(items) // 2
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "restart")

    first = await pipeline.start_worker()
    await produce(input_topic, [(None, i.raw, None) for i in items[:half]])
    await consume(pipeline.output_topic, half, timeout=60)
    first.kill()  # a crash: nothing flushed on the way out; state must come back from the changelog

    # A fresh data dir: the second worker has no local state at all.
    await pipeline.start_worker(NEWSCLEAN_DATA_DIR=str(tmp_path / "fresh"))
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
