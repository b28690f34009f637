"""`streams.worker.agents` without a broker: the clean agent's batch, route and feed, tombstones."""

from __future__ import annotations

import orjson
import pytest

from streams.batch import Outgoing
from streams.core.models import Entity, Mention
import streams.batch as batch
from streams.core.tombstone import KEYLESS_DETAIL
from streams.deadline import ArticleTimeout
import streams.worker.agents as agents
from streams.worker.headers import INPUT_TIME_HEADER, ORIGIN_HEADER
from tests.support.faust_fakes import Extractor, Message, article


async def _clean_sends(newsclean, monkeypatch, values) -> list[Outgoing]:
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    async def no_changelog(table, writes):
        return []  # the unit tests have no broker; the changelog path has its own tests

    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(agents, "send_changelog", no_changelog)
    await newsclean._clean_batch([m if isinstance(m, Message) else Message(m, offset=n) for n, m in enumerate(values)])
    return sent


async def _enrich_sends(newsclean, monkeypatch, staged: list[Outgoing]) -> list[Outgoing]:
    """The enrich agent's records for what `clean` sent to the enrich topic."""
    sent: list[Outgoing] = []

    async def capture(items, also=()):
        sent.extend(items)

    monkeypatch.setattr(agents, "deliver", capture)
    topic = newsclean.enrich_topic.get_topic_name()
    await newsclean._enrich_batch([Message(o.value, offset=n, key=o.key, topic=topic) for n, o in enumerate(staged)])
    return sent


async def _clean(newsclean, monkeypatch, values) -> list[dict]:
    """What reaches the output and the dead-letter topic, through the enrich stage when NER is on
    (the dead letters of `clean` first, then the enrich stage's records)."""
    sent = await _clean_sends(newsclean, monkeypatch, values)
    if newsclean.enrich_topic is not None:
        staged = [o for o in sent if o.topic is newsclean.enrich_topic]
        sent = [o for o in sent if o.topic is not newsclean.enrich_topic] + await _enrich_sends(newsclean, monkeypatch, staged)
    return [orjson.loads(item.value) for item in sent]


@pytest.fixture
def with_model():
    """The worker's app with NER on (the given extractor), so with the enrich stage."""
    from streams.config import Settings
    from streams.worker.app import Newsclean

    return lambda extractor: Newsclean(Settings(web_enabled=False), extractor, on_crash=lambda exc: None)


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


async def test_agents_entity_failure_costs_only_its_ownarticle(with_model, monkeypatch):
    newsclean = with_model(Extractor())
    records = await _clean(newsclean, monkeypatch, [article(0), article(1, "poison"), article(2)])
    assert [r.get("reason") or r["article"]["uri"] for r in records] == ["urn:app:0", "internal_error", "urn:app:2"]
    assert records[0]["entities"][0]["name"] == "Desk"


async def test_agents_articles_in_other_languages_skip_the_model(with_model, monkeypatch):
    newsclean = with_model(Extractor())
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


@pytest.mark.parametrize("fails", [False, True], ids=["delivered", "failed"])
async def test_agents_release_a_batch_after_its_delivery_or_its_failure(newsclean, monkeypatch, fails):
    messages = [Message(article(n), offset=n, key=b"k", topic="raw") for n in range(2)]
    released_when_delivered: list[bool] = []

    async def send(items, also=()):
        if fails:
            raise RuntimeError("the broker refused the batch")

    async def delivered(done):
        released_when_delivered.append(any(m.acked for m in done))

    async def batches(consumer, stream, size):
        yield messages

    monkeypatch.setattr(agents, "deliver", send)
    monkeypatch.setattr(agents, "take_arrived", batches)
    monkeypatch.setattr(newsclean.app.consumer, "admit", lambda events: _now(list(events)))
    monkeypatch.setattr(newsclean.app.consumer, "delivered", delivered)
    if fails:
        with pytest.raises(RuntimeError):
            await newsclean.route(object())
    else:
        await newsclean.route(object())
    assert released_when_delivered == ([] if fails else [False])  # not before the delivery
    assert all(m.acked for m in messages)  # then released, failed or not (the stop and rebalances wait for it)


async def _now(value):
    return value


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


async def test_agents_a_batch_reaches_the_model_at_once_and_each_article_gets_its_own_entities(with_model, monkeypatch):
    """A batch's prepared articles go to the model in one hand-over (the pool spreads their
    paragraphs over its processes); the entities go to their own articles, in order."""
    calls = []

    class Named(Extractor):
        def extract_many(self, items):
            calls.append(len(items))
            return [[Entity(item[0], "ORG", (Mention(item[0], 0, len(item[0]), "headline"),))] for item in items]

    newsclean = with_model(Named())
    count = 9
    records = await _clean(newsclean, monkeypatch, [article(n, f"Org{n}") for n in range(count)])
    assert calls == [count]
    assert [(r["article"]["uri"], r["entities"][0]["name"]) for r in records] == [(f"urn:app:{n}", f"Org{n}") for n in range(count)]


