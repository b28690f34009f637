"""What `route` and `feed` tell the later stages in record headers, and reading it back.

The origin (input topic, partition, offset) and the input record's time travel as headers from
`route` to `clean`: those stages see different records (of different topics), so this one
encode/decode is what remains of the origin's round trip; within a stage it stays an `Origin`.
The input time is written in seconds (Faust's record time unit; older workers' records read
the same) and read into the batch path's milliseconds here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from streams.batch import Incoming
from streams.core.envelope import Origin
from streams.core.feedwide import NO_FINDINGS, FeedFindings

ORIGIN_HEADER = "newsclean-origin"
INPUT_TIME_HEADER = "newsclean-input-time"  # the input record's timestamp (s): the event time of last resort
# Set by `route` on what it re-keys: the bytes passed decode and schema validation there, so `clean`
# does not repeat them. The by-source topic is internal (only `route` writes it); a record without
# the header (an older worker's) is checked again.
CHECKED_HEADER = "newsclean-checked"
FEED_HEADER = "newsclean-feed"  # the feed stage's findings for the article (`FeedFindings.encode`)


def record_time(message: Any) -> datetime | None:
    return datetime.fromtimestamp(message.timestamp, timezone.utc) if message.timestamp else None


def _named(message: Any) -> dict[str, bytes]:
    """The record's headers by name, the first of each name (as each reader below takes it)."""
    named: dict[str, bytes] = {}
    for name, value in message.headers or ():
        named.setdefault(name, value)
    return named


def input_time(message: Any, named: dict[str, bytes] | None = None) -> datetime | None:
    """The input record's timestamp, which `route` resolved the event time against: the by-source
    record's own timestamp is its append time."""
    named = _named(message) if named is None else named
    if INPUT_TIME_HEADER in named:
        value = named[INPUT_TIME_HEADER]
        return datetime.fromtimestamp(float(value), timezone.utc) if value else None
    return record_time(message)


def is_checked(message: Any, named: dict[str, bytes] | None = None) -> bool:
    return (_named(message) if named is None else named).get(CHECKED_HEADER) == b"1"


def findings_of(message: Any, named: dict[str, bytes] | None = None) -> FeedFindings:
    """The feed stage's findings from the header; none when the stage could not read the article."""
    value = (_named(message) if named is None else named).get(FEED_HEADER)
    return NO_FINDINGS if value is None else FeedFindings.decode(value)


def origin_of(message: Any, named: dict[str, bytes] | None = None) -> Origin:
    value = (_named(message) if named is None else named).get(ORIGIN_HEADER)
    if value is not None:
        return Origin(**orjson.loads(value))
    return Origin(topic=message.topic, partition=message.partition, offset=message.offset)


def routed(origin: Origin, message: Any, checked: bool) -> list[tuple[str, bytes]]:
    """The headers `route` puts on what it passes on."""
    headers = [(ORIGIN_HEADER, orjson.dumps(origin)), (INPUT_TIME_HEADER, str(message.timestamp or "").encode())]
    return headers + [(CHECKED_HEADER, b"1")] if checked else headers


def incoming(message: Any) -> Incoming:
    """A by-source record as the batch path's input (`handle`: the record, for its partition);
    its headers read in one pass."""
    named = _named(message)
    moment = input_time(message, named)
    return Incoming(message.value, message.key, origin_of(message, named), moment,
                    timestamp_ms=None if moment is None else round(moment.timestamp() * 1000),
                    checked=is_checked(message, named), findings=findings_of(message, named), handle=message)
