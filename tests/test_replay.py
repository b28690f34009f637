"""Replay without a broker: arguments, range resolution, progress lines, names, the journal."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import orjson
import pytest
from aiokafka import TopicPartition

from streams.config import Settings
from streams.replay.request import ReplayConflict, ReplayRequest, ReplayTally as Tally, conflict_check, identity, names_for
from streams.replay.cli import parse_request
from streams.batch import ArticleWrites as ArticleStore
from streams.replay.journal import PLAN, PROGRESS, JournalStore, Restored, apply_record, checkpoint_records
from streams.replay.progress import Progress, Snapshot, eta_seconds, progress_record
from streams.replay.ranges import (
    OffsetRequest,
    RangeError,
    Span,
    explicit_spans,
    parse_offsets,
    parse_partitions,
    parse_time,
    time_spans,
)

UTC = timezone.utc
T0, T1 = TopicPartition("news", 0), TopicPartition("news", 1)


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-03-01T00:00Z", datetime(2019, 3, 1, tzinfo=UTC)),
        ("2019-03-01", datetime(2019, 3, 1, tzinfo=UTC)),
        ("2019-03-01T01:30:00+01:00", datetime(2019, 3, 1, 0, 30, tzinfo=UTC)),
        ("2019-03-01 10:00", datetime(2019, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_replay_parse_time_reads_iso_and_defaults_to_utc(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("news:0:10-20", (OffsetRequest("news", 0, 10, 20),)),
        ("news:0:10-", (OffsetRequest("news", 0, 10, None),)),
        ("news:1:-20", (OffsetRequest("news", 1, None, 20),)),
        ("news:2", (OffsetRequest("news", 2, None, None),)),
        ("a.b-c_d:0:0-5, news:3:7-9", (OffsetRequest("a.b-c_d", 0, 0, 5), OffsetRequest("news", 3, 7, 9))),
    ],
)
def test_replay_parse_offsets_forms(spec, expected):
    assert parse_offsets(spec) == expected


@pytest.mark.parametrize("spec", ["news", "news:x:1-2", "news:0:5-2", "news:0:1-2,news:0:3-4", "", "news:0:1:2"])
def test_replay_parse_offsets_rejects_malformed(spec):
    with pytest.raises(RangeError):
        parse_offsets(spec)


@pytest.mark.parametrize(("text", "expected"), [("0", (0,)), ("2,0", (0, 2)), ("0,3-5", (0, 3, 4, 5))])
def test_replay_parse_partitions(text, expected):
    assert parse_partitions(text) == expected


def test_replay_parse_request_builds_the_request():
    request = parse_request(["news", "--from", "2019-03-01", "--to", "2019-04-01T00:00Z", "--name", "march",
                             "--warm-from", "2019-02-22", "--rate", "50", "--no-ner", "--dry-run", "--partitions", "0,1"])
    assert request == ReplayRequest(
        topics=("news",), start=datetime(2019, 3, 1, tzinfo=UTC), end=datetime(2019, 4, 1, tzinfo=UTC),
        name="march", warm_from=datetime(2019, 2, 22, tzinfo=UTC), rate=50.0, ner=False, dry_run=True,
        partitions=(0, 1),
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["news", "--from", "2019-04-01", "--to", "2019-03-01"],  # to before from
        ["news", "--warm-from", "2019-02-01"],  # warm start without --from
        ["news", "--from", "2019-03-01", "--warm-from", "2019-03-02"],  # warm window after the range
        ["news", "--offsets", "news:0:1-2"],  # offsets name their own topics
        ["--offsets", "news:0:1-2", "--from", "2019-03-01"],
        ["news", "--name", "no spaces"],
        ["news", "--rate", "0"],
        ["news", "--from", "March"],
    ],
)
def test_replay_parse_request_rejects_contradictions(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_request(argv)
    assert exited.value.code == 2
    assert "error" in capsys.readouterr().err


# ------------------------------------------------------------------ range resolution


def test_replay_time_spans_cut_at_offsets_for_times_answers():
    beginnings, ends = {T0: 0, T1: 5}, {T0: 100, T1: 50}
    spans = time_spans([T1, T0], beginnings, ends, at_from={T0: 10, T1: 20}, at_to={T0: 30, T1: None})
    # T1 has no record at or after `to`: its span runs to the snapshotted end
    assert spans == [Span("news", 0, 10, 30), Span("news", 1, 20, 50)]


@pytest.mark.parametrize(
    ("at_from", "at_to", "expected"),
    [
        (None, None, (3, 40)),  # whole partition
        ({T0: None}, None, (40, 40)),  # nothing at or after `from`: empty
        ({T0: 1}, None, (3, 40)),  # before the log start (retention): from the start
        ({T0: 45}, None, (40, 40)),  # the log grew after the end snapshot
        (None, {T0: 60}, (3, 40)),  # `to` beyond the snapshot: capped
        ({T0: 10}, {T0: 10}, (10, 10)),  # empty range
    ],
)
def test_replay_time_spans_edge_cases(at_from, at_to, expected):
    (span,) = time_spans([T0], {T0: 3}, {T0: 40}, at_from, at_to)
    assert (span.start, span.end) == expected
    assert span.size == expected[1] - expected[0]


def test_replay_consecutive_time_ranges_tile_the_log():
    beginnings, ends = {T0: 0}, {T0: 90}
    cuts = [{T0: 0}, {T0: 30}, {T0: 60}, {T0: None}]
    spans = [time_spans([T0], beginnings, ends, a, b)[0] for a, b in zip(cuts, cuts[1:])]
    assert [(s.start, s.end) for s in spans] == [(0, 30), (30, 60), (60, 90)]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (OffsetRequest("news", 0, 10, 20), (10, 20)),
        (OffsetRequest("news", 0, None, 20), (3, 20)),
        (OffsetRequest("news", 0, 10, None), (10, 40)),
        (OffsetRequest("news", 0, 0, 99), (3, 40)),  # clamped to what the log holds
        (OffsetRequest("news", 0, 50, 60), (40, 40)),
    ],
)
def test_replay_explicit_spans_clamp_to_the_log(request_, expected):
    (span,) = explicit_spans([request_], {T0: 3}, {T0: 40})
    assert (span.start, span.end) == expected


def test_replay_explicit_spans_reject_unknown_partitions():
    with pytest.raises(RangeError, match="news:7"):
        explicit_spans([OffsetRequest("news", 7, 0, 1)], {T0: 0}, {T0: 1})


# ------------------------------------------------------------------ progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_replay_progress_bar_on_a_terminal_shows_share_rate_and_eta():
    stream = _Terminal()
    progress = Progress(stream, "auto")
    progress.update(Snapshot("replay", done=0, total=1000, read=0, written=0, dead_lettered=0, elapsed_s=0.0))
    progress.close(Snapshot("replay", done=250, total=1000, read=250, written=240, dead_lettered=10, elapsed_s=5.0))
    last = stream.getvalue().split("\r")[-1]
    assert last.startswith("replay:  25%") and "250/1000" in last and "50 art/s" in last
    assert "{" not in stream.getvalue()  # no JSON on a terminal


@pytest.mark.parametrize(
    ("done", "start_done", "elapsed", "expected"),
    [
        (0, 0, 0.0, None),  # no rate yet
        (100, 0, 10.0, 90.0),
        (600, 500, 10.0, 40.0),  # a resumed run estimates from its own progress
        (1000, 0, 10.0, 0.0),
    ],
)
def test_replay_eta_from_this_runs_rate(done, start_done, elapsed, expected):
    snapshot = Snapshot("replay", done, 1000, done - start_done, 0, 0, elapsed, start_done)
    assert eta_seconds(snapshot) == expected


def test_replay_progress_json_lines_when_not_a_terminal():
    stream = io.StringIO()  # isatty() is False
    progress = Progress(stream, "auto", every_s=3600)
    snapshot = Snapshot("replay", 10, 20, 10, 9, 1, 2.0)
    progress.update(snapshot)
    progress.update(snapshot)  # throttled
    progress.close(snapshot)  # always reported
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2 and lines[0] == progress_record(snapshot)
    assert lines[0] == {"event": "progress", "phase": "replay", "done": 10, "total": 20, "read": 10, "written": 9,
                        "dead_lettered": 1, "rate": 5.0, "eta_s": 2.0, "elapsed_s": 2.0}


def test_replay_progress_none_is_silent():
    stream = io.StringIO()
    progress = Progress(stream, "none")
    progress.close(Snapshot("replay", 1, 1, 1, 1, 0, 1.0))
    assert stream.getvalue() == ""


# ------------------------------------------------------------------ names and identity


def test_replay_names_default_to_backfill_topics_and_a_derived_name():
    settings = Settings(app_id="nc", output_topic="clean", dlq_topic="dlq")
    request = ReplayRequest(topics=("news",), start=datetime(2019, 3, 1, tzinfo=UTC))
    names = names_for(request, settings)
    assert names.output_topic == "clean-backfill" and names.dlq_topic == "dlq-backfill"
    assert names.group.startswith("nc-replay-r") and names.state_topic == names.group + "-state"
    assert names_for(request, settings) == names  # the same command resumes the same replay
    other = names_for(ReplayRequest(topics=("news",), start=datetime(2019, 3, 2, tzinfo=UTC)), settings)
    assert other.name != names.name


def test_replay_conflict_when_a_name_is_reused_with_other_arguments():
    settings = Settings()
    first = identity(ReplayRequest(topics=("news",), name="x"), settings)
    restored = Restored(plan={"identity": first})
    conflict_check(restored, first, names_for(ReplayRequest(name="x"), settings))  # same: fine
    later = identity(ReplayRequest(topics=("news",), name="x", start=datetime(2019, 1, 1, tzinfo=UTC)), settings)
    with pytest.raises(ReplayConflict, match="from"):
        conflict_check(restored, later, names_for(ReplayRequest(name="x"), settings))


def test_replay_tally_round_trips_through_json():
    tally = Tally(read=5, written=4, dead_lettered=1, primed=3)
    tally.removed["boilerplate"] += 2
    tally.warm_removed_extra["boilerplate"] += 1
    again = Tally.from_json(orjson.loads(orjson.dumps(tally.to_json())))
    assert again.to_json() == tally.to_json()
    assert Tally.from_json(None).to_json()["removed"] == {"repeat": 0, "near_repeat": 0, "boilerplate": 0}


# ------------------------------------------------------------------ journal


def test_replay_journal_store_drains_last_writes_and_tombstones():
    store = JournalStore("w", {"old": b"1"})
    store.set("a", b"x")
    store.set("a", b"y")
    store.delete("old")
    store.delete("never")  # nothing to delete: no tombstone
    assert dict(store.drain()) == {b"w:a": b"y", b"w:old": None}
    assert list(store.drain()) == []
    assert store.get("a") == b"y" and store.get("old") is None


def test_replay_article_store_applies_only_on_commit():
    base = JournalStore("w", {"k": b"1"})
    article = ArticleStore(base)
    article.set("n", b"2")
    article.delete("k")
    assert article.get("n") == b"2" and article.get("k") is None
    assert base.get("k") == b"1" and base.get("n") is None  # an article that fails leaves no trace
    article.commit()
    assert base.data == {"n": b"2"}


def test_replay_restore_rebuilds_state_plan_and_progress():
    store = JournalStore("w")
    store.set("a", b"1")
    store.set("b", b"2")
    first = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 5}})]
    store.delete("a")
    second = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 9}})]
    restored = Restored()
    for key, value in [*first, *second, (b"c:z", b"3"), (b"unknown:q", b"4")]:
        apply_record(restored, key, value)
    assert restored.stores == {"w": {"b": b"2"}, "c": {"z": b"3"}}
    assert restored.plan == {"identity": {"x": 1}} and restored.progress == {"positions": {"news:0": 9}}
    assert {PLAN, PROGRESS} <= {k for k, _ in first}
