"""The one batch path of the worker's `clean` agent, the replay and the offline mode. They differ
only in how they consume, send and commit; what happens to each message is decided here:

1. `decide`: one message -> its outcome, in stream order, on the thread that owns the feed
   state: a tombstone (null value), an article prepared for output (`Prepared`), a valid item
   passed without cleaning (`Passed`) or skipped (`Skipped`), or a dead letter (`Rejected`) — for
   invalid input, an article over `max_article_seconds`, or an internal error. The feed state
   keeps an article's writes only if it went through (`FeedState`);
2. `enrich_each`: entities for the batch's prepared articles; when the batch fails, each article
   alone, so one bad article costs only itself (a broken process pool stops the caller);
3. `conclude`: each prepared article's envelope, or its dead letter when finishing failed;
4. `to_record`: the record the outcome produces (`Outgoing`): envelope, tombstone, dead letter
   or nothing, each with the dead letter to send instead if Kafka refuses it as too large.

The worker's enrich stage splits 2 and 3 off to another agent: `clean` sends each prepared
article's `draft` there (`staged`), which runs `extract_each` and `complete_each` on it.

`Tally` counts what was sent. (`streams.core.pipeline.process` chains the core's three steps
without this path's guards — no deadline, no per-article fallback —: it is the pure reference
the core's tests and the chaos check compare against, not a fourth way to run the pipeline.) Times are Unix milliseconds throughout (`Outgoing.timestamp_ms`);
the Faust send (seconds) converts at `streams.kafka.delivery`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

from streams.core.envelope import Origin
from streams.core.feedwide import FeedFindings
from streams.core.models import ArticleWrites, Entity, SeenStore
from streams.core.pipeline import (
    Draft,
    Enrichment,
    Extractor,
    Passed,
    Prepared,
    Processed,
    Rejected,
    Skipped,
    complete,
    draft,
    enrich,
    extract,
    finish,
    ner_of,
    prepare,
)
from streams.core.settings import Limits, PipelineSettings
from streams.core.tombstone import Tombstone, tombstone
from streams.dead_letters import excerpt, now, refusal, rejection
from streams.deadline import Deadline

REASONS = ("repeat", "near_repeat", "boilerplate")  # the envelope's removal counts
Decided = Prepared | Processed | Skipped | Rejected | Tombstone
Final = Processed | Skipped | Rejected | Tombstone
Kind = Literal["envelope", "passed", "tombstone", "dead_letter", "article"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One consumed message, as the batch path needs it, whatever it was read from."""

    value: bytes | None  # None: a tombstone (a null Kafka value); b"" is a broken message
    key: bytes | None
    origin: Origin  # where it was read: topic/partition/offset, or file/line
    fallback_time: datetime | None = None  # the event time of an item without a time field
    fallback_source: str = "record_timestamp"  # what `fallback_time` is (the envelope says)
    timestamp_ms: int | None = None  # the input record's time: a tombstone's output time
    checked: bool = False  # already decoded and validated upstream (the worker's route agent)
    findings: FeedFindings | None = None  # the feed stage's, when it ran upstream; None: here
    handle: Any = None  # the shell's own record, handed back to `FeedState.keep`


class FeedState(Protocol):
    """The feed state, one article's writes at a time: `begin` opens them, `keep` applies them
    once the article went through; an article that fails half way leaves no trace."""

    def begin(self, incoming: Incoming) -> SeenStore: ...

    def keep(self, writes: SeenStore, incoming: Incoming) -> None: ...


class StoreState:
    """`FeedState` over one store, an `ArticleWrites` per article (replay, offline mode)."""

    __slots__ = ("store",)

    def __init__(self, store: SeenStore) -> None:
        self.store = store

    def begin(self, incoming: Incoming) -> ArticleWrites:
        return ArticleWrites(self.store)

    def keep(self, writes: ArticleWrites, incoming: Incoming) -> None:
        writes.commit()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce, and what to send instead if Kafka refuses it as too large."""

    topic: Any  # the worker's Faust topic, the replay's topic name, the offline mode's file
    key: bytes | None
    value: bytes | None  # None: a tombstone
    kind: Kind
    timestamp_ms: int | None = None  # None: the send time
    headers: Sequence[tuple[str, bytes]] | None = None
    partition: int | None = None  # None: by the key
    counts: Mapping[str, int] | None = None  # an envelope's removal counts
    instead: Callable[[BaseException], Outgoing] | None = None


def decide(incoming: Incoming, state: FeedState, settings: PipelineSettings, priming: bool = False) -> Decided:
    """The outcome of one message (see the module's docstring). `priming`: feed history into the
    state only (warm start)."""
    origin, key = incoming.origin, incoming.key
    if incoming.value is None:
        return tombstone(key, incoming.timestamp_ms, origin, now())
    raw, limits = incoming.value, settings.limits
    writes = state.begin(incoming)
    try:
        with Deadline(limits.max_article_seconds):
            outcome = prepare(raw, origin, writes, settings, incoming.fallback_time, key, priming=priming,
                              checked=incoming.checked, fallback_source=incoming.fallback_source,
                              findings=incoming.findings)
    except Exception as exc:
        outcome = rejection(raw, exc, limits, origin, key)
    if isinstance(outcome, Prepared):
        state.keep(writes, incoming)
    return outcome


def enrich_each(extractor: Extractor | None, prepared: Sequence[Prepared]) -> list[Enrichment | Exception]:
    """Entities per prepared article (pure CPU: the worker and the replay run it in a thread).
    When the batch fails, each article is tried alone and a failing one gets its exception; a
    broken process pool is no article's fault and propagates."""
    return _each(lambda some: enrich(extractor, some), prepared)


def extract_each(extractor: Extractor | None, drafts: Sequence[Draft]) -> list[list[Entity] | Exception]:
    """`enrich_each` for the enrich stage's drafts."""
    return _each(lambda some: extract(extractor, some), drafts)


def _each(run: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any]) -> list[Any]:
    try:
        return list(run(items))
    except BrokenExecutor:
        raise
    except Exception:
        found: list[Any] = []
        for one in items:
            try:
                found.extend(run([one]))
            except BrokenExecutor:
                raise
            except Exception as exc:
                found.append(exc)
        return found


