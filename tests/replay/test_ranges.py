"""`streams.replay.ranges`: reading the arguments, resolving times and offsets to spans."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiokafka import TopicPartition

from streams.replay.ranges import OffsetRequest, RangeError, Span, explicit_spans, parse_offsets, parse_partitions, parse_time, time_spans

UTC = timezone.utc
T0, T1 = TopicPartition("news", 0), TopicPartition("news", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-03-01T00:00Z", datetime(2019, 3, 1, tzinfo=UTC)),
        ("2019-03-01", datetime(2019, 3, 1, tzinfo=UTC)),
        ("2019-03-01T01:30:00+01:00", datetime(2019, 3, 1, 0, 30, tzinfo=UTC)),
        ("2019-03-01 10:00", datetime(2019, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_ranges_parse_time_reads_iso_and_defaults_to_utc(text, expected):
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
def test_ranges_parse_offsets_forms(spec, expected):
    assert parse_offsets(spec) == expected


@pytest.mark.parametrize("spec", ["news", "news:x:1-2", "news:0:5-2", "news:0:1-2,news:0:3-4", "", "news:0:1:2"])
def test_ranges_parse_offsets_rejects_malformed(spec):
    with pytest.raises(RangeError):
        parse_offsets(spec)


@pytest.mark.parametrize(("text", "expected"), [("0", (0,)), ("2,0", (0, 2)), ("0,3-5", (0, 3, 4, 5))])
def test_ranges_parse_partitions(text, expected):
    assert parse_partitions(text) == expected


def test_ranges_time_spans_cut_at_offsets_for_times_answers():
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
def test_ranges_time_spans_edge_cases(at_from, at_to, expected):
    (span,) = time_spans([T0], {T0: 3}, {T0: 40}, at_from, at_to)
    assert (span.start, span.end) == expected
    assert span.size == expected[1] - expected[0]


def test_ranges_consecutive_time_ranges_tile_the_log():
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
def test_ranges_explicit_spans_clamp_to_the_log(request_, expected):
    (span,) = explicit_spans([request_], {T0: 3}, {T0: 40})
    assert (span.start, span.end) == expected


def test_ranges_explicit_spans_reject_unknown_partitions():
    with pytest.raises(RangeError, match="news:7"):
        explicit_spans([OffsetRequest("news", 7, 0, 1)], {T0: 0}, {T0: 1})
