"""The worker through the real broker: output key/timestamp/envelope, dead letters, parity with
the offline mode."""

from __future__ import annotations

import base64
import io
import uuid

import orjson
import pytest

from streams.core.models import MemoryStore
from streams.core.settings import PipelineSettings
from streams.offline import clean_file
from streams.schemas import validator

from tests.support.workers import comparable, example_articles, make_pipeline


@pytest.fixture
async def pipeline(bootstrap_servers, new_topic, tmp_path):
    made = make_pipeline(
        bootstrap_servers, tmp_path, await new_topic(1, "in"), await new_topic(1, "out"), await new_topic(1, "dlq")
    )
    yield made
    await made.stop_all()


async def test_worker_valid_article_reaches_output_with_key_timestamp_and_envelope(pipeline, produce, consume, consume_until):
    await pipeline.start_worker()
    first, second = example_articles()[:2]
    bad = b'{"uri": "urn:x", "bodies": "not a list"}'
    await produce(pipeline.input_topic, [(b"a", first, None), (b"b", b"\xffnot json", None), (b"c", bad, None), (b"d", second, None)])

    # no order across uris (README "Guarantees"): the two come from different sources' partitions
    out = sorted(await consume(pipeline.output_topic, 2), key=lambda r: orjson.loads(r.value)["pipeline"]["input"]["offset"])
    envelopes = [orjson.loads(r.value) for r in out]
    for record, envelope, raw in zip(out, envelopes, (first, second)):
        article = orjson.loads(raw)
        assert record.key == article["uri"].encode()
        assert envelope["article"]["uri"] == article["uri"]
        assert envelope["article"]["version"] == article["version"]
        assert record.timestamp == _ms(article["versionCreated"])
        assert not list(validator("envelope.schema.json").iter_errors(envelope))
        assert envelope["pipeline"]["input"]["topic"] == pipeline.input_topic
    assert [e["pipeline"]["input"]["offset"] for e in envelopes] == [0, 3]

    dead = [orjson.loads(r.value) for r in await consume(pipeline.dlq_topic, 2)]
    assert [d["reason"] for d in dead] == ["not_utf8", "schema"]
    assert [base64.b64decode(d["original"]) for d in dead] == [b"\xffnot json", bad]
    assert [d["input"]["offset"] for d in dead] == [1, 2]
    for record in dead:
        assert not list(validator("dead-letter.schema.json").iter_errors(record))


async def test_worker_and_offline_mode_give_the_same_envelopes(pipeline, produce, consume):
    raws = example_articles()
    await pipeline.start_worker()
    await produce(pipeline.input_topic, [(None, raw, None) for raw in raws])
    live = [orjson.loads(r.value) for r in await consume(pipeline.output_topic, len(raws), timeout=60)]

    source = pipeline.tmp / "in.jsonl"
    source.write_bytes(b"\n".join(raws))
    out = io.BytesIO()
    clean_file(str(source), out, None, PipelineSettings(), extractor=None, store=MemoryStore())
    offline = [orjson.loads(line) for line in out.getvalue().splitlines()]

    assert len(live) == len(offline) == len(raws)
    assert {e["article"]["uri"]: comparable(e) for e in live} == {e["article"]["uri"]: comparable(e) for e in offline}


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


async def test_worker_refuses_to_start_on_an_input_topic_that_does_not_exist(pipelines):
    pipeline = await pipelines(f"absent-{uuid.uuid4().hex}", "absent")
    with pytest.raises(RuntimeError, match="exited with 2") as refused:
        await pipeline.start_worker()
    assert "do not exist" in str(refused.value)  # after the bounded wait for the broker's metadata
