import io
import logging

import orjson
import pytest

from streams import logs


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.configure("INFO", stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def lines(stream: io.StringIO) -> list[dict]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_logs_one_json_object_per_record_with_extra_fields(captured):
    logging.getLogger("newsclean").warning(
        "dead-lettered %s", "schema", extra={"uri": "urn:a", "topic": "raw", "partition": 1, "offset": 7}
    )
    [entry] = lines(captured)
    assert entry["level"] == "WARNING" and entry["logger"] == "newsclean"
    assert entry["message"] == "dead-lettered schema"
    assert (entry["uri"], entry["topic"], entry["partition"], entry["offset"]) == ("urn:a", "raw", 1, 7)
    assert entry["time"].endswith("Z")


@pytest.mark.parametrize(
    "extra, expected",
    [
        ({"removed": {"repeat": 2}}, {"repeat": 2}),
        ({"key": b"bytes"}, "b'bytes'"),  # not JSON: written with str()
        ({"when": object}, "<class 'object'>"),
    ],
)
def test_logs_values_json_cannot_hold_are_written_as_text(captured, extra, expected):
    logging.getLogger("newsclean").info("x", extra=extra)
    [entry] = lines(captured)
    assert entry[next(iter(extra))] == expected


def test_logs_traceback_and_level_filter(captured):
    log = logging.getLogger("newsclean")
    log.debug("not shown")
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    [entry] = lines(captured)
    assert entry["level"] == "ERROR" and "ValueError: bad" in entry["exc"]


def test_logs_multiline_message_stays_on_one_line(captured):
    logging.getLogger("faust").info("table:\n| a | b |")
    assert len(captured.getvalue().splitlines()) == 1
    assert lines(captured)[0]["message"] == "table:\n| a | b |"


@pytest.mark.parametrize("level, number", [("debug", 10), ("INFO", 20), ("Warning", 30), (40, 40)])
def test_logs_level_number_accepts_names_in_any_case(level, number):
    assert logs.level_number(level) == number


@pytest.mark.parametrize("level", ["loud", "", 15, "TRACE"])
def test_logs_configure_rejects_unknown_levels_and_keeps_handlers(level):
    before = list(logging.getLogger().handlers)
    with pytest.raises(ValueError, match="is not one of DEBUG, INFO"):
        logs.configure(level)
    assert logging.getLogger().handlers == before