# ---------------------------------------------------------------- the enrich stage (NER on)


async def test_agents_clean_with_ner_sends_what_is_bound_for_the_output_to_the_enrich_topic_in_order(with_model, monkeypatch):
    newsclean = with_model(Extractor())
    headers = ((ORIGIN_HEADER, b'{"topic":"raw","partition":0,"offset":3}'), (INPUT_TIME_HEADER, b"1700000000.5"))
    canceled = orjson.loads(article(0))
    canceled.update(version="2", pubStatus="canceled")
    values = [article(0), b"\xffnot json", orjson.dumps(canceled), Message(None, offset=3, key=b"urn:app:0", headers=headers)]
    sent = await _clean_sends(newsclean, monkeypatch, values)
    assert not [o for o in sent if o.topic is newsclean.output]  # the model has not run: nothing is final yet
    assert [o.topic for o in sent] == [newsclean.enrich_topic, newsclean.dlq, newsclean.enrich_topic, newsclean.enrich_topic]
    staged = [o for o in sent if o.topic is newsclean.enrich_topic]
    assert [o.key for o in staged] == [b"urn:app:0"] * 3  # one uri, one enrich partition: its order holds
    out = await _enrich_sends(newsclean, monkeypatch, staged)
    assert [o.topic for o in out] == [newsclean.output] * 3
    envelope, passed = orjson.loads(out[0].value), orjson.loads(out[1].value)
    assert (envelope["status"], envelope["entities"][0]["name"]) == ("cleaned", "Desk")
    assert (passed["status"], passed["article"]["version"]) == ("passed", "2")
    assert out[0].timestamp_ms == out[1].timestamp_ms == 1_704_067_200_000  # the event time
    assert (out[2].key, out[2].value, out[2].timestamp_ms) == (b"urn:app:0", None, 1_700_000_000_500)
    assert newsclean.metrics.tombstones._value.get() == 1
    assert newsclean.metrics.articles_out._value.get() == 2


async def test_agents_enrich_stage_gives_the_inline_envelopes_and_counts_the_model_work(with_model, monkeypatch):
    from streams.core.models import MemoryStore
    from streams.core.pipeline import process
    from streams.core.settings import PipelineSettings

    newsclean = with_model(Extractor())
    german = orjson.dumps({**orjson.loads(article(1)), "language": "de"})
    values = [article(0, "Ferry strike"), german, article(2, "Rail strike")]
    staged = await _clean(newsclean, monkeypatch, values)
    origins = [{"topic": "nc-by-source", "partition": 0, "offset": n} for n in range(len(values))]
    inline = process(list(zip(values, origins)), MemoryStore(), PipelineSettings(), Extractor())

    def comparable(envelope):
        return {**envelope, "pipeline": {**envelope["pipeline"], "processed_at": None}}

    assert [comparable(e) for e in staged] == [comparable(o.envelope) for o in inline]
    assert newsclean.metrics.model_articles._value.get() == 2  # not the German one
    assert newsclean.metrics.model_paragraphs._value.get() == 4  # a headline and a paragraph each
    characters = len("Ferry strike") + len("Rail strike") + 2 * len("Paragraph of article 0.")
    assert newsclean.metrics.model_characters._value.get() == characters


async def test_agents_enrich_dead_letters_a_record_that_is_no_frame_and_goes_on(with_model, monkeypatch):
    newsclean = with_model(Extractor())
    staged = [o for o in await _clean_sends(newsclean, monkeypatch, [article(0)]) if o.topic is newsclean.enrich_topic]
    junk = Outgoing(newsclean.enrich_topic, b"urn:x", b"\x00\x00", "article")
    out = await _enrich_sends(newsclean, monkeypatch, [junk, *staged])
    assert [o.topic for o in out] == [newsclean.dlq, newsclean.output]
    dead = orjson.loads(out[0].value)
    assert dead["reason"] == "internal_error" and dead["input"]["offset"] == 0 and "enrich frame" in dead["detail"]


def _second_version(n: int, headline: str) -> bytes:
    item = orjson.loads(article(n, headline))
    return orjson.dumps({**item, "version": "2", "versionCreated": "2024-01-02T00:00:00Z"})


