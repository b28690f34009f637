"""Split a ninjs body into paragraphs: plain text on blank lines or newlines, HTML on block elements.

The kept text of a paragraph is its original text with surrounding whitespace trimmed (for HTML,
the unescaped text content of the block); it is never rewritten."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_LINE_BREAKS = re.compile(r"\r\n?|\n")
# Elements that start a new paragraph; inline elements (a, b, em, span ...) do not.
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
# Their content is not article text.
_SKIPPED = frozenset("script style template noscript head title iframe object svg math".split())


def split_plain(text: str) -> list[str]:
    """Paragraphs of a text/plain body: each non-blank line is a paragraph (blank lines, however
    many, only separate), which also covers feeds that put one paragraph per line."""
    return [line.strip() for line in _LINE_BREAKS.split(text) if line.strip()]


class _BlockText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._skip_depth = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._parts).split())
        if text:
            self.paragraphs.append(text)
        self._parts.clear()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._parts.append(data)


def split_html(markup: str) -> list[str]:
    """Paragraphs of a text/html body: the unescaped text of each block element. Whitespace inside a
    block is collapsed, as a browser renders it; script, style and comments are dropped."""
    parser = _BlockText()
    parser.feed(markup)
    parser.close()
    parser._flush()
    return parser.paragraphs


def split_body(value: str, content_type: str | None) -> list[str]:
    if content_type and "html" in content_type.lower():
        return split_html(value)
    return split_plain(value)
