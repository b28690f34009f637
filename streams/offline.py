"""The offline mode: the same pipeline over files instead of topics, for trying the cleaner
without Kafka, for evaluation, and for priming the feed state from history (warm start)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import orjson

from .core.envelope import Origin
from .core.models import MemoryStore, SeenStore
from .core.pipeline import Extractor, Prepared, Processed, Rejected, Skipped, event_time, prepare, process
from .core.settings import PipelineSettings
from .input_files import FORMAT_NAMES, Reading, read_items


@dataclass(slots=True)
class Tally:
    read: int = 0
    written: int = 0  # envelopes, cleaned and passed
    passed: int = 0
    skipped: int = 0  # NEWSCLEAN_NON_TEXT=skip
    dead_lettered: int = 0
    blank_lines: int = 0  # skipped, between the items of the input
    formats: list[str] = field(default_factory=list)  # what each input file was read as

    def summary(self) -> str:
        read_as = ", ".join(dict.fromkeys(FORMAT_NAMES[f] for f in self.formats)) or "nothing"
        return (f"read {self.read} ({read_as}; {self.blank_lines} blank lines skipped), wrote {self.written} "
                f"({self.passed} passed without cleaning), skipped {self.skipped}, dead-lettered {self.dead_lettered}")


def read_messages(path: str, reading: Reading | None = None) -> Iterator[tuple[bytes, Origin]]:
    """Every item of the file (`streams.input_files`: JSON Lines, pretty-printed objects, arrays),
    and every broken part of it, as its original bytes with its file and starting line."""
    name = "<stdin>" if path == "-" else path
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    for raw, line in read_items(data, reading):
        yield raw, Origin(file=name, line=line)


def prime(paths: list[str], store: SeenStore, settings: PipelineSettings) -> int:
    """Feed history through the dedup state only: no output, no NER. Returns articles primed."""
    primed = 0
    for path in paths:
        previous = None  # the offline time fallback, as in `clean_file`
        for raw, origin in read_messages(path):
            outcome = prepare(raw, origin, store, settings, previous, priming=True, fallback_source="fallback")
            previous = event_time(outcome) or previous
            primed += isinstance(outcome, Prepared)
    return primed


def clean_file(
    path: str,
    out: IO[bytes],
    dlq: IO[bytes] | None,
    settings: PipelineSettings,
    extractor: Extractor | None,
    store: SeenStore | None = None,
    batch_size: int = 64,
) -> Tally:
    store = MemoryStore() if store is None else store
    tally = Tally()
    batch: list[tuple[bytes, Origin]] = []
    # An item without a time field takes the event time of the item before it in the file (the
    # Unix epoch for the first): deterministic, and close to the truth in a feed written in order.
    previous: list = [None]

    def flush() -> None:
        for outcome in process(batch, store, settings, extractor, previous[0]):
            previous[0] = event_time(outcome) or previous[0]
            if isinstance(outcome, Processed):
                out.write(orjson.dumps(outcome.envelope) + b"\n")
                tally.written += 1
                tally.passed += outcome.envelope["status"] == "passed"
            elif isinstance(outcome, Skipped):
                tally.skipped += 1
            else:
                _report(outcome, dlq)
                tally.dead_lettered += 1
        batch.clear()

    reading = Reading()
    for message in read_messages(path, reading):
        tally.read += 1
        batch.append(message)
        if len(batch) >= batch_size:
            flush()
    flush()
    tally.blank_lines += reading.blank_lines
    tally.formats.append(reading.format)
    out.flush()
    return tally


def _report(rejected: Rejected, dlq: IO[bytes] | None) -> None:
    where = rejected.record["input"]
    print(f"newsclean: {where.get('file')}:{where.get('line')}: {rejected.reason}: {rejected.record['detail']}", file=sys.stderr)
    if dlq is not None:
        dlq.write(orjson.dumps(rejected.record) + b"\n")
