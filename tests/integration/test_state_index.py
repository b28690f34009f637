"""The compact feed-state index (`NEWSCLEAN_STATE_INDEX=compact`) through the real broker: a
worker killed mid-stream and a fresh one recovering the state from the changelog into the
compact index decide as offline mode does on a dict."""

from __future__ import annotations

from .conftest import read_all
from tests.support.synthetic import feed
from tests.support.workers import offline


async def test_state_index_compact_survives_a_kill_and_decides_as_offline(pipelines, new_topic, produce, consume, bootstrap_servers, tmp_path):
    items = feed(120, seed=5)
    half = len(items) // 2
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "compact")

    first = await pipeline.start_worker(NEWSCLEAN_STATE_INDEX="compact")
    await produce(input_topic, [(None, i.raw, None) for i in items[:half]])
    await consume(pipeline.output_topic, half, timeout=60)
    first.kill()

    await pipeline.start_worker(NEWSCLEAN_STATE_INDEX="compact", NEWSCLEAN_DATA_DIR=str(tmp_path / "fresh"))
    await produce(input_topic, [(None, i.raw, None) for i in items[half:]])
    live = await read_all(pipeline.output_topic, {(i.uri, i.version) for i in items}, bootstrap_servers)

    expected = offline([i.raw for i in items], tmp_path)
    later = {key: expected[key] for key in ((i.uri, i.version) for i in items[half:])}
    assert sum(r["reason"] == "boilerplate" for e in later.values() for r in e["removed"]) > 20
    assert {key: live[key] for key in later} == later
