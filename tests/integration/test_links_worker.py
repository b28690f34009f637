"""Links and feed-wide lines through the real broker: the single-partition feed stage between
route and the by-source clean agents gives, with two workers, the links and removals one worker
gives, and both equal the offline mode's."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import orjson

from streams.core.feedwide import state_view
from streams.core.models import MemoryStore
from streams.core.pipeline import process
from streams.core.settings import PipelineSettings

from tests.support.chaos import compact, read_topic
from tests.support.synthetic import START, FeedItem, article, feed
from tests.support.workers import offline

from .conftest import one_worker_then_two

TAGLINE = "Distributed worldwide by the Continental Wire news service."
SOURCES = ("Harbour Gazette", "Valley Courier", "Northern Ledger", "Coastline Wire", "Upland Echo")


def syndicated_feed(n: int, seed: int) -> list[FeedItem]:
    """The synthetic feed, plus reprints of earlier articles under other sources and uris (with a
    dateline and the reprinter's own furniture) and a wire tagline many sources carry."""
    rng = random.Random(seed)
    out: list[FeedItem] = []
    items = feed(n, seed=seed, sources=SOURCES[:4])
    updated = {item.uri for item in items if item.version != "1"}
    for number, item in enumerate(items):
        doc = orjson.loads(item.raw)
        paragraphs = _paragraphs(doc)
        source = doc["altIds"][0]["value"]
        if number > n // 2 and item.uri not in updated and rng.random() < 0.3:
            source = SOURCES[4]  # an outlet that joins the feed late: the tagline is new to it
        if rng.random() < 0.3:
            paragraphs.append(TAGLINE)
        out.append(_item(item.uri, item.version, _time(doc), source, paragraphs))
        if number > 10 and rng.random() < 0.15:
            original = orjson.loads(rng.choice(out[-10:]).raw)
            reprinter = rng.choice([s for s in SOURCES if s != original["altIds"][0]["value"]])
            copy = _paragraphs(original)
            copy[0] = f"SALTHOLM (Wire) - {copy[0]}"
            copy.append(f"Republished with permission by {reprinter}.")
            when = _time(doc) + timedelta(seconds=5)
            out.append(_item(f"urn:newsclean:reprint:{number}", "1", when, reprinter, copy))
    return out


def _first_sightings_removed(items: list[FeedItem], envelopes: dict) -> int:
    printed: set[str] = set()
    removed = 0
    for item in items:
        envelope = envelopes[(item.uri, item.version)]
        if TAGLINE in _paragraphs(orjson.loads(item.raw)) and envelope["source"] not in printed:
            printed.add(envelope["source"])
            removed += any(r["text"] == TAGLINE for r in envelope["removed"])
    return removed


def _paragraphs(doc: dict) -> list[str]:
    body = doc["bodies"][0]
    if body["contentType"] == "text/plain":
        return body["value"].split("\n\n")
    return [p.replace("&lt;", "<").replace("&amp;", "&") for p in body["value"][3:-4].split("</p><p>")]


def _time(doc: dict) -> datetime:
    return datetime.fromisoformat(doc["versionCreated"].replace("Z", "+00:00"))


def _item(uri: str, version: str, when: datetime, source: str, paragraphs: list[str]) -> FeedItem:
    return FeedItem(uri, version, article(uri, version, when, source, "Headline", paragraphs))


async def test_links_two_workers_give_the_links_and_removals_of_one(pipelines, new_topic, produce, bootstrap_servers, tmp_path):
    items = syndicated_feed(110, seed=17)
    assert min(_time(orjson.loads(i.raw)) for i in items) >= START
    # One input partition: the feed stage's order is the input order, whatever the workers.
    input_topic = await new_topic(1, "in")
    await produce(input_topic, [(None, i.raw, None) for i in items])
    wanted = {(i.uri, i.version) for i in items}
    single, double, one, two = await one_worker_then_two(pipelines, input_topic, wanted, bootstrap_servers)

    reprints = {key for key in wanted if key[0].startswith("urn:newsclean:reprint:")}
    linked = {key for key, envelope in single.items() if envelope["duplicate_of"]}
    assert len(reprints) >= 8 and linked == reprints  # every reprint linked, nothing else
    assert _first_sightings_removed(items, single)  # feed-wide: the tagline went where its source never printed it
    assert double == single
    assert single == offline([i.raw for i in items], tmp_path)
    # the feed table, read back from its changelog, holds what the offline run's store holds
    store = MemoryStore()
    process([(i.raw, {"file": "feed", "line": n}) for n, i in enumerate(items)], store, PipelineSettings(), None)
    for pipeline in (one, two):
        changelog = compact(await read_topic(bootstrap_servers, f"{pipeline.app_id}-feed-changelog"))
        assert changelog and state_view(changelog) == state_view(store.data)
