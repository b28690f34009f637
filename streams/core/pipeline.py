"""The one path every message takes, in three steps that the worker and the offline mode share:

1. `prepare`: bytes -> validated item in ninjs 3.1 -> for a text item, an `Article` and its dedup
   decision (`Prepared`; reads and updates the feed state; must run in stream order, on the
   thread that owns the state); for a valid item that is not cleaned, `Passed` (its envelope is
   ready) or `Skipped` (NEWSCLEAN_NON_TEXT=skip); for an invalid one, `Rejected`;
2. `enrich`: entity extraction for a batch of prepared articles, those in a language the model
   serves (pure CPU: the worker runs it in an executor so the event loop never blocks);
3. `finish`: the output envelope, keyed by article uri and timestamped with the event time.

`finish` is `draft` (the envelope without entities, and what the model reads) then `complete`
(the entities added): the worker's enrich stage takes the draft to another worker and runs
`extract` and `complete` there, for the same envelope. `process` chains the three steps for
callers that need no concurrency (offline mode, tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

from .dedup import deduplicate
from .envelope import Origin, build_envelope, dead_letter, passed_envelope, with_entities
from .feedwide import FeedFindings, observe
from .languages import NER_DISABLED, ner_status
from .mentions import ItemMetadata
from .models import Article, DedupResult, Entity, SeenStore
from .ninjs import InvalidInput, Item, decode, read_item, to_article
from .ninjs.item import KILLED
from .settings import PipelineSettings


ModelInput = tuple[str, Sequence[str], ItemMetadata]  # an article's headline, kept paragraphs, metadata


class Extractor(Protocol):
    languages: tuple[str, ...]  # primary language subtags the model serves; "*": any

    def extract_many(self, items: Sequence[ModelInput]) -> list[list[Entity]]: ...


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
class Draft:
    """A prepared article's envelope without its entities, and what the model reads for them."""

    key: bytes  # as `Processed`
    timestamp_ms: int
    envelope: dict[str, Any]  # its `ner` record says whether the model runs
    model_input: ModelInput | None  # None: the model does not run for this article


