"""The one batch path (streams/batch.py) on its own, with the memory store: each outcome, the
per-article transaction, the enrichment fallback, the records and what they count."""

from __future__ import annotations

import base64
from concurrent.futures.process import BrokenProcessPool

import orjson
import pytest

import streams.batch as batch
from streams.batch import (
    Incoming,
    StoreState,
    Tally,
    conclude,
    decide,
    enrich_each,
    prepared_of,
    to_record,
)
from streams.core.models import ArticleWrites, MemoryStore
from streams.core.pipeline import Passed, Prepared, Processed, Rejected, Skipped
from streams.core.settings import PipelineSettings
from streams.core.tombstone import Tombstone
from streams.deadline import ArticleTimeout

SETTINGS = PipelineSettings()
ORIGIN = {"topic": "raw", "partition": 0, "offset": 7}


def _article(n: int, headline: str = "Headline", **extra) -> bytes:
    return orjson.dumps({"uri": f"urn:batch:{n}", "version": "1", "versionCreated": "2024-01-01T00:00:00Z",
                         "headlines": [{"role": "main", "value": headline}],
                         "bodies": [{"role": "main", "value": f"Paragraph of article {n}."}],
                         "altIds": [{"role": "source", "value": "Desk"}], **extra})


def _in(value: bytes | None, key: bytes | None = b"k", **kwargs) -> Incoming:
    return Incoming(value, key, dict(ORIGIN), **kwargs)


class _Extractor:
    languages = ("en",)

    def __init__(self, error: type[BaseException] = RuntimeError) -> None:
        self.error = error

    def extract_many(self, items):
        if any(item[0] == "poison" for item in items):
            raise self.error("the model failed on this text")
        return [[] for _ in items]


def _run(values, extractor=None, store=None):
    state = StoreState(store if store is not None else MemoryStore())
    incomings = [_in(v) for v in values]
    decided = [decide(one, state, SETTINGS) for one in incomings]
    return incomings, conclude(incomings, decided, enrich_each(extractor, prepared_of(decided)), SETTINGS.limits)


def test_batch_decide_gives_each_kind_of_message_its_outcome():
    state = StoreState(MemoryStore())
    picture = orjson.dumps({"uri": "urn:batch:p", "type": "picture", "versionCreated": "2024-01-01T00:00:00Z"})
    outcomes = [decide(_in(v, key), state, SETTINGS) for v, key in
                [(_article(0), b"k"), (None, b"urn:batch:0"), (None, None), (b"not json", b"k"), (picture, b"k")]]
    assert [type(o) for o in outcomes] == [Prepared, Tombstone, Rejected, Rejected, Passed]
    assert outcomes[2].reason == "empty" and outcomes[3].record["input"] == ORIGIN


def test_batch_tombstone_keeps_the_input_time_in_ms():
    outcome = decide(_in(None, b"urn:batch:0", timestamp_ms=1_700_000_000_500), StoreState(MemoryStore()), SETTINGS)
    assert outcome == Tombstone(b"urn:batch:0", 1_700_000_000_500)


def test_batch_article_failing_half_way_is_dead_lettered_and_leaves_no_trace(monkeypatch):
    def half_way(raw, origin, store, *args, **kwargs):
        store.set("written-before-the-failure", b"x")
        raise ArticleTimeout

    store = MemoryStore()
    monkeypatch.setattr(batch, "prepare", half_way)
    outcome = decide(_in(_article(0)), StoreState(store), SETTINGS)
    assert isinstance(outcome, Rejected) and outcome.reason == "too_slow"
    assert store.data == {}


def test_batch_internal_error_is_dead_lettered_with_its_type(monkeypatch):
    monkeypatch.setattr(batch, "prepare", lambda *args, **kwargs: 1 / 0)
    outcome = decide(_in(_article(0)), StoreState(MemoryStore()), SETTINGS)
    assert outcome.reason == "internal_error" and "ZeroDivisionError" in outcome.record["detail"]


def test_batch_entity_failure_costs_only_its_own_article():
    _, final = _run([_article(0), _article(1, "poison"), _article(2)], _Extractor())
    assert [type(o) for o in final] == [Processed, Rejected, Processed]
    assert final[1].reason == "internal_error"


def test_batch_broken_process_pool_stops_the_batch():
    with pytest.raises(BrokenProcessPool):
        _run([_article(0), _article(1, "poison")], _Extractor(BrokenProcessPool))


def test_batch_records_carry_kind_key_and_time_in_ms():
    incomings, final = _run([_article(0), None, b"{"])
    records = [to_record(one, o, "out", "dlq") for one, o in zip(incomings, final)]
    assert [(r.topic, r.kind) for r in records] == [("out", "envelope"), ("out", "tombstone"), ("dlq", "dead_letter")]
    assert records[0].key == b"urn:batch:0" and records[0].timestamp_ms == 1_704_067_200_000
    assert orjson.loads(records[2].value)["reason"] == "not_json"


def test_batch_envelope_refused_as_too_large_becomes_its_dead_letter():
    refused = []
    incomings, final = _run([_article(0)])
    record = to_record(incomings[0], final[0], "out", "dlq", on_refused=refused.append)
    instead = record.instead(RuntimeError("too large"))
    letter = orjson.loads(instead.value)
    assert (instead.topic, instead.kind, letter["reason"]) == ("dlq", "dead_letter", "output_too_large")
    assert letter["input"] == ORIGIN and [r.reason for r in refused] == ["output_too_large"]


def test_batch_dead_letter_too_large_for_its_topic_keeps_an_excerpt():
    incomings, final = _run([b"x" * 200_000])
    record = to_record(incomings[0], final[0], "out", "dlq")
    shorter = orjson.loads(record.instead(RuntimeError("too large")).value)
    assert "original truncated to 65536 of 200000 bytes" in shorter["detail"]
    assert len(base64.b64decode(shorter["original"])) == 65536


def test_batch_tally_counts_what_was_sent():
    tally = Tally()
    incomings, final = _run([_article(0), None, b"{"])
    for one, outcome in zip(incomings, final):
        tally.count(to_record(one, outcome, "out", "dlq"))
    tally.count(to_record(incomings[0], Skipped("non_text", "urn:x", ORIGIN), "out", "dlq"))
    assert (tally.written, tally.tombstones, tally.dead_lettered, tally.skipped) == (2, 1, 1, 1)


def test_batch_article_writes_apply_only_on_commit():
    base = MemoryStore()
    base.set("kept", b"1")
    writes = ArticleWrites(base)
    writes.set("new", b"2")
    writes.delete("kept")
    assert (writes.get("new"), writes.get("kept"), base.get("new")) == (b"2", None, None)
    writes.commit()
    assert base.data == {"new": b"2"}
