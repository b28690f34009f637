"""`streams.replay.cli`: the command line into a request."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from streams.replay.request import ReplayRequest
from streams.replay.cli import parse_request

UTC = timezone.utc


def test_cli_parse_request_builds_the_request():
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
def test_cli_parse_request_rejects_contradictions(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_request(argv)
    assert exited.value.code == 2
    assert "error" in capsys.readouterr().err
