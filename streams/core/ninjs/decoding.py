"""Raw message bytes -> a JSON object, with the guards that keep one message from stalling a worker."""

from __future__ import annotations

import json
from typing import Any

import orjson

from ..errors import InvalidInput
from ..settings import Limits


def decode(raw: bytes, limits: Limits = Limits(), checked: bool = False) -> dict[str, Any]:
    """Bytes to a JSON object. Rejects what a worker must not try to process. `checked`: these
    bytes already passed `decode` (the worker's route agent), so they are parsed by orjson without
    the depth scan and the duplicate-key check, which are what make the checking parse slow."""
    if checked:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict):
            raise InvalidInput("not_object", f"top-level JSON value is {type(doc).__name__}, not an object")
        return doc
    if len(raw) > limits.max_message_bytes:
        raise InvalidInput("too_large", f"{len(raw)} bytes > max_message_bytes={limits.max_message_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("not_utf8", str(exc)) from None
    if not text.strip():
        raise InvalidInput("empty", f"the message value is {'empty' if not raw else 'only whitespace'}")
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
