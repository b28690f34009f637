"""Paragraphs from a parsed markup tree, the way a browser lays text out in blocks.

A parser adapter (HTML in `html_body`, NITF in `nitf`) walks its tree and reports `start(tag)`,
`text(value)` and `end(tag)`; a `Vocabulary` says what each tag is. The rules:

- a block element (p, headings, li, div, ...) ends the paragraph before it and the one inside
  it, so text directly in a div is a paragraph of its own and nested blocks never repeat text;
- a line break ends a line, and each line is a paragraph: the output is text/plain, where a
  paragraph has no line break inside (`split_plain` reads every line as a paragraph), so a run
  of one or more breaks separates paragraphs and makes no empty one;
- a table row is one paragraph, its cells' texts joined by " | " (an empty cell keeps its
  place, so columns stay aligned); a row whose cell holds several paragraphs is a layout
  table, not data, and gives those paragraphs instead;
- dropped elements (scripts, styles, embeds, ...) contribute nothing, children included;
- whitespace: runs of the markup's white space (space, tab, CR, LF, FF) become one space and
  a paragraph is trimmed; a no-break space inside the text stays, as it renders. In a
  preformatted element spaces stay and each line is a paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Only what must change: a single space is already collapsed (most text has nothing else).
_SPACE_RUN = re.compile(r"[ \t\n\r\f]{2,}|[\t\n\r\f]")
_CELL_SEPARATOR = " | "


@dataclass(frozen=True, slots=True)
class Vocabulary:
    blocks: frozenset[str]
    dropped: frozenset[str]
    line_breaks: frozenset[str]
    preformatted: frozenset[str]
    rows: frozenset[str]
    cells: frozenset[str]


class _Lines:
    """Paragraphs of one flow (the document, or one table cell)."""

    __slots__ = ("paragraphs", "_parts", "_keep_spaces")

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._keep_spaces = False

    def add(self, text: str, preformatted: bool) -> None:
        if not preformatted:
            self._parts.append(text)
            return
        self._keep_spaces = True
        lines = text.split("\n")
        for line in lines[:-1]:
            self._parts.append(line)
            self.end()
            self._keep_spaces = True
        self._parts.append(lines[-1])

    def end(self) -> None:
        if self._parts:
            joined = "".join(self._parts)
            text = (joined if self._keep_spaces else _collapse(joined)).strip()
            if text:
                self.paragraphs.append(text)
            self._parts.clear()
        self._keep_spaces = False


def _collapse(text: str) -> str:
    # the membership tests are C scans: most runs of text need no regex at all
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text:
        return _SPACE_RUN.sub(" ", text)
    return text


# What a start event opened, popped again by its end event.
_INLINE, _BLOCK, _PRE, _ROW, _CELL = range(5)


class BlockText:
    """Receives a tree walk's events; `paragraphs()` is the result. `start` returns whether the
    walker should descend; when it returns False the walker sends neither children nor `end`."""

    __slots__ = ("_words", "_flows", "_rows", "_opened", "_pre_depth", "_newlines_break", "structured")

    def __init__(self, vocabulary: Vocabulary, newlines_break: bool = False) -> None:
        self._words = vocabulary
        self._flows: list[_Lines] = [_Lines()]
        self._rows: list[list[list[str]]] = []  # open rows: each the paragraphs of its cells
        self._opened: list[int] = []
        self._pre_depth = 0
        self._newlines_break = newlines_break  # read the text's own line breaks as plain text's
        self.structured = False  # whether any block, row or line break element was met

    def start(self, tag: str) -> bool:
        words = self._words
        if tag in words.dropped:
            return False
        if tag in words.line_breaks:
            self.structured = True
            self._flows[-1].end()
            return False
        if tag in words.cells and self._opened and self._opened[-1] == _ROW:
            self._flows.append(_Lines())
            kind = _CELL
        elif tag in words.rows:
            self._flows[-1].end()
            self._rows.append([])
            kind = _ROW
        elif tag in words.preformatted:
            self._flows[-1].end()
            self._pre_depth += 1
            kind = _PRE
        elif tag in words.blocks:
            self._flows[-1].end()
            kind = _BLOCK
        else:
            kind = _INLINE
        self.structured = self.structured or kind != _INLINE
        self._opened.append(kind)
        return True

    def text(self, value: str) -> None:
        if self._opened and self._opened[-1] == _ROW:
            return  # between the cells of a row: markup indentation, never rendered
        if self._newlines_break and "\n" in value:
            lines = value.split("\n")
            for line in lines[:-1]:
                self._flows[-1].add(line, False)
                self._flows[-1].end()
            value = lines[-1]
        self._flows[-1].add(value, self._pre_depth > 0)

    def end(self, tag: str) -> None:
        kind = self._opened.pop()
        if kind == _INLINE:
            return
        if kind == _CELL:
            cell = self._flows.pop()
            cell.end()
            self._rows[-1].append(cell.paragraphs)
            return
        if kind == _ROW:
            self._flows[-1].paragraphs.extend(_row_paragraphs(self._rows.pop()))
            return
        if kind == _PRE:
            self._pre_depth -= 1
        self._flows[-1].end()

    def paragraphs(self) -> list[str]:
        self._flows[0].end()
        return self._flows[0].paragraphs


def _row_paragraphs(cells: list[list[str]]) -> list[str]:
    if any(len(cell) > 1 for cell in cells):
        return [paragraph for cell in cells for paragraph in cell]
    texts = [cell[0] if cell else "" for cell in cells]
    if not any(texts):
        return []
    # an empty cell leaves "|  |"; one space keeps it visible without a double space
    return [_CELL_SEPARATOR.join(texts).replace("  ", " ").strip()]
