"""The offline mode: the same pipeline over files instead of topics, for trying the cleaner
without Kafka, for evaluation, and for priming the feed state from history (warm start)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Iterator

from streams.batch import Incoming, StoreState, Tally, conclude, decide, enrich_each, prepared_of, to_record
from streams.core.envelope import Origin
from streams.core.models import MemoryStore, SeenStore
from streams.core.pipeline import Extractor, Prepared, Rejected, event_time
from streams.core.settings import PipelineSettings
from streams.input_files import FORMAT_NAMES, Reading, read_items


@dataclass(slots=True)
class FileTally(Tally):
    """The batch path's tally, and how the input files were read."""

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
    state = StoreState(store)
    for path in paths:
        previous = None  # the offline time fallback, as in `clean_file`
        for raw, origin in read_messages(path):
            outcome = decide(_incoming(raw, origin, previous), state, settings, priming=True)
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
) -> FileTally:
    """Envelopes as JSON lines on `out`, dead letters on `dlq` (and a line on stderr each)."""
    state = StoreState(MemoryStore() if store is None else store)
    tally = FileTally()
    batch: list[tuple[bytes, Origin]] = []
    # An item without a time field takes the event time of the item before it in the file (the
    # Unix epoch for the first): deterministic, and close to the truth in a feed written in order.
    previous: list = [None]

    def flush() -> None:
        incomings, decided = [], []
        for raw, origin in batch:
            incomings.append(_incoming(raw, origin, previous[0]))
            decided.append(decide(incomings[-1], state, settings))
            previous[0] = event_time(decided[-1]) or previous[0]
        final = conclude(incomings, decided, enrich_each(extractor, prepared_of(decided)), settings.limits)
        for incoming, outcome in zip(incomings, final):
            record = to_record(incoming, outcome, out, dlq)  # files refuse no record: `instead` never runs
            tally.count(record)
            if isinstance(outcome, Rejected):
                _report(outcome)
            if record is not None and record.topic is not None:
                record.topic.write(record.value + b"\n")
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


def _incoming(raw: bytes, origin: Origin, previous: datetime | None) -> Incoming:
    return Incoming(raw, None, origin, previous, fallback_source="fallback")


def _report(rejected: Rejected) -> None:
    where = rejected.record["input"]
    print(f"newsclean: {where.get('file')}:{where.get('line')}: {rejected.reason}: {rejected.record['detail']}", file=sys.stderr)
