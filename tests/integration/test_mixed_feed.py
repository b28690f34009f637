"""A mixed feed through the real broker: ninjs 1.x, 2.x and 3.1 text items, a picture, an event, a
canceled version of a cleaned item, a German article, an item without any time, a tombstone and a
broken message. Every message is accounted for on the output or dead-letter topic, with the right
key and status."""

from __future__ import annotations

import orjson

from streams.schemas import validator


SOURCE = [{"role": "source", "value": "Mixed Desk"}]
V1 = {"uri": "urn:mixed:v1", "headline": "Ferry strike ends", "versioncreated": "2024-03-01T06:00:00+0000",
      "body_text": "The strike ended on Monday.\n\nFerries sail again.", "byline": "A Reporter",
      "associations": {"featureimage": {"uri": "urn:mixed:v1-pic", "type": "picture"}}}
V2 = {"uri": "urn:mixed:v2", "versioncreated": "2024-03-01T06:01:00Z", "altids": SOURCE,
      "headlines": [{"role": "main", "value": "Harbour reopens"}],
      "bodies": [{"role": "main", "contenttype": "text/html", "value": "<p>The harbour reopened.</p><p>Boats left.</p>"}]}
V31 = {"uri": "urn:mixed:v31", "versionCreated": "2024-03-01T06:02:00Z", "altIds": SOURCE,
       "headlines": [{"role": "main", "value": "Bridge opens"}],
       "bodies": [{"role": "main", "contentType": "text/plain", "value": "The bridge opened.\n\nTraffic flows."}]}
PICTURE = {"uri": "urn:mixed:pic", "type": "picture", "versionCreated": "2024-03-01T06:03:00Z", "altIds": SOURCE,
           "renditions": [{"name": "web", "href": "https://example.com/p.jpg", "contentType": "image/jpeg"}]}
EVENT = {"standard": {"name": "ninjs", "version": "3.0"}, "uri": "urn:mixed:event", "type": "event", "altIds": SOURCE,
         "eventDetails": {"dates": {"startDate": "2024-03-05T09:00:00Z"}}}
CANCELED = {**V31, "versionCreated": "2024-03-01T06:04:00Z", "pubStatus": "canceled"}
GERMAN = {"uri": "urn:mixed:de", "language": "de-DE", "versionCreated": "2024-03-01T06:05:00Z", "altIds": SOURCE,
          "headlines": [{"role": "main", "value": "Die Fähre fährt wieder"}],
          "bodies": [{"role": "main", "value": "Die Straße zum Hafen ist offen.\n\nDie Fähren fahren."}]}
UNTIMED = {"uri": "urn:mixed:untimed", "altIds": SOURCE, "bodies": [{"role": "main", "value": "No time given."}]}
BROKEN = b'{"uri": "urn:mixed:broken", "headlines": "not a list"}'
RECORD_TIME_MS = 1709272800000  # 2024-03-01T06:00:00Z, the producer's timestamp of the untimed item

EXPECTED = [  # (uri, status, input_version)
    ("urn:mixed:v1", "cleaned", "1.6"), ("urn:mixed:v2", "cleaned", "2.2"), ("urn:mixed:v31", "cleaned", "3.1"),
    ("urn:mixed:pic", "passed", "3.1"), ("urn:mixed:event", "passed", "3.0"), ("urn:mixed:v31", "passed", "3.1"),
    ("urn:mixed:de", "cleaned", "3.1"), ("urn:mixed:untimed", "cleaned", "3.1"),
]
PARTITIONS = 4  # the by-source topic's (tests/support/workers.py): each forwards a tombstone once


async def test_mixed_feed_every_message_is_accounted_for(pipeline, produce, consume):
    await pipeline.start_worker(NEWSCLEAN_NER_ENABLED="false")
    values = [orjson.dumps(d) for d in (V1, V2, V31, PICTURE, EVENT, CANCELED, GERMAN)]
    await produce(pipeline.input_topic, [(None, v, None) for v in values])
    await produce(pipeline.input_topic, [(None, orjson.dumps(UNTIMED), RECORD_TIME_MS), (None, BROKEN, None),
                                         (b"urn:mixed:pic", None, None)])

    out = await consume(pipeline.output_topic, len(EXPECTED) + PARTITIONS, timeout=60)
    envelopes = [(r, orjson.loads(r.value)) for r in out if r.value is not None]
    # sources spread over the by-source partitions: compare as a set, order only within one uri
    assert sorted((e["article"]["uri"], e["status"], e["input_version"]) for _, e in envelopes) == sorted(EXPECTED)
    for record, envelope in envelopes:
        assert record.key == envelope["article"]["uri"].encode()
        assert not list(validator("envelope.schema.json").iter_errors(envelope))
    by_uri = {}
    for record, envelope in envelopes:
        by_uri.setdefault(envelope["article"]["uri"], []).append(envelope)
    [v1], [untimed] = by_uri["urn:mixed:v1"], by_uri["urn:mixed:untimed"]
    assert v1["article"]["associations"] == [{"name": "featureimage", "uri": "urn:mixed:v1-pic", "type": "picture"}]
    assert [e["status"] for e in by_uri["urn:mixed:v31"]] == ["cleaned", "passed"]  # the kill comes last
    assert by_uri["urn:mixed:v31"][1]["article"]["pubStatus"] == "canceled"
    assert untimed["event_time_source"] == "record_timestamp"
    assert next(r for r, e in envelopes if e is untimed).timestamp == RECORD_TIME_MS
    tombstones = [r for r in out if r.value is None]
    assert len(tombstones) == PARTITIONS and {r.key for r in tombstones} == {b"urn:mixed:pic"}
    assert [r.value for r in out if r.key == b"urn:mixed:pic"][-1] is None  # compaction drops the picture

    [dead] = [orjson.loads(r.value) for r in await consume(pipeline.dlq_topic, 1)]
    assert dead["reason"] == "schema" and dead["input"]["offset"] == 8
