"""The benchmark's article stream, built at run time (nothing from the evaluation set is stored in
the repository).

The shared dev articles (`../shared/eval/dev/raw.jsonl`, or $NEWSCLEAN_BENCH_EVAL/dev) are
replicated until the stream holds the target number of articles:
- each copy gets fresh uris (a suffix per copy; an update keeps the uri of its version 1 in the
  same copy) and keeps its sources, so the feed keeps its share of faults;
- each copy is shifted in event time by the dev span plus the dedup horizon plus a day, so every
  copy meets an empty horizon, exactly as the first one does (identical texts inside one horizon
  would all become "boilerplate"), and the stream covers many horizons: what the rolling table's
  bound is measured on. The last copy keeps the dev times; earlier copies lie further in the past
  (Kafka refuses record times more than an hour in the future);
- a few broken messages (truncated JSON, invalid UTF-8, schema violation) are mixed in, one in
  `INVALID_EVERY`, so the dead-letter path runs too.

The clean feed is the same stream with each body replaced by the gold `kept` paragraphs
(`dev/gold.jsonl`, read at run time): the articles a fault-free feed would carry.

Without the shared set the stream falls back to examples/articles.jsonl replicated, and its clean
feed to the offline cleaner's output; `Stream.origin` says which was used.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
INVALID_EVERY = 250  # one broken message in 250, the first at position 100
TIME_FIELDS = ("versionCreated", "firstCreated", "contentCreated")
BROKEN = (
    b'{"uri": "urn:newsclean:bench:broken", "bodies": [{"value": "cut off mid-',
    b'{"uri": "urn:newsclean:bench:latin1", "headlines": [{"value": "caf\xe9"}]}',
    b'{"uri": "urn:newsclean:bench:schema", "bodies": "not a list"}',
)


@dataclass(frozen=True, slots=True)
class Message:
    key: bytes | None
    value: bytes
    valid: bool  # False for the injected broken messages (they go to the dead-letter topic)


@dataclass(frozen=True, slots=True)
class Stream:
    name: str  # "faulty" or "clean"
    origin: str  # where the articles came from, for results.json
    messages: tuple[Message, ...]
    base_articles: int  # distinct articles replicated
    copies: int
    spacing_days: float  # event-time shift between copies

    @property
    def valid(self) -> int:
        return sum(m.valid for m in self.messages)

    def first_copy(self, cap: int | None = None) -> Stream:
        """The messages of the first copy (the source articles once, broken ones included), at
        most `cap`: what the NER steps read, since later copies repeat the same texts."""
        valid = 0
        for position, message in enumerate(self.messages):
            valid += message.valid
            if valid == self.base_articles:
                return self.head(min(position + 1, cap or position + 1))
        return self.head(cap or len(self.messages))

    def head(self, count: int) -> Stream:
        """The first `count` messages: the slice the NER steps (B2, B3) read."""
        return Stream(self.name, self.origin, self.messages[:count], self.base_articles, self.copies, self.spacing_days)


def eval_dir() -> Path:
    return Path(os.environ.get("NEWSCLEAN_BENCH_EVAL", ROOT.parent / "shared" / "eval"))


def load_base() -> tuple[list[dict], list[list[str]] | None, str]:
    """Dev articles in stream order, their gold kept paragraphs (or None), and a description."""
    dev = eval_dir() / "dev"
    raw, gold = dev / "raw.jsonl", dev / "gold.jsonl"
    if raw.is_file():
        docs = [orjson.loads(line) for line in raw.read_bytes().splitlines() if line.strip()]
        kept = None
        if gold.is_file():
            records = [orjson.loads(line) for line in gold.read_bytes().splitlines() if line.strip()]
            if [(r["uri"], r["version"]) for r in records] == [(d["uri"], d["version"]) for d in docs]:
                kept = [r["kept"] for r in records]
        return docs, kept, f"{raw} ({len(docs)} articles){'' if kept else '; gold missing: clean feed from the offline cleaner'}"
    fallback = ROOT / "examples" / "articles.jsonl"
    docs = [orjson.loads(line) for line in fallback.read_bytes().splitlines() if line.strip()]
    return docs, None, f"FALLBACK {fallback.relative_to(ROOT)} ({len(docs)} articles): {raw} not found"


def offline_kept(docs: list[dict]) -> list[list[str]]:
    """Kept paragraphs per article from the offline cleaner (fallback when there is no gold)."""
    from streams.core.models import MemoryStore
    from streams.core.pipeline import Prepared, prepare
    from streams.core.settings import PipelineSettings

    store, settings = MemoryStore(), PipelineSettings()
    out = []
    for doc in docs:
        outcome = prepare(orjson.dumps(doc), {"file": "bench", "line": 0}, store, settings)
        out.append([p.text for p in outcome.result.kept] if isinstance(outcome, Prepared) else [])
    return out


def build_streams(target: int, horizon_days: float) -> tuple[Stream, Stream]:
    """(faulty, clean): the same articles, uris, times and broken messages; only bodies differ."""
    docs, kept, origin = load_base()
    kept = kept if kept is not None else offline_kept(docs)
    clean_docs = [_with_body(doc, paragraphs) for doc, paragraphs in zip(docs, kept)]
    times = [_event_time(doc) for doc in docs]
    span_days = (max(times) - min(times)).total_seconds() / 86_400
    spacing = math.ceil(span_days + horizon_days + 1)
    copies = math.ceil(target / len(docs))
    faulty = _replicate("faulty", docs, copies, spacing, origin)
    clean = _replicate("clean", clean_docs, copies, spacing, origin)
    return faulty, clean


def _replicate(name: str, docs: list[dict], copies: int, spacing_days: int, origin: str) -> Stream:
    messages: list[Message] = []
    for copy in range(copies):
        shift = timedelta(days=spacing_days * (copies - 1 - copy))
        for doc in docs:
            if len(messages) % INVALID_EVERY == 100:
                messages.append(Message(None, BROKEN[len(messages) // INVALID_EVERY % len(BROKEN)], False))
            value = _copy_of(doc, copy, shift)
            messages.append(Message(value["uri"].encode(), orjson.dumps(value), True))
    return Stream(name, origin, tuple(messages), len(docs), copies, float(spacing_days))


def _copy_of(doc: dict, copy: int, shift: timedelta) -> dict:
    out = dict(doc)
    out["uri"] = f"{doc['uri']}-bench{copy:03d}"
    for field in TIME_FIELDS:
        if field in doc:
            moment = datetime.fromisoformat(doc[field].replace("Z", "+00:00")) - shift
            out[field] = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _with_body(doc: dict, paragraphs: list[str]) -> dict:
    out = dict(doc)
    out["bodies"] = [{"role": "main", "contentType": "text/plain", "value": "\n\n".join(paragraphs)}]
    return out


def _event_time(doc: dict) -> datetime:
    value = next(doc[f] for f in TIME_FIELDS if f in doc)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ner_texts(stream: Stream) -> tuple[list[str], int]:
    """Headline and every paragraph of each valid article, as the core splits them (no dedup):
    what standalone NER (B2) reads. Returns (texts, articles)."""
    from streams.core.ninjs import decode, parse_article

    texts: list[str] = []
    articles = 0
    for message in stream.messages:
        if not message.valid:
            continue
        article = parse_article(decode(message.value))
        articles += 1
        if article.headline.strip():
            texts.append(article.headline)
        texts.extend(p.text for p in article.paragraphs)
    return texts, articles
