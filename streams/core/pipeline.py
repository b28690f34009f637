"""The one path every message takes, in three steps that the worker and the offline mode share:

1. `prepare`: bytes -> validated `Article` -> dedup decision (reads and updates the feed state;
   must run in stream order, on the thread that owns the state);
2. `enrich`: entity extraction for a batch of prepared articles, those in a language the model
   serves (pure CPU: the worker runs it in an executor so the event loop never blocks);
3. `finish`: the output envelope, keyed by article uri and timestamped with the event time.

`process` chains the three for callers that need no concurrency (offline mode, tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

from .dedup import DedupSettings, deduplicate
from .feedwide import FeedFindings, FeedSettings, observe
from .envelope import Origin, build_envelope, dead_letter
from .languages import NER_DISABLED, ner_status
from .mentions import ItemMetadata
from .models import Article, DedupResult, Entity, SeenStore
from .ninjs import InvalidInput, Limits, decode, parse_article


class Extractor(Protocol):
    languages: tuple[str, ...]  # primary language subtags the model serves; "*": any

    def extract_many(self, items: Sequence[tuple[str, Sequence[str], ItemMetadata]]) -> list[list[Entity]]: ...


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    dedup: DedupSettings = field(default_factory=DedupSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class Prepared:
    article: Article
    result: DedupResult
    origin: Origin
    findings: FeedFindings = field(default_factory=FeedFindings)  # the feed stage's: duplicate_of


@dataclass(frozen=True, slots=True)
class Enrichment:
    entities: list[Entity]  # [] when the model did not run
    ner: dict[str, Any]  # the envelope's `ner` record: whether the model ran, and if not why


@dataclass(frozen=True, slots=True)
class Processed:
    key: bytes  # the article uri: a compacted output topic keeps the newest version per article
    timestamp_ms: int  # the article's event time
    envelope: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    record: dict[str, Any]  # the dead-letter record, original bytes included


def prepare(
    raw: bytes,
    origin: Origin,
    store: SeenStore,
    settings: PipelineSettings,
    fallback_time: datetime | None = None,
    key: bytes | None = None,
    priming: bool = False,
    checked: bool = False,
    findings: FeedFindings | None = None,
) -> Prepared | Rejected:
    """`priming=True` feeds history into the state (warm start): primed articles count as
    evidence for articles on either side of their time, within the horizon. `checked=True`:
    the same bytes already passed decode and validation (the worker's route agent), which are
    then not repeated — they are a fifth of the worker's CPU without NER.

    `findings`: what the feed stage found for this article (the worker's feed agent sends them
    in a header). None runs the feed stage here, on `store` (offline mode, replay: one store
    holds both the feed-wide and the per-source state, under distinct keys)."""
    try:
        article = parse_article(decode(raw, settings.limits, checked), fallback_time, settings.limits, checked)
    except InvalidInput as exc:
        return Rejected(exc.reason, dead_letter(raw, exc.reason, exc.detail, origin, _now(), key))
    if findings is None:
        findings = observe(article, store, settings.feed)
    result = deduplicate(article, store, settings.dedup, priming=priming, context=findings.context)
    return Prepared(article, result, origin, findings)


def enrich(extractor: Extractor | None, prepared: Sequence[Prepared]) -> list[Enrichment]:
    """Entities per article, from the articles in a language the model serves (`languages`):
    the others, and all of them when NER is off (`extractor` None), get none."""
    if extractor is None:
        return [Enrichment([], dict(NER_DISABLED)) for _ in prepared]
    statuses = [ner_status(p.article.ninjs.get("language"), extractor.languages) for p in prepared]
    texts = [(p.article.headline, [k.text for k in p.result.kept], item_metadata(p.article))
             for p, s in zip(prepared, statuses) if s["ran"]]
    found = iter(extractor.extract_many(texts) if texts else ())
    return [Enrichment(next(found) if status["ran"] else [], status) for status in statuses]


def item_metadata(article: Article) -> ItemMetadata:
    """What the item says about itself, for entity rules: its outlet and its byline."""
    by = article.ninjs.get("by")
    return ItemMetadata(source=article.source, by=by if isinstance(by, str) else "")


def finish(prepared: Prepared, enrichment: Enrichment, processed_at: datetime | None = None) -> Processed:
    article = prepared.article
    link = prepared.findings.link
    envelope = build_envelope(
        article, prepared.result, enrichment.entities, prepared.origin, processed_at or _now(), ner=enrichment.ner,
        duplicate_of=link.to_json() if link else None,
    )
    return Processed(article.uri.encode(), int(article.event_time.timestamp() * 1000), envelope)


def process(
    messages: Sequence[tuple[bytes, Origin]],
    store: SeenStore,
    settings: PipelineSettings,
    extractor: Extractor | None,
) -> list[Processed | Rejected]:
    """All three steps over a batch, outcomes in input order."""
    outcomes: list[Prepared | Rejected] = [prepare(raw, origin, store, settings) for raw, origin in messages]
    accepted = [o for o in outcomes if isinstance(o, Prepared)]
    enrichments = iter(enrich(extractor, accepted))
    return [finish(o, next(enrichments)) if isinstance(o, Prepared) else o for o in outcomes]


def _now() -> datetime:
    return datetime.now(timezone.utc)
