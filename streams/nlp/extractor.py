"""Entities for articles: batched model runs over headlines and paragraphs (the pipeline from
`streams.nlp.model`), a bounded per-paragraph cache, and the core's refining, merging and
place linking.

No asyncio and no Kafka here: the worker calls `extract_many` in an executor. With
`processes` > 0 the model itself runs in child processes (`streams.nlp.pool`); planning, the
cache and merging stay here, so the entities are the same either way."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from streams.core import rules
from streams.core.casing import add_dateline_places, case_forms, recase, shouted_words
from streams.core.entities import merge_entities, repeat_mentions
from streams.core.spans import TaggedSpan, trim_span
from streams.core.gazetteer import Gazetteer, build_gazetteer, shipped_entries
from streams.core.mentions import ItemMetadata, refine
from streams.core.models import Entity, Mention, MentionField
from streams.core.places import PlaceIndex, link_places
from streams.nlp.geodata import place_index
from streams.nlp.model import RawSpan, load_nlp, raw_spans, user_entries
from streams.nlp.pool import ModelPool
from streams.nlp.settings import NerSettings

# Longest text the model reads; a longer "paragraph" is not prose (and spaCy's memory grows
# with it), so only its start is tagged.
MAX_TEXT = 100_000


def load_extractor(settings: NerSettings) -> EntityExtractor:
    """Load the model (here, or in `settings.processes` children) and the gazetteer; raise
    `ModelMissing` or `GazetteerError` right away."""
    # The place index (once per process, cached) is built in a spawned child of its own before
    # the model's pool starts: one spawn at a time. Linking runs here, never in the model's pool.
    places = place_index()
    if settings.processes == 0:
        nlp, gazetteer = load_nlp(settings)
        return EntityExtractor(nlp, gazetteer, settings, places=places)
    gazetteer = build_gazetteer(shipped_entries() + user_entries(settings.gazetteer))  # bad file: fail here first
    return EntityExtractor(None, gazetteer, settings, pool=ModelPool(settings, settings.processes), places=places)


class ParagraphCache:
    """Bounded LRU of model spans per exact model input; a hit skips the model entirely."""

    __slots__ = ("size", "entries", "hits", "misses")

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[RawSpan, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str) -> int:
        # 128 bits: a collision would silently give one paragraph another's entities.
        return xxhash.xxh3_128_intdigest(text.encode("utf-8", "surrogatepass"))

    def get(self, key: int) -> tuple[RawSpan, ...] | None:
        found = self.entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end(key)
        return found

    def put(self, key: int, spans: tuple[RawSpan, ...]) -> None:
        if self.size <= 0:
            return
        self.entries[key] = spans
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


class EntityExtractor:
    def __init__(self, nlp, gazetteer: Gazetteer, settings: NerSettings, pool=None,
                 places: PlaceIndex | None = None) -> None:
        self.nlp = nlp  # None when `pool` (a `streams.nlp.pool.ModelPool`) runs the model
        self.pool = pool
        self.places = places  # None: no GeoNames links
        self.gazetteer = gazetteer
        self.settings = settings
        self.languages = settings.languages
        self.cache = ParagraphCache(settings.cache_size)
        self._lock = threading.Lock()  # the cache's
        self._model_lock = threading.Lock()  # spaCy pipelines are not safe to share between threads

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def extract(self, headline: str, paragraphs: Sequence[str]) -> list[Entity]:
        return self.extract_many([(headline, paragraphs)])[0]

    def extract_many(self, items: Sequence[tuple[str, Sequence[str]] | tuple[str, Sequence[str], ItemMetadata]]) -> list[list[Entity]]:
        """Entities per article, from (headline, paragraphs[, metadata]). Body offsets index
        `"\\n\\n".join(paragraphs)`; headline offsets index the headline."""
        plans = [_plan(item[0], item[1]) for item in items]
        spans = self._model_spans([unit.model_text[:MAX_TEXT] for plan in plans for unit in plan])
        out = []
        position = 0
        for item, plan in zip(items, plans):
            tagged: list[TaggedSpan] = []
            for unit in plan:
                tagged.extend(_tag(unit, spans[position]))
                position += 1
            units = [(u.field, u.offset, u.text) for u in plan]
            tagged = refine(units, tagged, item[2] if len(item) > 2 else ItemMetadata())
            if rules.on("repeats"):
                tagged += repeat_mentions(units, tagged)
            entities = merge_entities(tagged, self.gazetteer)
            if self.places is not None:
                texts = {"headline": item[0], "body": "\n\n".join(item[1])}
                entities = link_places(entities, self.places, texts)
            out.append(entities)
        return out

    def _model_spans(self, texts: list[str]) -> list[tuple[RawSpan, ...]]:
        """Callable from several threads at once: the cache is used under the lock, and the
        model's pool serves every caller in turn (an in-thread model, under the lock)."""
        if self.cache.size <= 0:  # no reuse at all: every text goes through the model
            return self._run_model(texts)
        keys = [ParagraphCache.key(t) for t in texts]
        found: dict[int, tuple[RawSpan, ...]] = {}
        todo: dict[int, str] = {}
        with self._lock:
            for key, text in zip(keys, texts):
                if key in todo or key in found:
                    self.cache.hits += 1  # repeated within the batch: one lookup or run serves both
                    continue
                cached = self.cache.get(key)
                if cached is None:
                    todo[key] = text
                else:
                    found[key] = cached
        ran = self._run_model(list(todo.values()))
        with self._lock:
            for key, spans in zip(todo, ran):
                found[key] = spans
                self.cache.put(key, spans)
        return [found[key] for key in keys]

    def _run_model(self, texts: list[str]) -> list[tuple[RawSpan, ...]]:
        if self.pool is not None:
            return self.pool.spans(texts)
        with self._model_lock:
            return [raw_spans(doc) for doc in self.nlp.pipe(texts, batch_size=self.settings.batch_size)]


