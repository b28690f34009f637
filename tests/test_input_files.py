"""The offline reader (streams/input_files.py, streams/offline.py): every format, every item
accounted for, original bytes per item, origins at the item's first line."""

from __future__ import annotations

import base64
import io

import orjson
import pytest

from streams.core.models import MemoryStore
from streams.core.settings import PipelineSettings
from streams.input_files import Reading, read_items
from streams.offline import clean_file, read_messages


def _article(n: int, **extra) -> dict:
    return {"uri": f"urn:newsclean:test:reader:{n}", "version": "1", "versionCreated": "2026-03-02T06:00:00Z",
            "bodies": [{"role": "main", "contentType": "text/plain", "value": f"Paragraph of article {n}."}], **extra}


def _pretty(n: int) -> bytes:
    return orjson.dumps(_article(n), option=orjson.OPT_INDENT_2)


def _read(data: bytes) -> tuple[list[tuple[bytes, int]], Reading]:
    reading = Reading()
    return list(read_items(data, reading)), reading


def _clean(tmp_path, data: bytes) -> tuple[list[dict], list[dict], object]:
    src = tmp_path / "input"
    src.write_bytes(data)
    out, dlq = io.BytesIO(), io.BytesIO()
    tally = clean_file(str(src), out, dlq, PipelineSettings(), extractor=None, store=MemoryStore())
    return ([orjson.loads(line) for line in out.getvalue().splitlines()],
            [orjson.loads(line) for line in dlq.getvalue().splitlines()], tally)


def test_input_files_json_lines_skip_and_count_blank_lines():
    lines = [orjson.dumps(_article(n)) for n in range(3)]
    items, reading = _read(lines[0] + b"\n\n  \n" + lines[1] + b"\r\n\r\n" + lines[2])
    assert reading.format == "jsonl" and reading.blank_lines == 3
    assert items == [(lines[0], 1), (lines[1], 4), (lines[2], 6)]


def test_input_files_one_pretty_object_whose_first_line_holds_a_property():
    # the shape the line-based reader misread as broken JSON lines
    data = b'{"uri": "urn:newsclean:test:reader:0", "version": "1",\n  "versionCreated": "2026-03-02T06:00:00Z",\n' \
           b'  "bodies": [{"role": "main", "contentType": "text/plain",\n    "value": "Paragraph."}]\n}\n'
    items, reading = _read(data)
    assert reading.format == "json"
    assert items == [(data.rstrip(b"\n"), 1)]


def test_input_files_several_pretty_objects_in_a_row_start_at_their_own_lines():
    data = _pretty(0) + b"\n" + _pretty(1) + b"\n\n" + _pretty(2) + b"\n"
    items, reading = _read(data)
    assert reading.format == "json" and reading.blank_lines == 1
    assert [raw for raw, _ in items] == [_pretty(0), _pretty(1), _pretty(2)]
    first_lines = [1, 1 + _pretty(0).count(b"\n") + 1]
    first_lines.append(first_lines[1] + _pretty(1).count(b"\n") + 2)
    assert [line for _, line in items] == first_lines


@pytest.mark.parametrize("layout", ["pretty", "compact", "one_line"])
def test_input_files_json_array_yields_each_element(layout):
    articles = [_article(n) for n in range(3)]
    if layout == "pretty":
        data = orjson.dumps(articles, option=orjson.OPT_INDENT_2)
    elif layout == "compact":
        data = b"[\n" + b",\n".join(orjson.dumps(a) for a in articles) + b"\n]\n"
    else:
        data = orjson.dumps(articles)
    items, reading = _read(data)
    assert reading.format == "array"
    assert [orjson.loads(raw) for raw, _ in items] == articles


def test_input_files_a_broken_json_line_alone_is_a_part_the_rest_are_untouched():
    good = [orjson.dumps(_article(n)) for n in range(3)]
    truncated = good[1][:40]  # an open object: the scanner must not swallow the next line
    items, reading = _read(b"\n".join([good[0], truncated, b"not json at all", good[2]]) + b"\n")
    assert reading.format == "jsonl"
    assert items == [(good[0], 1), (truncated, 2), (b"not json at all", 3), (good[2], 4)]


