"""Paragraphs of an HTML or XHTML body, parsed as a browser does.

The parser is lexbor (through selectolax), which implements the WHATWG HTML5 tree construction:
unclosed and misnested tags, entities and stray markup end up where a browser puts them. The tree
is then laid out in blocks by `textblocks` (the rules are there). XHTML is parsed the same way, as
browsers do for XHTML served as HTML; the one difference that matters is that a self-closed
non-void element (`<div/>`, `<script/>`) opens an element in HTML5, so text after a `<script/>`
is lost — XHTML bodies in news feeds do not self-close such elements in practice.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from .textblocks import BlockText, Vocabulary

HTML = Vocabulary(
    blocks=frozenset(
        "address article aside blockquote caption center dd details dialog dir div dl dt fieldset "
        "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li listing main menu "
        "nav ol p search section summary table tbody td tfoot th thead tr ul".split()
    ),
    # Not article text: code, embedded documents and media, their fallback text, form controls.
    dropped=frozenset(
        "audio button canvas embed head iframe map math noembed noframes noscript object script "
        "select style svg template textarea title video".split()
    ),
    line_breaks=frozenset(("br",)),
    preformatted=frozenset(("pre", "listing", "plaintext", "xmp")),
    rows=frozenset(("tr",)),
    cells=frozenset(("td", "th")),
)
_TEXT = "-text"


def split_html(markup: str) -> list[str]:
    """Paragraphs of a text/html or XHTML body (see `textblocks` for the layout rules).

    A body without a single block element or line break is plain text labelled HTML (feeds
    send paragraphs separated by newlines under text/html): a browser would run it together,
    but its lines are its paragraphs, as in a text/plain body."""
    root = LexborHTMLParser(markup).root
    if root is None:
        return []
    sink = BlockText(HTML)
    _walk(root, sink)
    if not sink.structured and "\n" in markup:
        sink = BlockText(HTML, newlines_break=True)
        _walk(root, sink)
    return sink.paragraphs()


def _walk(root, sink: BlockText) -> None:
    # Iterative: a hostile body nests elements deeper than Python's recursion limit.
    node = root.child
    parents = []
    while True:
        while node is None:
            if not parents:
                return
            node = parents.pop()
            sink.end(node.tag)
            node = node.next
        tag = node.tag
        if tag == _TEXT:
            sink.text(node.text_content or "")
        elif tag[0] != "-" and sink.start(tag):  # "-comment", "-doctype": not rendered
            child = node.child
            if child is not None:
                parents.append(node)
                node = child
                continue
            sink.end(tag)
        node = node.next
