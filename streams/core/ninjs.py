"""Raw message bytes -> a ninjs 3.1 dict -> `Article`.

Accepts ninjs 3.1 and the 1.x/2.x property names that newsroom systems such as Superdesk still
emit (`headline`, `body_text`, `body_html`, `versioncreated`, `byline`, ...), which are rewritten
to their 3.1 form before validating against the official schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from .errors import InvalidInput  # re-exported: callers import it from here
from .models import Article, Paragraph
from .paragraphs import body_format, nitf_headline, select_body, split_body

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@dataclass(frozen=True, slots=True)
class Limits:
    """Guards that keep one message from stalling a worker; each one is named in the dead-letter
    reason when it trips."""

    max_message_bytes: int = 8 * 1024 * 1024
    max_paragraphs: int = 5_000
    max_json_depth: int = 64
    # Wall-clock budget of one article's decode, validation and dedup in the worker (reason
    # too_slow); 0 turns it off. Enforced by the shell, which can preempt; not by the offline mode.
    max_article_seconds: float = 10.0


# Legacy (ninjs 1.x/2.x) top-level names with a direct 3.1 equivalent.
_RENAMED = {
    "versioncreated": "versionCreated",
    "firstcreated": "firstCreated",
    "embargoed": "embargoedUntil",
    "pubstatus": "pubStatus",
    "byline": "by",
    "copyrightholder": "copyrightHolder",
    "copyrightnotice": "copyrightNotice",
    "usageterms": "usageTerms",
}
_LEGACY_BODIES = {"body_text": "text/plain", "body_html": "text/html", "body_xhtml": "application/xhtml+xml"}
_TIME_FIELDS = ("versionCreated", "firstCreated", "contentCreated")


@cache
def ninjs_validator() -> Draft202012Validator:
    schema = orjson.loads((SCHEMAS / "ninjs-schema_3.1.json").read_bytes())
    geojson = orjson.loads((SCHEMAS / "GeoJSON-schema.json").read_bytes())
    registry = Registry().with_resource(geojson["$id"], Resource.from_contents(geojson))
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def decode(raw: bytes, limits: Limits = Limits(), checked: bool = False) -> dict[str, Any]:
    """Bytes to a JSON object. Rejects what a worker must not try to process. `checked`: these
    bytes already passed `decode` (the worker's route agent), so the depth scan is skipped."""
    if len(raw) > limits.max_message_bytes:
        raise InvalidInput("too_large", f"{len(raw)} bytes > max_message_bytes={limits.max_message_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("not_utf8", str(exc)) from None
    if not checked:
        _check_depth(text, limits.max_json_depth)
    try:
        doc = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except InvalidInput:
        raise
    except ValueError as exc:
        raise InvalidInput("not_json", str(exc)) from None
    if not isinstance(doc, dict):
        raise InvalidInput("not_object", f"top-level JSON value is {type(doc).__name__}, not an object")
    return doc


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key means two producers disagree about a field; silently taking one would hide it.
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise InvalidInput("duplicate_key", f"key {dup!r} appears more than once")
    return doc


def _check_depth(text: str, max_depth: int) -> None:
    # Counted on the raw text before parsing so a hostile nesting never reaches the parser's
    # recursion; brackets inside strings only make the estimate larger, never smaller.
    if text.count("{") + text.count("[") <= max_depth:  # nesting cannot exceed the openers
        return
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                raise InvalidInput("too_deep", f"JSON nesting deeper than max_json_depth={max_depth}")
        elif ch in "]}":
            depth -= 1


def to_ninjs31(doc: dict[str, Any]) -> dict[str, Any]:
    """Rewrite 1.x/2.x property names to 3.1; 3.1 input passes through (as a new dict)."""
    out = {_RENAMED.get(k, k): v for k, v in doc.items() if k not in _LEGACY_BODIES and k != "headline"}
    if "headline" in doc and "headlines" not in doc:
        out["headlines"] = [{"role": "main", "value": doc["headline"]}]
    if "bodies" not in doc:
        bodies = [
            {"role": "main", "contentType": ctype, "value": doc[name]}
            for name, ctype in _LEGACY_BODIES.items()
            if isinstance(doc.get(name), str)
        ]
        if bodies:
            out["bodies"] = bodies[:1]  # the plainest form; the others are renderings of it
    return out


def validate(doc: dict[str, Any]) -> None:
    error = next(iter(ninjs_validator().iter_errors(doc)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidInput("schema", f"ninjs 3.1 schema violation at {where}: {error.message[:300]}")


def main_headline(doc: dict[str, Any]) -> str:
    headlines = doc.get("headlines") or []
    chosen = next((h for h in headlines if h.get("role") == "main"), headlines[0] if headlines else None)
    return chosen["value"].strip() if chosen else ""


def source_of(doc: dict[str, Any]) -> str:
    for alt in doc.get("altIds") or []:
        if alt.get("role") == "source" and alt.get("value"):
            return alt["value"]
    return doc.get("copyrightHolder") or ""


def event_time_of(doc: dict[str, Any], fallback: datetime | None) -> datetime:
    for name in _TIME_FIELDS:
        if name in doc:
            try:
                return _parse_time(doc[name])
            except ValueError:
                raise InvalidInput("bad_time", f"{name}={doc[name]!r} is not an ISO 8601 date-time") from None
    if fallback is None:
        raise InvalidInput("no_event_time", f"none of {', '.join(_TIME_FIELDS)} is set")
    return fallback


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:  # ninjs requires an offset, but a naive time is read as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_article(
    doc: dict[str, Any], fallback_time: datetime | None = None, limits: Limits = Limits(), checked: bool = False
) -> Article:
    """A decoded JSON object to a validated `Article`. Raises `InvalidInput`. `checked`: the
    same object already passed `parse_article`, so the schema validation is skipped."""
    ninjs = to_ninjs31(doc)
    if not checked:
        validate(ninjs)
    body = select_body(ninjs.get("bodies") or [])
    if body is None:
        raise InvalidInput("no_body", "the article has no body text")
    texts = split_body(body["value"], body.get("contentType"))
    if not texts:
        raise InvalidInput("no_body", "the main body holds no paragraph text")
    if len(texts) > limits.max_paragraphs:
        raise InvalidInput("too_many_paragraphs", f"{len(texts)} paragraphs > max_paragraphs={limits.max_paragraphs}")
    headline = main_headline(ninjs)
    if not headline and body_format(body.get("contentType")) in ("nitf", "xml"):
        headline = nitf_headline(body["value"]) or ""
        if headline:  # the NITF body is replaced by its plain paragraphs: keep its hedline
            ninjs = {**ninjs, "headlines": [{"role": "main", "value": headline}, *ninjs.get("headlines", [])]}
    return Article(
        uri=ninjs["uri"],
        version=str(ninjs.get("version", "")),
        event_time=event_time_of(ninjs, fallback_time),
        source=source_of(ninjs),
        headline=headline,
        paragraphs=tuple(Paragraph(i, t) for i, t in enumerate(texts)),
        ninjs=ninjs,
    )
