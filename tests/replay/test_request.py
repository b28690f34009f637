"""`streams.replay.request`: names, identity and conflicts, the tally."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest

from streams.config import Settings
from streams.replay.request import ReplayConflict, ReplayRequest, ReplayTally as Tally, conflict_check, identity, names_for
from streams.replay.journal import Restored

UTC = timezone.utc


def test_request_names_default_to_backfill_topics_and_a_derived_name():
    settings = Settings(app_id="nc", output_topic="clean", dlq_topic="dlq")
    request = ReplayRequest(topics=("news",), start=datetime(2019, 3, 1, tzinfo=UTC))
    names = names_for(request, settings)
    assert names.output_topic == "clean-backfill" and names.dlq_topic == "dlq-backfill"
    assert names.group.startswith("nc-replay-r") and names.state_topic == names.group + "-state"
    assert names_for(request, settings) == names  # the same command resumes the same replay
    other = names_for(ReplayRequest(topics=("news",), start=datetime(2019, 3, 2, tzinfo=UTC)), settings)
    assert other.name != names.name


def test_request_conflict_when_a_name_is_reused_with_other_arguments():
    settings = Settings()
    first = identity(ReplayRequest(topics=("news",), name="x"), settings)
    restored = Restored(plan={"identity": first})
    conflict_check(restored, first, names_for(ReplayRequest(name="x"), settings))  # same: fine
    later = identity(ReplayRequest(topics=("news",), name="x", start=datetime(2019, 1, 1, tzinfo=UTC)), settings)
    with pytest.raises(ReplayConflict, match="from"):
        conflict_check(restored, later, names_for(ReplayRequest(name="x"), settings))


def test_request_tally_round_trips_through_json():
    tally = Tally(read=5, written=4, dead_lettered=1, primed=3)
    tally.removed["boilerplate"] += 2
    tally.warm_removed_extra["boilerplate"] += 1
    again = Tally.from_json(orjson.loads(orjson.dumps(tally.to_json())))
    assert again.to_json() == tally.to_json()
    assert Tally.from_json(None).to_json()["removed"] == {"repeat": 0, "near_repeat": 0, "boilerplate": 0}
