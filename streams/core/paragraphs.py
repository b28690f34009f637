"""Which body of an item is its article text, and its paragraphs.

Formats, by the media type of `contentType` (parameters such as `; charset=utf-8` and letter
case ignored):
- plain: `text/plain`, or no contentType (ninjs leaves it to the provider; plain is the one
  reading that loses nothing): each non-blank line is a paragraph (`split_plain`);
- HTML: any media type naming html (`text/html`, `application/xhtml+xml`, ...): an HTML5 parse
  laid out in blocks (`html_body`);
- NITF: any media type naming nitf (`text/vnd.IPTC.NITF`, `application/nitf+xml`, ...), and
  generic XML (`text/xml`, `application/xml`, `*+xml`) whose root element is `nitf` (`nitf`);
- anything else (PDF, images, RTF, unknown types) cannot be read as text: `split_body` raises
  `InvalidInput("unsupported_body")` rather than clean markup or bytes as words.

The kept text of a paragraph is its original text with surrounding whitespace trimmed (for
markup, the unescaped text content of the block); it is never rewritten."""

from __future__ import annotations

import re
from typing import Any, Literal

from .errors import InvalidInput
from .html_body import split_html
from .nitf import nitf_headline, split_nitf

__all__ = ["body_format", "nitf_headline", "select_body", "split_body", "split_html", "split_nitf", "split_plain"]

BodyFormat = Literal["html", "nitf", "plain", "xml"]
_LINE_BREAKS = re.compile(r"\r\n?|\n")
# Richest first: markup that marks paragraphs explicitly beats lines, which may be hard-wrapped;
# generic XML is readable only if it turns out to be NITF.
_RICHNESS = {"html": 4, "nitf": 3, "plain": 2, "xml": 1}
# Roles of bodies that accompany the article rather than hold its text (compared in lower
# case without separators: "editors-note" and "EditorsNote" are one role).
SECONDARY_ROLES = frozenset(
    "abstract alt caption correction description editornote editorsnote lead-in note summary teaser".replace("-", "").split()
)
_ROLE_NOISE = re.compile(r"[^a-z0-9]")
_NITF_ROOT = re.compile(r"<(?:[\w.-]+:)?nitf[\s>/]")


def body_format(content_type: str | None) -> BodyFormat | None:
    """The format a body of this contentType is read as; None when it cannot be read as text."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if not media_type or media_type == "text/plain":
        return "plain"
    if "html" in media_type:
        return "html"
    if "nitf" in media_type:
        return "nitf"
    if media_type in ("text/xml", "application/xml") or media_type.endswith("+xml"):
        return "xml"
    return None


def select_body(bodies: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The body to clean (see README "Bodies"): among bodies with text that are not
    summary-like (`SECONDARY_ROLES`), the first by, in order: readable at all; role `main`;
    richest format (HTML, NITF, plain, generic XML); earliest in the list. None when no body
    qualifies (the item has no article text). A body that cannot be read is chosen only when no
    article body can be: `split_body` then dead-letters it as `unsupported_body`."""
    best: dict[str, Any] | None = None
    best_rank: tuple[bool, bool, int] | None = None
    for body in bodies:
        value = body.get("value")
        role = _ROLE_NOISE.sub("", str(body.get("role") or "").lower())
        if not isinstance(value, str) or not value.strip() or role in SECONDARY_ROLES:
            continue
        richness = _RICHNESS.get(body_format(body.get("contentType")) or "", 0)
        rank = (richness > 0, role == "main", richness)
        if best_rank is None or rank > best_rank:
            best, best_rank = body, rank
    return best


def is_article_text(body: dict[str, Any]) -> bool:
    """A readable body that is not summary-like: one rendering of the text `select_body` picks
    from, which the cleaned text/plain body replaces in the output."""
    role = _ROLE_NOISE.sub("", str(body.get("role") or "").lower())
    return role not in SECONDARY_ROLES and body_format(body.get("contentType")) is not None


def split_plain(text: str) -> list[str]:
    """Paragraphs of a text/plain body: each non-blank line is a paragraph (blank lines, however
    many, only separate), which also covers feeds that put one paragraph per line."""
    return [line.strip() for line in _LINE_BREAKS.split(text) if line.strip()]


def split_body(value: str, content_type: str | None) -> list[str]:
    """Paragraphs of a body in `content_type`. Raises `InvalidInput`: `unsupported_body` for a
    type that is not text, `bad_body` for NITF (or NITF-rooted XML) that does not parse."""
    kind = body_format(content_type)
    if kind == "plain":
        return split_plain(value)
    if kind == "html":
        return split_html(value)
    if kind == "nitf" or (kind == "xml" and _NITF_ROOT.search(value[:4096])):
        return split_nitf(value)
    shown = (content_type or "")[:100]
    if kind == "xml":
        raise InvalidInput("unsupported_body", f"the {shown!r} body is XML but not NITF")
    raise InvalidInput("unsupported_body", f"a body of contentType {shown!r} cannot be read as text")