async def _enrich_two_batches(newsclean, monkeypatch, first_delivery, sent: list[Outgoing], reported: list[list[int]],
                              values=None) -> None:
    """The enrich agent's loop over two batches of one article each, taken together: what is
    sent goes into `sent`, in order, and the offsets of each batch reported delivered into
    `reported`, in order.
    `first_delivery(items, events)` stands for the first batch's sends; `events.second_in_model`
    is set once the second batch is in the model, `events.second_sent` once its records are
    out. The model runs on the event loop here, so the order of events is fixed."""
    import asyncio
    from types import SimpleNamespace

    values = values or [article(0, "One"), article(1, "Two")]
    staged = [o for o in await _clean_sends(newsclean, monkeypatch, values) if o.topic is newsclean.enrich_topic]
    topic = newsclean.enrich_topic.get_topic_name()
    messages = [Message(o.value, offset=n, key=o.key, topic=topic) for n, o in enumerate(staged)]
    in_model: list[list[str]] = []
    events = SimpleNamespace(second_in_model=asyncio.Event(), second_sent=asyncio.Event())

    async def model(drafts):
        in_model.append([one.envelope["article"]["headlines"][0]["value"] for one in drafts])
        if len(in_model) == 2:
            events.second_in_model.set()
        return batch.extract_each(newsclean.extractor, drafts)

    deliveries = []

    async def capture(items, also=()):
        deliveries.append(items)
        if len(deliveries) == 1:
            await first_delivery(items, events)
        sent.extend(items)
        if len(deliveries) == 2:
            events.second_sent.set()

    async def delivered(done):
        reported.append([m.offset for m in done])

    monkeypatch.setattr(newsclean, "_extract", model)
    monkeypatch.setattr(agents, "deliver", capture)
    monkeypatch.setattr(newsclean.app.consumer, "admit", lambda events: _now(list(events)))
    monkeypatch.setattr(newsclean.app.consumer, "delivered", delivered)

    async def batches(consumer, stream, size):
        yield messages[:1]
        yield messages[1:]

    monkeypatch.setattr(agents, "take_arrived", batches)
    try:
        await newsclean.enrich(object())
    finally:
        assert in_model == [["One"], ["Two"]]  # both in the model before the first is out


def _sent_versions(sent: list[Outgoing]) -> list[tuple[str, str]]:
    return [(env["article"]["uri"], env["article"]["version"]) for env in (orjson.loads(o.value) for o in sent)]


async def test_agents_enrich_lets_a_batch_of_other_uris_pass_one_not_out_yet_and_reports_them_in_order(with_model, monkeypatch):
    import asyncio

    async def slow_first(items, events):
        # the first batch's sends are not acked until the second batch's records are out
        await asyncio.wait_for(events.second_sent.wait(), 5)

    sent, reported = [], []
    await _enrich_two_batches(with_model(Extractor()), monkeypatch, slow_first, sent, reported)
    assert _sent_versions(sent) == [("urn:app:1", "1"), ("urn:app:0", "1")]  # the second passed the first
    assert reported == [[0], [1]]  # but the commit never passes a batch not yet out


async def test_agents_enrich_keeps_a_uris_records_in_order_across_batches(with_model, monkeypatch):
    import asyncio

    async def slow_first(items, events):
        await asyncio.wait_for(events.second_in_model.wait(), 5)  # the second is ready before the first is out

    values = [article(0, "One"), _second_version(0, "Two")]
    sent, reported = [], []
    await _enrich_two_batches(with_model(Extractor()), monkeypatch, slow_first, sent, reported, values)
    assert _sent_versions(sent) == [("urn:app:0", "1"), ("urn:app:0", "2")]
    assert reported == [[0], [1]]


@pytest.mark.parametrize("same_uri", [True, False], ids=["same-uri", "other-uri"])
async def test_agents_enrich_reports_nothing_after_a_batch_whose_output_failed(with_model, monkeypatch, same_uri):
    import asyncio

    async def failing(items, events):
        await asyncio.wait_for(events.second_in_model.wait(), 5)
        raise RuntimeError("the output topic refused the batch")

    values = [article(0, "One"), _second_version(0, "Two") if same_uri else article(1, "Two")]
    sent, reported = [], []
    with pytest.raises(ExceptionGroup) as raised:
        await _enrich_two_batches(with_model(Extractor()), monkeypatch, failing, sent, reported, values)
    assert raised.group_contains(RuntimeError, match="refused")
    assert reported == []  # neither batch is committed: the second is read again after the restart
    # the second version, through the model already, never overtakes the first; another uri may
    assert _sent_versions(sent) == ([] if same_uri else [("urn:app:1", "1")])
