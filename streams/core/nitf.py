"""Paragraphs and headline of a NITF body (IPTC News Industry Text Format, XML).

Parsed with defusedxml: a document that declares entities (the billion-laughs and quadratic
blow-ups, external entities that read files or URLs: XXE) is refused, and nothing is fetched.
Named character entities that NITF's DTD defines (`&nbsp;`, `&eacute;`, the HTML 4 set) are
read without loading the DTD. A body is either a NITF document (`<nitf>`, with or without its
DOCTYPE) or a fragment of one (`<body.content>`, or its paragraphs without a root).

Paragraphs come from `body.content` only (not `body.head`'s hedline, byline and abstract, nor
`body.end`'s tagline), laid out in blocks by `textblocks`: p, hl2, block, bq, list items, table
rows and media captions are paragraphs; binary media objects and metadata are dropped. A body
that is not well-formed XML, or declares entities, raises `InvalidInput("bad_body", ...)`.
"""

from __future__ import annotations

from html.entities import name2codepoint
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import InvalidInput
from .textblocks import BlockText, Vocabulary

NITF = Vocabulary(
    blocks=frozenset(
        "block body.content bq caption credit dd dl dt fn hl1 hl2 hr li media media-caption "
        "media-producer nitf-table nitf-table-summary note ol p tagline table tbody td tfoot th thead "
        "tr ul".split()
    ),
    dropped=frozenset("media-metadata media-object media-reference nitf-table-metadata".split()),
    line_breaks=frozenset(("br",)),
    preformatted=frozenset(("pre",)),
    rows=frozenset(("tr",)),
    cells=frozenset(("td", "th")),
)
_ENTITIES = {name: chr(code) for name, code in name2codepoint.items()}
# A DOCTYPE with an external id, never loaded, makes expat hand undefined entities to the
# parser's table instead of failing on them; the wrapper root also takes root-less fragments.
_WRAPPER = "newsclean-nitf"
_PROLOG = f'<!DOCTYPE {_WRAPPER} SYSTEM "nitf.dtd"><{_WRAPPER}>'


def split_nitf(value: str) -> list[str]:
    """Paragraphs of the body.content of a NITF document or fragment."""
    root = _parse(value)
    contents = [e for e in _elements(root) if _local(e.tag) == "body.content"]
    if not contents and not any(_local(e.tag) in ("nitf", "body") for e in _elements(root)):
        contents = [root]  # a fragment of body content: its paragraphs without a root
    sink = BlockText(NITF)
    for content in contents:
        _walk(content, sink)
    return sink.paragraphs()


def nitf_headline(value: str) -> str | None:
    """The text of the first `hedline/hl1`, whitespace collapsed; None if there is none or the
    body does not parse (`split_nitf` reports that)."""
    try:
        root = _parse(value)
    except InvalidInput:
        return None
    for hedline in _elements(root):
        if _local(hedline.tag) == "hedline":
            for hl1 in hedline:
                if _local(hl1.tag) == "hl1":
                    return " ".join(_text_of(hl1).split()) or None
    return None


def _parse(value: str) -> Element:
    text = value.lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml"):  # the value is already decoded: its encoding declaration is moot
        text = text[text.find("?>") + 2 :]
    parser = DefusedXMLParser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
    parser.entity.update(_ENTITIES)
    try:
        if "<!DOCTYPE" in text:
            parser.feed(text)
            root = parser.close()
        else:
            parser.feed(_PROLOG)
            parser.feed(text)
            parser.feed(f"</{_WRAPPER}>")
            root = parser.close()
    except DefusedXmlException as exc:
        raise InvalidInput("bad_body", f"the NITF body declares entities, which are refused: {exc!r}") from None
    except (ParseError, UnicodeEncodeError) as exc:  # a lone surrogate (valid JSON, not Unicode)
        raise InvalidInput("bad_body", f"the NITF body is not well-formed XML: {exc}") from None
    return root


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _elements(root: Element):
    """Every element in document order; `Element.iter` recurses, which a deep body exhausts."""
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(reversed(element))


def _text_of(element: Element) -> str:
    parts = []
    stack: list[tuple[Element, bool]] = [(element, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.tail and node is not element:
                parts.append(node.tail)
            continue
        parts.append(node.text or "")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return "".join(parts)


def _walk(root: Element, sink: BlockText) -> None:
    # Iterative: a hostile body nests elements deeper than Python's recursion limit.
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            sink.end(_local(node.tag))
        elif sink.start(_local(node.tag)):
            if node.text:
                sink.text(node.text)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node))
            continue
        if node.tail and node is not root:  # the root's tail lies outside it
            sink.text(node.tail)
