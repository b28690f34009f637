"""`streams.worker.drafts`: the enrich topic's frames round-trip every outcome and its input."""

from __future__ import annotations

import pytest

from streams.batch import Incoming
from streams.core.mentions import ItemMetadata
from streams.core.pipeline import Draft, Passed
from streams.core.tombstone import Tombstone
from streams.worker import drafts

ORIGIN = {"topic": "raw", "partition": 2, "offset": 41}
ENVELOPE = {"article": {"uri": "urn:x:1", "headline": "Zürich “quotes”"}, "entities": [], "ner": {"ran": True, "reason": None},
            "removed": [{"similarity": 0.9231}], "status": "cleaned"}


@pytest.mark.parametrize("outcome", [
    Draft(b"urn:x:1", 1_700_000_000_123, ENVELOPE,
          ("Zürich “quotes”", ["First paragraph.", "", "Third\u2028one 🌍"], ItemMetadata(source="Desk", by="A. Writer"))),
    Draft(b"urn:x:1", 0, {**ENVELOPE, "ner": {"ran": False, "reason": "language", "language": "de"}}, None),
    Passed(b"urn:x:1", 1_700_000_000_000, {**ENVELOPE, "status": "passed"}, "canceled"),
    Tombstone(b"urn:x:1", 1_700_000_000_500),
    Tombstone(b"\x00\xffkey", None),
], ids=["draft", "draft-no-model", "passed", "tombstone", "tombstone-binary-key-no-time"])
@pytest.mark.parametrize("raw", [b'{"uri": "urn:x:1"}', b"\xff\x00not utf-8", b""], ids=["json", "bytes", "empty"])
@pytest.mark.parametrize("key", [b"Desk", None], ids=["key", "no-key"])
def test_drafts_frame_round_trips_outcome_and_input(outcome, raw, key):
    incoming = Incoming(raw, key, ORIGIN)
    frame = drafts.decode(drafts.encode(outcome, incoming))
    assert frame.outcome == outcome
    assert (frame.incoming.value, frame.incoming.key, frame.incoming.origin) == (raw, key, ORIGIN)


def test_drafts_frame_carries_the_original_bytes_verbatim():
    raw = b'{"uri": "urn:x:1", "bodies": []}'
    value = drafts.encode(Tombstone(b"urn:x:1", None), Incoming(raw, None, ORIGIN))
    assert value.endswith(raw)  # not base64: the frame costs the input's size once


@pytest.mark.parametrize("value", [None, b"", b"\x00\x00", b"\x00\x00\x00\x09{}", b"\x00\x00\x00\x02{}",
                                   b"\x00\x00\x00\x0f{\"kind\":\"what\"}", b"\x00\x00\x00\x03nul"])
def test_drafts_a_record_that_is_no_frame_is_refused(value):
    with pytest.raises(drafts.BadFrame):
        drafts.decode(value)
