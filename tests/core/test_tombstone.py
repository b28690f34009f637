from datetime import datetime, timezone

from streams.core.pipeline import Rejected
from streams.core.tombstone import Tombstone, tombstone
from streams.schemas import validator

NOW = datetime(2026, 3, 2, tzinfo=timezone.utc)


def test_tombstone_with_a_key_is_forwarded_under_that_key():
    assert tombstone(b"urn:article:1", 1_700_000_000_000, {"topic": "in", "partition": 0, "offset": 4}, NOW) == \
        Tombstone(b"urn:article:1", 1_700_000_000_000)


def test_tombstone_without_a_key_is_dead_lettered_as_empty():
    for key in (None, b""):
        outcome = tombstone(key, None, {"topic": "in", "partition": 0, "offset": 4}, NOW)
        assert isinstance(outcome, Rejected) and outcome.reason == "empty"
        assert outcome.record["original"] == "" and outcome.record["input"]["offset"] == 4
        assert "nothing to delete" in outcome.record["detail"]
        assert not list(validator("dead-letter.schema.json").iter_errors(outcome.record))
