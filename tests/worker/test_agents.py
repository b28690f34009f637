"""`streams.worker.agents` without a broker: the clean agent's batch, route and feed, tombstones."""

from __future__ import annotations

import orjson

from streams.batch import Outgoing
from streams.core.models import Entity, Mention
import streams.batch as batch
from streams.core.tombstone import KEYLESS_DETAIL
from streams.deadline import ArticleTimeout
import streams.worker.agents as agents
from streams.worker.headers import INPUT_TIME_HEADER, ORIGIN_HEADER
from tests.support.faust_fakes import Extractor, Message, article


async def _clean(newsclean, monkeypatch, values) -> list[dict]:
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def no_changelog(table, writes):
        return []  # the unit tests have no broker; the changelog path has its own tests

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(agents, "send_changelog", no_changelog)
    await newsclean._clean_batch([Message(v, offset=n) for n, v in enumerate(values)])
    return [orjson.loads(item.value) for item in sent]


async def test_agents_unexpected_error_in_one_article_is_dead_lettered_as_internal_error(newsclean, monkeypatch):
    real = batch.prepare

    def failing(raw, *args, **kwargs):
        if b"urn:app:1" in raw:
            raise ZeroDivisionError("a bug in the core")
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(batch, "prepare", failing)
    records = await _clean(newsclean, monkeypatch, [article(0), article(1), article(2)])
    assert [r.get("reason") or r["article"]["uri"] for r in records] == ["urn:app:0", "internal_error", "urn:app:2"]
    assert "ZeroDivisionError: a bug in the core" in records[1]["detail"]


async def test_agents_entity_failure_costs_only_its_ownarticle(newsclean, monkeypatch):
    newsclean.extractor = Extractor()
    records = await _clean(newsclean, monkeypatch, [article(0), article(1, "poison"), article(2)])
    assert [r.get("reason") or r["article"]["uri"] for r in records] == ["urn:app:0", "internal_error", "urn:app:2"]
    assert records[0]["entities"][0]["name"] == "Desk"


async def test_agents_articles_in_other_languages_skip_the_model(newsclean, monkeypatch):
    newsclean.extractor = Extractor()
    german = orjson.loads(article(1, "poison"))  # the model would fail on it: it must never see it
    values = [article(0), orjson.dumps({**german, "language": "de-CH"}), article(2)]
    records = await _clean(newsclean, monkeypatch, values)
    assert [r["ner"] for r in records] == [
        {"ran": True, "reason": None},
        {"ran": False, "reason": "language", "language": "de-CH"},
        {"ran": True, "reason": None},
    ]
    assert [len(r["entities"]) for r in records] == [1, 0, 1]


async def test_agents_failed_article_leaves_no_trace_in_the_feed_state(newsclean, monkeypatch):
    def half_way(raw, origin, store, *args, **kwargs):
        store.set("written-before-the-failure", b"x")
        raise ArticleTimeout

    monkeypatch.setattr(batch, "prepare", half_way)
    records = await _clean(newsclean, monkeypatch, [article(0)])
    assert records[0]["reason"] == "too_slow"
    assert b"written-before-the-failure" not in newsclean.seen.data


# ---------------------------------------------------------------- tombstones


async def _route(newsclean, monkeypatch, messages, agent: str = "route") -> list[Outgoing]:
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def admit(events):
        return list(events)

    async def delivered(messages):
        pass

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(newsclean.app.consumer, "admit", admit)
    monkeypatch.setattr(newsclean.app.consumer, "delivered", delivered)

    async def batches(consumer, stream, size):
        yield messages

    monkeypatch.setattr(agents, "take_arrived", batches)
    await getattr(newsclean, agent)(object())
    return sent


async def test_agents_route_and_feed_send_a_tombstone_to_every_by_source_partition(newsclean, monkeypatch):
    tomb = Message(None, offset=3, key=b"urn:app:0", topic="raw", timestamp=1_700_000_000.5)
    routed = await _route(newsclean, monkeypatch, [Message(article(0), offset=2, key=b"urn:app:0", topic="raw"), tomb])
    # the tombstone takes the article's way, behind it: it never overtakes the envelope it deletes
    assert [(o.topic, o.value) for o in routed] == [(newsclean.feed_topic, article(0)), (newsclean.feed_topic, None)]
    passed = Message(None, offset=9, key=routed[1].key, topic=newsclean.feed_topic.get_topic_name(),
                      headers=tuple(routed[1].headers))
    tombstones = await _route(newsclean, monkeypatch, [passed], agent="feed")
    assert [o.partition for o in tombstones] == list(range(newsclean.settings.partitions))
    assert all(o.topic is newsclean.by_source and o.value is None and o.key == b"urn:app:0" for o in tombstones)
    headers = dict(tombstones[0].headers)
    assert orjson.loads(headers[ORIGIN_HEADER]) == {"topic": "raw", "partition": 0, "offset": 3}
    assert headers[INPUT_TIME_HEADER] == b"1700000000.5"


async def test_agents_route_dead_letters_a_tombstone_without_a_key_and_an_empty_value_is_not_a_tombstone(newsclean, monkeypatch):
    sent = await _route(newsclean, monkeypatch, [Message(None, offset=0, topic="raw"), Message(b"", offset=1, key=b"k", topic="raw")])
    assert [o.topic for o in sent] == [newsclean.dlq, newsclean.dlq]
    keyless, empty = (orjson.loads(o.value) for o in sent)
    assert keyless["reason"] == "empty" and "nothing to delete" in keyless["detail"]
    assert empty["detail"] != KEYLESS_DETAIL  # b"" is a broken message, judged by decode, not a tombstone


async def test_agents_clean_forwards_a_tombstone_to_the_output_under_its_key(newsclean, monkeypatch):
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def no_changelog(table, writes):
        return []

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(agents, "send_changelog", no_changelog)
    headers = ((ORIGIN_HEADER, b'{"topic":"raw","partition":0,"offset":3}'), (INPUT_TIME_HEADER, b"1700000000.5"))
    await newsclean._clean_batch([Message(article(0), offset=0), Message(None, offset=1, key=b"urn:app:0", headers=headers)])
    envelope, tomb = sent
    assert envelope.topic is newsclean.output and orjson.loads(envelope.value)["article"]["uri"] == "urn:app:0"
    assert tomb.topic is newsclean.output and (tomb.key, tomb.value, tomb.timestamp_ms) == (b"urn:app:0", None, 1_700_000_000_500)
    assert newsclean.metrics.tombstones._value.get() == 1


async def test_agents_a_batch_reaches_the_model_at_once_and_each_article_gets_its_own_entities(newsclean, monkeypatch):
    """A batch's prepared articles go to the model in one hand-over (the pool spreads their
    paragraphs over its processes); the entities go to their own articles, in order."""
    calls = []

    class Named(Extractor):
        def extract_many(self, items):
            calls.append(len(items))
            return [[Entity(item[0], "ORG", (Mention(item[0], 0, len(item[0]), "headline"),))] for item in items]

    newsclean.extractor = Named()
    count = 9
    records = await _clean(newsclean, monkeypatch, [article(n, f"Org{n}") for n in range(count)])
    assert calls == [count]
    assert [(r["article"]["uri"], r["entities"][0]["name"]) for r in records] == [(f"urn:app:{n}", f"Org{n}") for n in range(count)]