@dataclass(frozen=True, slots=True)
class _Unit:
    """One text the model reads: the headline or a paragraph."""

    field: MentionField
    offset: int  # where the text starts in its field
    text: str  # the original text: mentions are cut from it
    model_text: str  # what the model reads: same length, case repaired where shouted
    opens_body: bool = False  # the first paragraph, where a dateline may stand


def _plan(headline: str, paragraphs: Sequence[str]) -> list[_Unit]:
    # The article's case forms are only read for shouted words: most articles have none, and
    # counting every word's spellings was ~1 ms per article (`shouted_words` is cached).
    texts = [headline, *paragraphs]
    shouting = rules.on("recase") and any(shouted_words(text) for text in texts)
    forms = case_forms(texts) if shouting else None

    def model_text(text: str) -> str:
        return text if forms is None else recase(text, forms)

    units = [_Unit("headline", 0, headline, model_text(headline))] if headline.strip() else []
    offset = 0
    for i, paragraph in enumerate(paragraphs):
        if paragraph.strip():
            units.append(_Unit("body", offset, paragraph, model_text(paragraph), i == 0))
        offset += len(paragraph) + 2  # the "\n\n" joining paragraphs in the body
    return units


def _tag(unit: _Unit, spans: tuple[RawSpan, ...]) -> list[TaggedSpan]:
    out = []
    if unit.opens_body and rules.on("dateline"):
        spans = tuple(add_dateline_places(unit.text, spans))
    for start, end, label, key in spans:
        # Gazetteer spans are exactly what the user listed: never trimmed.
        whole = key or not rules.on("trim")
        for s, e in [(start, end)] if whole else trim_span(unit.text, start, end, label):
            mention = Mention(unit.text[s:e], unit.offset + s, unit.offset + e, unit.field)
            out.append(TaggedSpan(mention, label, key or None))
    return out
