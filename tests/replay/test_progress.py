"""`streams.replay.progress`: a bar on a terminal, JSON lines otherwise."""

from __future__ import annotations

import io

import orjson
import pytest

from streams.replay.progress import Progress, Snapshot, eta_seconds, progress_record


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_shows_share_rate_and_eta():
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
def test_progress_eta_from_this_runs_rate(done, start_done, elapsed, expected):
    snapshot = Snapshot("replay", done, 1000, done - start_done, 0, 0, elapsed, start_done)
    assert eta_seconds(snapshot) == expected


def test_progress_json_lines_when_not_a_terminal():
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


def test_progress_none_is_silent():
    stream = io.StringIO()
    progress = Progress(stream, "none")
    progress.close(Snapshot("replay", 1, 1, 1, 1, 0, 1.0))
    assert stream.getvalue() == ""
