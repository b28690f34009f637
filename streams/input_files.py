"""Items from a file for the offline mode: JSON Lines, one pretty-printed object, a JSON array of
items, or several pretty-printed objects in a row, told apart by the file's structure, not by
its name or its first line.

The file is read as a stream of JSON values separated by whitespace; a top-level array
contributes its elements. When every value that parses sits on one line, the file is JSON Lines
and each non-blank line is one item, whole (a broken line is dead-lettered alone); blank lines
are skipped and counted. Otherwise (pretty-printed objects, arrays) each value is one item.

Each item is handed on as its own original bytes — sliced from the file, never re-serialised —
so that the core's decode sees exactly what the file holds (duplicate keys, invalid UTF-8,
numbers as written); its line is the one where it starts.

Nothing is dropped: a part of a pretty-printed stream that is not a JSON value is handed on as
its bytes too, and the core dead-letters it with the reason its decode finds. Where such a part
ends is found from the layout (`_resync`): a broken value that closes on its own line is that
line alone; one left open ends before the next line that starts, no further right than the broken
value did, with a `{` or `[` from which a whole value parses (the next object of the stream, the
next element of the array), or that closes the array."""

from __future__ import annotations

import json
import re

import orjson
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DECODER = json.JSONDecoder()  # C-accelerated; used only to find where each value ends
_BOM = "\ufeff"  # a byte-order mark is not content
FORMAT_NAMES = {"jsonl": "JSON Lines", "json": "JSON objects", "array": "JSON array", "empty": "an empty file"}


@dataclass(slots=True)
class Reading:
    """What reading one file found besides its items."""

    format: str | None = None  # "jsonl" | "json" (one or more objects in a row) | "array" | "empty"
    blank_lines: int = 0  # blank lines between items, skipped


@dataclass(frozen=True, slots=True)
class _Part:
    start: int  # character offsets into the decoded text
    end: int
    parsed: bool  # a whole JSON value (the core still decides whether it is a valid item)


def read_items(data: bytes, reading: Reading | None = None) -> Iterator[tuple[bytes, int]]:
    """(item bytes, line number of its start) for every item and broken part of `data`, in order."""
    reading = reading if reading is not None else Reading()
    # surrogateescape: invalid UTF-8 survives into the slices byte for byte (decode reports it)
    text = data.decode("utf-8", "surrogateescape")
    lines = _Lines(text)
    skip = 1 if text.startswith(_BOM) else 0
    first = _WHITESPACE.match(text, skip).end()
    if first >= len(text):
        reading.format = "empty"
    elif text[first] == "[":
        reading.format = "array"
    elif _line_per_item(text, skip, lines):
        reading.format = "jsonl"
    if reading.format in ("array", None):
        parts = list(_parts(text, skip, lines))
        parsed = [p for p in parts if p.parsed]
        if reading.format is None:
            # a stream of values, each on its own line, with broken lines between: JSON Lines
            reading.format = "jsonl" if all(lines.single(p) for p in (parsed or parts)) else "json"
    if reading.format == "empty":
        reading.blank_lines = lines.count
        return
    if reading.format == "jsonl":
        yield from _each_line(text, skip, lines, reading)
        return
    covered: set[int] = set()
    for part in parts:
        covered.update(range(lines.line_of(part.start), lines.line_of(part.end - 1) + 1))
        yield text[part.start:part.end].encode("utf-8", "surrogateescape"), lines.line_of(part.start)
    reading.blank_lines = sum(1 for number in range(1, lines.count + 1)
                              if number not in covered and not lines.text_of(number).strip())


def _line_per_item(text: str, skip: int, lines: _Lines) -> bool:
    """Every non-blank line starts an item (`{` or `[`) or is a whole value: JSON Lines, even
    where some lines are broken. A pretty-printed object has lines that start otherwise
    (`"name": ...`, `}`)."""
    for number in range(1, lines.count + 1):
        line = lines.text_of(number)[skip if number == 1 else 0:].strip(" \t\r\n")
        if line and line[0] not in "{[":
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
    return True


def _each_line(text: str, skip: int, lines: _Lines, reading: Reading) -> Iterator[tuple[bytes, int]]:
    for number in range(1, lines.count + 1):
        line = lines.text_of(number)[skip if number == 1 else 0:]
        if line.strip():
            yield _NEWLINE.sub("", line).encode("utf-8", "surrogateescape"), number
        else:
            reading.blank_lines += 1


def _parts(text: str, pos: int, lines: _Lines) -> Iterator[_Part]:
    """Top-level values (and the elements of top-level arrays) and the broken stretches between."""
    in_array = False
    while True:
        pos = _WHITESPACE.match(text, pos).end()
        if pos >= len(text):
            return
        char = text[pos]
        if in_array and char in ",]":
            in_array = char == ","
            pos += 1
            continue
        if not in_array and char == "[":
            in_array = True
            pos += 1
            continue
        if char != "{" and char != "[" and not in_array:
            # not an object: this line's rest is one part, for the core to dead-letter
            end = lines.end_of(lines.line_of(pos))
            yield _Part(pos, _trim(text, pos, end), parsed=False)
            pos = end
            continue
        try:
            _, end = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            end = _resync(text, pos, lines, in_array)
            yield _Part(pos, _trim(text, pos, end), parsed=False)
            pos = end
            continue
        yield _Part(pos, end, parsed=True)
        pos = end


def _resync(text: str, pos: int, lines: _Lines, in_array: bool) -> int:
    """Where the broken value that starts at `pos` ends (see the module docstring)."""
    line = lines.line_of(pos)
    if _depth(text, pos, lines.end_of(line)) <= 0:
        return lines.end_of(line)
    column = pos - lines.start_of(line)
    for number in range(line + 1, lines.count + 1):
        start = lines.start_of(number)
        first = _WHITESPACE.match(text, start, lines.end_of(number)).end()
        indent, char = first - start, text[first:first + 1]
        if in_array and char == "]" and indent < column:
            return start
        if indent <= column and char in ("{", "["):
            try:
                _DECODER.raw_decode(text, first)
            except (ValueError, RecursionError):
                continue
            return start
    return len(text)


def _trim(text: str, start: int, end: int) -> int:
    """`end` moved back over trailing whitespace, not before `start`."""
    while end > start + 1 and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _depth(text: str, start: int, end: int) -> int:
    """Brackets opened minus brackets closed in text[start:end], outside strings."""
    depth, in_string, escaped = 0, False, False
    for char in text[start:end]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


class _Lines:
    """Line numbers (1-based) of character offsets, with \\n, \\r\\n or \\r as line ends."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        if len(self.starts) > 1 and self.starts[-1] == len(text):
            self.starts.pop()  # a final newline ends the last line; it does not open another
        self.count = len(self.starts) if text else 0

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)

    def start_of(self, line: int) -> int:
        return self.starts[line - 1]

    def end_of(self, line: int) -> int:
        """The offset just past the line's newline (or the end of the text)."""
        return self.starts[line] if line < self.count else len(self.text)

    def text_of(self, line: int) -> str:
        return self.text[self.start_of(line):self.end_of(line)]

    def single(self, part: _Part) -> bool:
        return self.line_of(part.start) == self.line_of(part.end - 1)
