"""The enrich stage (NER on) through the real broker, with the real model: the envelopes equal the
inline path's, a skewed feed's model work is spread over two workers, a crash between the output
send and the commit loses nothing, and one uri's records keep their order."""

from __future__ import annotations

import sys
import urllib.request

import orjson
import pytest

from streams.nlp.extractor import load_extractor
from streams.nlp.settings import NerSettings

from .conftest import read_all, read_records
from tests.support.synthetic import SOURCES, START, article, feed
from tests.support.workers import comparable, example_articles, offline

# The model in the worker's own thread: two workers of a test share two cores with everything else.
NER_ON = {"NEWSCLEAN_NER_ENABLED": "true", "NEWSCLEAN_NER_PROCESSES": "0", "NEWSCLEAN_SESSION_TIMEOUT_S": "6"}
# One source carries 80% of the feed: its articles all meet in one by-source partition.
SKEWED = (SOURCES[0],) * 8 + SOURCES[1:3]


@pytest.fixture(scope="module")
def extractor():
    found = load_extractor(NerSettings(processes=0))
    yield found
    found.close()


def model_work(worker) -> float:
    """The worker's `newsclean_model_articles` counter, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("newsclean_model_articles_total "):
                return float(line.split()[1])
    raise AssertionError("no newsclean_model_articles_total on /metrics")


async def test_enrich_stage_worker_envelopes_equal_the_inline_paths(pipelines, new_topic, produce, bootstrap_servers,
                                                                    tmp_path, extractor):
    raws = example_articles() + [i.raw for i in feed(30, seed=3)]
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "ner")
    worker = await pipeline.start_worker(**NER_ON)
    await produce(input_topic, [(None, raw, None) for raw in raws])
    wanted = {(item["uri"], item["version"]) for item in map(orjson.loads, raws)}
    live = await read_all(pipeline.output_topic, wanted, bootstrap_servers)
    inline = offline(raws, tmp_path, extractor)
    assert sum(len(e["entities"]) for e in inline.values()) > 20  # the model really ran
    assert live == inline
    assert model_work(worker) >= len(raws)  # every article went through this worker's model


async def test_enrich_stage_skewed_feed_spreads_the_model_work_over_two_workers(pipelines, new_topic, produce,
                                                                                 bootstrap_servers, tmp_path, extractor):
    items = feed(160, seed=17, sources=SKEWED)
    input_topic = await new_topic(4, "in")
    pipeline = await pipelines(input_topic, "skewed")
    workers = [await pipeline.start_worker(**NER_ON), await pipeline.start_worker(**NER_ON)]
    await produce(input_topic, [(orjson.loads(i.raw)["altIds"][0]["value"], i.raw, None) for i in items])
    live = await read_all(pipeline.output_topic, {(i.uri, i.version) for i in items}, bootstrap_servers)
    shares = [model_work(w) for w in workers]
    assert all(share > 0 for share in shares), shares  # both workers ran the model, although one source dominates
    assert sum(shares) >= len(items)
    assert live == offline([i.raw for i in items], tmp_path, extractor)


async def test_enrich_stage_crash_between_output_and_commit_loses_nothing(pipelines, new_topic, produce,
                                                                          bootstrap_servers, tmp_path, extractor):
    items = feed(60, seed=29)
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "crash")
    await produce(input_topic, [(None, i.raw, None) for i in items])
    crashing = await pipeline.start_worker(command=[sys.executable, "-m", "tests.support.crashing_enrich_worker"],
                                           **NER_ON)
    assert crashing.wait(120) == -9  # killed right after its first enrich batch's output was acked
    first = await read_records(pipeline.output_topic, lambda rs: bool(rs), 30, "the crashed batch's output",
                               bootstrap_servers=bootstrap_servers)
    await pipeline.start_worker(**NER_ON)
    live = await read_all(pipeline.output_topic, {(i.uri, i.version) for i in items}, bootstrap_servers)
    records = await read_records(pipeline.output_topic, lambda rs: len(rs) >= len(items) + len(first), 30,
                                 "the repeated batch too", bootstrap_servers=bootstrap_servers)
    keys = [(e["article"]["uri"], e["article"]["version"]) for e in map(orjson.loads, (r.value for r in records))]
    assert len(keys) > len(set(keys))  # the uncommitted batch came out again (`read_all`: identical copies)
    assert live == offline([i.raw for i in items], tmp_path, extractor)


async def test_enrich_stage_keeps_a_uris_version_cancel_and_tombstone_in_order(pipelines, new_topic, produce,
                                                                               bootstrap_servers):
    uri = "urn:newsclean:order:1"
    long_story = [f"The council of Westmoor met Mara Quill and Tobin Ash about the harbour, item {n}." for n in range(60)]
    first = article(uri, "1", START, SOURCES[0], "Westmoor council meets", long_story)
    canceled = orjson.dumps({**orjson.loads(first), "version": "2", "pubStatus": "canceled"})
    input_topic = await new_topic(1, "in")
    pipeline = await pipelines(input_topic, "order")
    await pipeline.start_worker(**NER_ON)
    await produce(input_topic, [(uri, first, None), (uri, canceled, None), (uri, None, None)])
    partitions = int(pipeline.env()["NEWSCLEAN_PARTITIONS"])  # `feed` sends a tombstone to every by-source partition
    records = await read_records(pipeline.output_topic,
                                 lambda rs: sum(r.key == uri.encode() and r.value is None for r in rs) >= partitions,
                                 90, "every copy of the tombstone", bootstrap_servers=bootstrap_servers)
    mine = [r for r in records if r.key == uri.encode()]
    order = ["tombstone" if r.value is None else orjson.loads(r.value)["status"] for r in mine]
    # Copies of the tombstone from other sources' partitions may come early (they delete nothing
    # the last one would not); the copy that followed the article must follow both versions.
    assert order[-1] == "tombstone"
    cleaned, passed = order.index("cleaned"), order.index("passed")
    assert cleaned < passed, order
    assert order.count("cleaned") == order.count("passed") == 1
    assert comparable(orjson.loads(mine[cleaned].value))["article"]["version"] == "1"
