"""Replays and backfills: a bounded consume -> pipeline -> produce loop over historical topics.

    newsclean replay [TOPIC ...] [--from ISO] [--to ISO] [--offsets T:P:START-END,...]
                     [--name NAME] [--output TOPIC] [--warm-from ISO] [--dry-run] [--rate N]

Python: `await streams.replay.replay(ReplayRequest(...), settings) -> ReplaySummary` (a coroutine;
`streams.replay.cli.main` wraps it in `asyncio.run`). This module holds what a replay is: the
request, its names, its tally and summary.

It runs the worker's core steps (`prepare` in stream order on a feed store, `enrich`, `finish`) on
raw aiokafka clients, isolated from the live worker: its own consumer group
`<app_id>-replay-<name>` (whose offsets it commits, never the live group's), its own state topic
`<group>-state`, its own output and dead-letter topics (default `<output>-backfill`,
`<dlq>-backfill`). Each batch's envelopes, dead letters, state changes and consumed offsets
commit in one Kafka transaction, so a replay killed at any point and started again with the same
arguments resumes where it committed, and a read_committed reader of the output sees each input
(uri, version) once. Reading order: see `merge`; range resolution: `ranges`;
durable state: `journal`; the run itself: `run`; topics and why the backfill topic
has no time retention: `topics`. The feed state follows article event times only."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.batch import REASONS, Tally
from streams.config import ConfigError, Settings
from streams.replay.journal import Restored
from streams.replay.progress import Mode
from streams.replay.ranges import OffsetRequest, RangeError, Span

NAME = re.compile(r"^[A-Za-z0-9._-]{1,120}$")


class ReplayConflict(RuntimeError):
    """A replay of this name exists with other arguments or settings."""


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    topics: tuple[str, ...] = ()  # () = the worker's input topics (NEWSCLEAN_INPUT_TOPICS / _PATTERN)
    start: datetime | None = None  # --from, inclusive (record timestamps)
    end: datetime | None = None  # --to, exclusive
    offsets: tuple[OffsetRequest, ...] = ()  # explicit spans instead of a time range
    partitions: tuple[int, ...] | None = None  # only these partitions of every topic
    name: str | None = None  # None: derived from the arguments, so the same command resumes
    output_topic: str | None = None  # None: <output_topic>-backfill
    dlq_topic: str | None = None  # None: <dlq_topic>-backfill
    warm_from: datetime | None = None  # prime the feed state from [warm_from, start) first
    dry_run: bool = False  # counts only: no output, no commits, no NER, nothing read from earlier runs
    rate: float | None = None  # articles/s cap
    ner: bool | None = None  # None: settings.ner_enabled
    batch_size: int = 500  # articles per transaction at most
    commit_interval_s: float = 2.0  # longest time a batch collects articles
    progress: Mode = "auto"  # a bar on a terminal, JSON lines otherwise
    progress_every_s: float = 10.0  # between JSON progress lines

    def check(self) -> None:
        if self.offsets and (self.start or self.end or self.topics or self.partitions):
            raise RangeError("--offsets names its own topics and partitions: drop TOPIC, --from, --to, --partitions")
        if self.start and self.end and self.end <= self.start:
            raise RangeError("--to must be after --from")
        if self.warm_from and (self.start is None or self.warm_from >= self.start):
            raise RangeError("--warm-from needs --from, and must be before it")
        if self.name is not None and not NAME.match(self.name):
            raise RangeError(f"--name {self.name!r}: use letters, digits, '.', '_' and '-'")
        if self.rate is not None and self.rate <= 0 or self.batch_size < 1 or self.commit_interval_s <= 0:
            raise RangeError("--rate, --batch-size and --commit-interval must be positive")


@dataclass(frozen=True, slots=True)
class Names:
    name: str
    group: str  # consumer group and transactional id
    state_topic: str
    output_topic: str
    dlq_topic: str


@dataclass(slots=True)
class ReplayTally(Tally):
    """The batch path's tally and a warm start's, committed with every batch so a resumed replay
    reports the whole run."""

    primed: int = 0  # articles fed through the feed state by a warm start
    warm_articles_changed: int = 0  # articles whose removals differ from a cold replay's
    warm_removed_extra: Counter = field(default_factory=Counter)  # removed warm, kept cold, by reason
    warm_kept_extra: Counter = field(default_factory=Counter)  # kept warm, removed cold, by cold reason

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ReplayTally:
        tally = cls()
        for key, value in (data or {}).items():
            current = getattr(tally, key)
            setattr(tally, key, Counter(current) + Counter(value) if isinstance(current, Counter) else value)
        for reason in REASONS:
            tally.removed[reason] += 0  # keep zero counts in the summary
        return tally

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read, "written": self.written, "dead_lettered": self.dead_lettered, "tombstones": self.tombstones,
            "passed": self.passed, "skipped": self.skipped, "primed": self.primed,
            "warm_articles_changed": self.warm_articles_changed, "removed": dict(self.removed),
            "warm_removed_extra": dict(self.warm_removed_extra), "warm_kept_extra": dict(self.warm_kept_extra),
        }


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    names: Names
    status: str  # complete | already_complete | stopped (a signal; run again to resume)
    totals: ReplayTally  # over the whole replay, resumed runs included
    this_run: dict[str, int]
    duration_s: float  # this run
    resumed: bool
    dry_run: bool
    spans: tuple[Span, ...]
    warm: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        t = self.totals
        return {
            "event": "summary", "status": self.status, "name": self.names.name, "group": self.names.group,
            "output_topic": self.names.output_topic, "dlq_topic": self.names.dlq_topic,
            "state_topic": self.names.state_topic,
            "read": t.read, "written": t.written, "dead_lettered": t.dead_lettered, "tombstones": t.tombstones,
            "removed": dict(t.removed),
            "duration_s": round(self.duration_s, 3), "this_run": self.this_run, "resumed": self.resumed,
            "dry_run": self.dry_run,
            "spans": [{"topic": s.topic, "partition": s.partition, "start": s.start, "end": s.end} for s in self.spans],
            "warm": self.warm,
        }


def identity(request: ReplayRequest, settings: Settings) -> dict[str, Any]:
    """Everything that shapes a replay's output; a resumed run must match it."""
    ner = settings.ner_enabled if request.ner is None else request.ner
    return {
        "topics": list(request.topics) or (None if settings.input_pattern else list(settings.input_topics)),
        "pattern": None if request.topics else (settings.input_pattern or None),
        "from": request.start.isoformat() if request.start else None,
        "to": request.end.isoformat() if request.end else None,
        "offsets": [[o.topic, o.partition, o.start, o.end] for o in request.offsets],
        "partitions": list(request.partitions) if request.partitions else None,
        "warm_from": request.warm_from.isoformat() if request.warm_from else None,
        "output": request.output_topic, "dlq": request.dlq_topic,
        # settings that change decisions: a replay resumed under other thresholds would mix outputs
        "pipeline": hashlib.sha256(repr(settings.pipeline).encode()).hexdigest()[:16],
        "ner": repr(settings.ner) if ner else None,
    }


