"""Values passed between the core's steps. Wire dicts live in `envelope`; these are the typed form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

RemovalReason = Literal["repeat", "near_repeat", "boilerplate"]
MentionField = Literal["headline", "body"]


@dataclass(frozen=True, slots=True)
class Paragraph:
    index: int  # position in the input body, counted from 0
    text: str  # the original text, whitespace-trimmed, never rewritten


@dataclass(frozen=True, slots=True)
class Article:
    uri: str
    version: str
    event_time: datetime  # timezone-aware UTC; drives the Kafka timestamp and state expiry
    source: str  # the outlet (altIds role=source), "" when unknown
    headline: str
    paragraphs: tuple[Paragraph, ...]
    ninjs: dict[str, Any] = field(compare=False, repr=False)  # the input, converted to ninjs 3.1
    input_version: str = "3.1"  # the ninjs version the input was validated as
    unmapped: tuple[str, ...] = ()  # input properties with no 3.1 form (not carried over)
    event_time_source: str = "versionCreated"  # the time field, "record_timestamp" or "fallback"


@dataclass(frozen=True, slots=True)
class Removal:
    index: int  # the removed paragraph's input index
    text: str
    reason: RemovalReason
    of: int | None  # index of the kept copy in this article, for repeat and near_repeat
    fingerprint: str | None  # hex fingerprint matched in the feed state, for boilerplate
    similarity: float  # 1.0 for exact repeats


@dataclass(frozen=True, slots=True)
class DedupResult:
    kept: tuple[Paragraph, ...]
    removed: tuple[Removal, ...]


@dataclass(frozen=True, slots=True)
class Mention:
    text: str
    start: int
    end: int
    field: MentionField


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # canonical name, the longest full form seen in the article
    type: str  # spaCy label: PERSON, ORG, GPE, LOC, NORP, ...
    mentions: tuple[Mention, ...]
    aliases: tuple[str, ...] = ()  # other surface forms merged into this entity
    uri: str | None = None  # a Wikidata IRI from the gazetteer, a GeoNames IRI for a place
    roles: tuple[str, ...] = ()  # titles and roles written before the name ("Councillor")
    point: tuple[float, float] | None = None  # (longitude, latitude) of a linked place


class SeenStore(Protocol):
    """Cross-article state. The worker backs it with a changelogged Faust table, offline mode
    with a dict; keys are strings, values opaque bytes so the core controls their size."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryStore:
    """The offline mode's store, also used by tests."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class DictIndex(dict):
    """A worker's feed-state index as a plain dict (`NEWSCLEAN_STATE_INDEX=dict`): `get` is the
    dict's own, so a read costs no Python call. About 146 B of RSS a key: for a small feed; a
    large one needs `streams.core.compact_index.CompactIndex`."""

    __slots__ = ()
    set = dict.__setitem__

    def delete(self, key: str) -> None:
        self.pop(key, None)


class ArticleWrites:
    """One article's writes over a store, held until the article went through (`commit`), so an
    article that fails or runs out of time half way leaves no trace and the state stays a
    function of the articles that went through. Reads see the pending writes first."""

    __slots__ = ("base", "pending")

    def __init__(self, base: SeenStore) -> None:
        self.base = base
        self.pending: dict[str, bytes | None] = {}  # None: delete

    def get(self, key: str) -> bytes | None:
        return self.pending[key] if key in self.pending else self.base.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.pending[key] = value

    def delete(self, key: str) -> None:
        self.pending[key] = None

    def commit(self) -> None:
        for key, value in self.pending.items():
            if value is None:
                self.base.delete(key)
            else:
                self.base.set(key, value)
        self.pending.clear()