def conclude(incomings: Sequence[Incoming], decided: Sequence[Decided], enrichments: Sequence[Enrichment | Exception],
             limits: Limits) -> list[Final]:
    """Each prepared article finished with its enrichment (in order); the other outcomes as they are."""
    found = iter(enrichments)
    return _each_of(Prepared, incomings, decided, lambda one: finish(one, _or_raise(next(found))), limits)


Staged = Draft | Passed | Tombstone  # what `clean` sends to the enrich stage


def staged(incomings: Sequence[Incoming], decided: Sequence[Decided], extractor: Extractor | None,
           limits: Limits) -> list[Staged | Skipped | Rejected]:
    """`conclude` without the model: each prepared article as its draft (or its dead letter,
    should drafting fail); the other outcomes as they are."""
    return _each_of(Prepared, incomings, decided, lambda one: draft(one, ner_of(extractor, one)), limits)


def drafts_of(outcomes: Sequence[Staged]) -> list[Draft]:
    return [outcome for outcome in outcomes if isinstance(outcome, Draft)]


def complete_each(incomings: Sequence[Incoming], outcomes: Sequence[Staged],
                  entities: Sequence[list[Entity] | Exception], limits: Limits) -> list[Final]:
    """Each draft completed with its entities (in order), or its dead letter when that failed;
    passed envelopes and tombstones as they are."""
    found = iter(entities)
    return _each_of(Draft, incomings, outcomes, lambda one: complete(one, _or_raise(next(found))), limits)


def _each_of(kind: type, incomings: Sequence[Incoming], outcomes: Sequence[Any], step: Callable[[Any], Any],
             limits: Limits) -> list[Any]:
    """`step` on each outcome of `kind` (its input's dead letter when it raises); the rest as they are."""
    out = []
    for incoming, outcome in zip(incomings, outcomes):
        if isinstance(outcome, kind):
            try:
                outcome = step(outcome)
            except Exception as exc:
                outcome = rejection(incoming.value or b"", exc, limits, incoming.origin, incoming.key)
        out.append(outcome)
    return out


def _or_raise(result: Any) -> Any:
    """A per-article result of the model, or the exception it got instead, raised."""
    if isinstance(result, Exception):
        raise result
    return result


def prepared_of(decided: Sequence[Decided]) -> list[Prepared]:
    return [outcome for outcome in decided if isinstance(outcome, Prepared)]


def to_record(incoming: Incoming, outcome: Final, output: Any, dlq: Any,
              on_refused: Callable[[Rejected], None] | None = None) -> Outgoing | None:
    """The record `outcome` produces on `output` or `dlq` (None for a skipped item). An envelope
    Kafka refuses as too large becomes its dead letter (`on_refused` hears of it)."""
    if isinstance(outcome, Tombstone):
        return Outgoing(output, outcome.key, None, "tombstone", outcome.timestamp_ms)
    if isinstance(outcome, Rejected):
        return dead_letter_record(outcome, dlq)
    if isinstance(outcome, Skipped):
        return None
    value = orjson.dumps(outcome.envelope)

    def instead(exc: BaseException) -> Outgoing:
        rejected = refusal(incoming.value or b"", "the envelope", len(value), exc, incoming.origin, incoming.key,
                           "output_too_large")
        if on_refused is not None:
            on_refused(rejected)
        return dead_letter_record(rejected, dlq)

    kind: Kind = "passed" if isinstance(outcome, Passed) else "envelope"
    return Outgoing(output, outcome.key, value, kind, outcome.timestamp_ms, counts=outcome.envelope.get("counts"),
                    instead=instead)


def dead_letter_record(rejected: Rejected, dlq: Any) -> Outgoing:
    """A dead letter; too large for the dead-letter topic, it keeps only the start of the original."""
    record = rejected.record
    return Outgoing(dlq, None, orjson.dumps(record), "dead_letter",
                    instead=lambda exc: Outgoing(dlq, None, orjson.dumps(excerpt(record, exc)), "dead_letter"))


@dataclass(slots=True)
class Tally:
    """What a run sent, by kind, and the envelopes' removals."""

    read: int = 0
    written: int = 0  # envelopes, cleaned and passed, and tombstones
    passed: int = 0
    skipped: int = 0  # NEWSCLEAN_NON_TEXT=skip
    dead_lettered: int = 0
    tombstones: int = 0
    removed: Counter = field(default_factory=lambda: Counter(dict.fromkeys(REASONS, 0)))

    def count(self, sent: Outgoing | None) -> None:
        """One outcome's record, as sent (None: a skipped item)."""
        if sent is None:
            self.skipped += 1
        elif sent.kind == "dead_letter":
            self.dead_lettered += 1
        elif sent.kind != "article":
            self.written += 1
            self.passed += sent.kind == "passed"
            self.tombstones += sent.kind == "tombstone"
            for reason in REASONS:
                self.removed[reason] += (sent.counts or {}).get(reason, 0)
