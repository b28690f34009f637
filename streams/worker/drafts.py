"""The records of the enrich topic (`<app_id>-enrich`, keyed by article uri): what `clean` sends
for each outcome bound for the output topic, and what the `enrich` agent reads back.

A record is a frame: 4 bytes (big-endian) giving the length of an orjson header, the header,
then the original input bytes, verbatim, so that a dead letter written by the enrich stage
carries them as one written by `clean` would (never base64 inflated, never re-encoded). The
header holds the kind — `draft` (a prepared article: the envelope without entities and the
model's inputs), `passed` (a finished envelope) or `tombstone` —, the output timestamp, and the
dead letter's origin and key. Plain data only: no pickle, nothing executable."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from streams.batch import Incoming, Staged
from streams.core.envelope import Origin
from streams.core.mentions import ItemMetadata
from streams.core.pipeline import Draft, Passed
from streams.core.tombstone import Tombstone

_LENGTH = struct.Struct(">I")


class BadFrame(ValueError):
    """A record of the enrich topic that is not a frame of this module (never written by `clean`)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One enrich-topic record read back: the outcome and the input it came from (for a dead letter)."""

    outcome: Staged
    incoming: Incoming


def encode(outcome: Staged, incoming: Incoming) -> bytes:
    header: dict[str, Any] = {
        "origin": dict(incoming.origin),
        "input_key": None if incoming.key is None else base64.b64encode(incoming.key).decode("ascii"),
    }
    if isinstance(outcome, Tombstone):
        header.update(kind="tombstone", key=_b64(outcome.key), ts=outcome.timestamp_ms)
    elif isinstance(outcome, Passed):
        header.update(kind="passed", key=_b64(outcome.key), ts=outcome.timestamp_ms, envelope=outcome.envelope,
                      why=outcome.why)
    else:
        model = None
        if outcome.model_input is not None:
            headline, paragraphs, metadata = outcome.model_input
            model = {"headline": headline, "paragraphs": list(paragraphs), "source": metadata.source, "by": metadata.by}
        header.update(kind="draft", key=_b64(outcome.key), ts=outcome.timestamp_ms, envelope=outcome.envelope,
                      model=model)
    encoded = orjson.dumps(header)
    return _LENGTH.pack(len(encoded)) + encoded + (incoming.value or b"")


def decode(value: bytes | None) -> Frame:
    if value is None or len(value) < _LENGTH.size:
        raise BadFrame("not an enrich frame: too short")
    (length,) = _LENGTH.unpack_from(value)
    end = _LENGTH.size + length
    if end > len(value):
        raise BadFrame("not an enrich frame: header past the end")
    try:
        header = orjson.loads(value[_LENGTH.size:end])
        kind, key = header["kind"], base64.b64decode(header["key"])
        origin = Origin(**header["origin"])
        input_key = None if header["input_key"] is None else base64.b64decode(header["input_key"])
        outcome: Staged
        if kind == "tombstone":
            outcome = Tombstone(key, header["ts"])
        elif kind == "passed":
            outcome = Passed(key, header["ts"], header["envelope"], header["why"])
        elif kind == "draft":
            model = header["model"]
            model_input = None if model is None else (
                model["headline"], model["paragraphs"], ItemMetadata(source=model["source"], by=model["by"]))
            outcome = Draft(key, header["ts"], header["envelope"], model_input)
        else:
            raise BadFrame(f"not an enrich frame: kind {kind!r}")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, BadFrame):
            raise
        raise BadFrame(f"not an enrich frame: {exc!r}") from exc
    raw = value[end:]
    return Frame(outcome, Incoming(raw, input_key, origin))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