def test_input_files_a_json_line_with_trailing_data_is_one_broken_item():
    line = orjson.dumps(_article(0)) + b" trailing"
    items, _ = _read(line + b"\n" + orjson.dumps(_article(1)) + b"\n")
    assert items[0] == (line, 1) and len(items) == 2


def test_input_files_resynchronises_after_a_broken_pretty_object():
    broken = _pretty(1)[: len(_pretty(1)) // 2]  # cut in the middle, left open
    data = _pretty(0) + b"\n" + broken + b"\n" + _pretty(2) + b"\n"
    items, reading = _read(data)
    assert reading.format == "json"
    assert [raw for raw, _ in items] == [_pretty(0), broken.rstrip(), _pretty(2)]
    assert items[1][1] == _pretty(0).count(b"\n") + 2


def test_input_files_resynchronises_after_a_broken_array_element():
    elements = [orjson.dumps(_article(n), option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ") for n in range(3)]
    broken = elements[1][:60]
    data = b"[\n  " + elements[0] + b",\n  " + broken + b"\n  " + elements[2] + b"\n]\n"
    items, _ = _read(data)
    assert [raw for raw, _ in items] == [elements[0], broken.rstrip(), elements[2]]


def test_input_files_a_broken_last_array_element_stops_before_the_closing_bracket():
    element = orjson.dumps(_article(0), option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ")
    data = b"[\n  " + element[:50] + b"\n]\n"
    items, _ = _read(data)
    assert items == [(element[:50].rstrip(), 2)]


def test_input_files_keep_the_original_bytes_of_every_item():
    duplicate = b'{"uri": "urn:x", "uri": "urn:y"}'
    invalid_utf8 = b'{"uri": "urn:\xff"}'
    for data in (duplicate + b"\n" + invalid_utf8 + b"\n", b"[" + duplicate + b",\n" + invalid_utf8 + b"]"):
        assert [raw for raw, _ in _read(data)[0]] == [duplicate, invalid_utf8]


def test_input_files_byte_order_mark_and_empty_files():
    items, reading = _read(b"\xef\xbb\xbf" + orjson.dumps(_article(0)) + b"\n")
    assert reading.format == "jsonl" and items == [(orjson.dumps(_article(0)), 1)]
    items, reading = _read(b"\n \n")
    assert items == [] and reading.format == "empty" and reading.blank_lines == 2


def test_input_files_every_item_reaches_the_pipeline_or_the_dead_letters(tmp_path):
    duplicate = b'{\n  "uri": "urn:x",\n  "uri": "urn:y"\n}'
    broken = _pretty(3)[:70]
    data = b"\n".join([_pretty(0), duplicate, _pretty(1), broken, _pretty(2)]) + b"\n"
    envelopes, dead, tally = _clean(tmp_path, data)
    assert [e["article"]["uri"] for e in envelopes] == [_article(n)["uri"] for n in range(3)]
    assert [d["reason"] for d in dead] == ["duplicate_key", "not_json"]
    assert [base64.b64decode(d["original"]) for d in dead] == [duplicate, broken.rstrip()]
    starts = [1 + sum(part.count(b"\n") + 1 for part in [_pretty(0), duplicate, _pretty(1)][:k]) for k in (1, 3)]
    assert [d["input"]["line"] for d in dead] == starts
    assert (tally.read, tally.written, tally.dead_lettered) == (5, 3, 2)


def test_input_files_offline_summary_counts_blank_lines(tmp_path):
    data = orjson.dumps(_article(0)) + b"\n\n\n" + orjson.dumps(_article(1)) + b"\n"
    _, _, tally = _clean(tmp_path, data)
    assert tally.blank_lines == 2
    assert tally.summary() == ("read 2 (JSON Lines; 2 blank lines skipped), wrote 2 (0 passed without cleaning), "
                               "skipped 0, dead-lettered 0")


def test_input_files_origin_names_the_file_and_the_start_line(tmp_path):
    src = tmp_path / "feed.json"
    src.write_bytes(_pretty(0) + b"\n" + _pretty(1))
    origins = [origin for _, origin in read_messages(str(src))]
    assert origins == [{"file": str(src), "line": 1}, {"file": str(src), "line": _pretty(0).count(b"\n") + 2}]