def names_for(request: ReplayRequest, settings: Settings) -> Names:
    name = request.name
    if name is None:
        digest = hashlib.sha256(repr(sorted(identity(request, settings).items())).encode()).hexdigest()
        name = "r" + digest[:10]
    group = f"{settings.app_id}-replay-{name}"
    return Names(
        name=name, group=group, state_topic=f"{group}-state",
        output_topic=request.output_topic or f"{settings.output_topic}-backfill",
        dlq_topic=request.dlq_topic or f"{settings.dlq_topic}-backfill",
    )


def check_names(names: Names, topics: list[str]) -> None:
    clash = {names.output_topic, names.dlq_topic, names.state_topic} & set(topics)
    if clash:
        raise ConfigError(f"the replay would write to its own input topic(s): {', '.join(sorted(clash))}")


def conflict_check(restored: Restored, wanted: dict[str, Any], names: Names) -> None:
    if restored.plan is not None and restored.plan.get("identity") != wanted:
        theirs = restored.plan.get("identity") or {}
        differ = sorted(k for k in set(theirs) | set(wanted) if theirs.get(k) != wanted.get(k))
        raise ReplayConflict(
            f"replay {names.name!r} (group {names.group}) was started with other arguments or settings "
            f"({', '.join(differ)}); use another --name, or the original arguments to resume it"
        )