@dataclass(frozen=True, slots=True)
class Processed:
    key: bytes  # the article uri: a compacted output topic keeps the newest version per article
    timestamp_ms: int  # the article's event time
    envelope: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Passed(Processed):
    """A valid item forwarded without cleaning (envelope status "passed"), keyed by its uri, so a
    withheld or canceled version replaces the cleaned one in a compacted output topic. `why`:
    non_text, no_text, withheld or canceled."""

    why: str = "non_text"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A valid item that is not cleaned, under NEWSCLEAN_NON_TEXT=skip: nothing is written."""

    why: str  # non_text or no_text
    uri: str
    origin: Origin


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
    fallback_source: str = "record_timestamp",
    findings: FeedFindings | None = None,
) -> Prepared | Passed | Skipped | Rejected:
    """`priming=True` feeds history into the state (warm start): primed articles count as
    evidence for articles on either side of their time, within the horizon. `checked=True`:
    the same bytes already passed decode and validation (the worker's route agent), which are
    then not repeated. `fallback_time` is the event time of an item without a time field
    (`fallback_source` says what it is: "record_timestamp" live, "fallback" offline); without one,
    the Unix epoch. Items that are not cleaned never touch the feed state.

    `findings`: what the feed stage found for this article (the worker's feed agent sends them
    in a header). None runs the feed stage here, on `store` (offline mode, replay: one store
    holds both the feed-wide and the per-source state, under distinct keys)."""
    try:
        source = fallback_source if fallback_time is not None else "fallback"
        item = read_item(decode(raw, settings.limits, checked), fallback_time, source, settings.limits, settings.input, checked)
        if item.passed_as is not None:
            return _not_cleaned(item, raw, origin, settings, key)
        article = to_article(item)
    except InvalidInput as exc:
        return Rejected(exc.reason, dead_letter(raw, exc.reason, exc.detail, origin, _now(), key))
    if findings is None:
        findings = observe(article, store, settings.feed)
    result = deduplicate(article, store, settings.dedup, priming=priming, context=findings.context)
    return Prepared(article, result, origin, findings)


def _not_cleaned(item: Item, raw: bytes, origin: Origin, settings: PipelineSettings, key: bytes | None) -> Passed | Skipped | Rejected:
    policy = "pass" if item.passed_as in KILLED else settings.input.non_text  # kills always reach the output
    if policy == "skip":
        return Skipped(item.passed_as or "non_text", item.uri, origin)
    if policy == "dlq":
        detail = f"not a text item to clean ({item.passed_as}) and NEWSCLEAN_NON_TEXT=dlq"
        return Rejected("non_text", dead_letter(raw, "non_text", detail, origin, _now(), key))
    envelope = passed_envelope(item, origin, _now())
    return Passed(item.uri.encode(), int(item.event_time.timestamp() * 1000), envelope, item.passed_as or "non_text")


def enrich(extractor: Extractor | None, prepared: Sequence[Prepared]) -> list[Enrichment]:
    """Entities per article, from the articles in a language the model serves (`languages`):
    the others, and all of them when NER is off (`extractor` None), get none."""
    statuses = [ner_of(extractor, p) for p in prepared]
    texts = [model_input(p) for p, s in zip(prepared, statuses) if s["ran"]]
    found = iter(extractor.extract_many(texts) if texts and extractor is not None else ())
    return [Enrichment(next(found) if status["ran"] else [], status) for status in statuses]


def ner_of(extractor: Extractor | None, prepared: Prepared) -> dict[str, Any]:
    """The envelope's `ner` record: whether the model runs for this article, and if not why."""
    if extractor is None:
        return dict(NER_DISABLED)
    return ner_status(prepared.article.ninjs.get("language"), extractor.languages)


def model_input(prepared: Prepared) -> ModelInput:
    """What the model reads: the headline and the kept paragraphs only."""
    return prepared.article.headline, [k.text for k in prepared.result.kept], item_metadata(prepared.article)


def item_metadata(article: Article) -> ItemMetadata:
    """What the item says about itself, for entity rules: its outlet and its byline."""
    by = article.ninjs.get("by")
    return ItemMetadata(source=article.source, by=by if isinstance(by, str) else "")


def finish(prepared: Prepared, enrichment: Enrichment, processed_at: datetime | None = None) -> Processed:
    return complete(draft(prepared, enrichment.ner, processed_at), enrichment.entities)


def draft(prepared: Prepared, ner: dict[str, Any], processed_at: datetime | None = None) -> Draft:
    """The envelope without entities; `ner` (`ner_of`) says whether the model will run."""
    article = prepared.article
    link = prepared.findings.link
    envelope = build_envelope(
        article, prepared.result, (), prepared.origin, processed_at or _now(), ner=ner,
        duplicate_of=link.to_json() if link else None,
    )
    return Draft(article.uri.encode(), int(article.event_time.timestamp() * 1000), envelope,
                 model_input(prepared) if ner.get("ran") else None)


def extract(extractor: Extractor | None, drafts: Sequence[Draft]) -> list[list[Entity]]:
    """Entities per draft; none for a draft the model does not run for."""
    texts = [d.model_input for d in drafts if d.model_input is not None]
    if texts and extractor is None:
        raise ValueError("drafts for the model, but no model")
    found = iter(extractor.extract_many(texts) if texts and extractor is not None else ())
    return [next(found) if d.model_input is not None else [] for d in drafts]


def complete(draft: Draft, entities: Sequence[Entity]) -> Processed:
    """The draft's envelope with its entities: the envelope `finish` gives (with none, the draft's
    own: it already has the empty subject fields)."""
    envelope = with_entities(draft.envelope, entities) if entities else draft.envelope
    return Processed(draft.key, draft.timestamp_ms, envelope)


def process(
    messages: Sequence[tuple[bytes, Origin]],
    store: SeenStore,
    settings: PipelineSettings,
    extractor: Extractor | None,
    fallback_time: datetime | None = None,
) -> list[Processed | Skipped | Rejected]:
    """All three steps over a batch, outcomes in input order. An item without a time field takes
    the event time of the item before it (offline rule, README "Time"): `fallback_time` for the
    first, the Unix epoch when there is none."""
    outcomes: list[Prepared | Passed | Skipped | Rejected] = []
    for raw, origin in messages:
        outcome = prepare(raw, origin, store, settings, fallback_time, fallback_source="fallback")
        fallback_time = event_time(outcome) or fallback_time
        outcomes.append(outcome)
    accepted = [o for o in outcomes if isinstance(o, Prepared)]
    enrichments = iter(enrich(extractor, accepted))
    return [finish(o, next(enrichments)) if isinstance(o, Prepared) else o for o in outcomes]


def event_time(outcome: Prepared | Processed | Skipped | Rejected) -> datetime | None:
    """The event time an outcome carries (None for skipped and rejected items)."""
    if isinstance(outcome, Prepared):
        return outcome.article.event_time
    if isinstance(outcome, Processed):
        return datetime.fromtimestamp(outcome.timestamp_ms / 1000, timezone.utc)
    return None


def _now() -> datetime:
    return datetime.now(timezone.utc)
