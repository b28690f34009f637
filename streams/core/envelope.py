"""The wire form of what the pipeline emits: the output envelope and the dead-letter record.
Their JSON Schemas are streams/schemas/envelope.schema.json and dead-letter.schema.json."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence, TypedDict

from .. import __version__
from .entities import ninjs_subjects
from .models import Article, DedupResult, Entity
from .ninjs import Item, source_of
from .paragraphs import is_article_text
from .places import geojson


class Origin(TypedDict, total=False):
    """Where a message came from: a Kafka record, or a line of a file in the offline mode."""

    topic: str
    partition: int
    offset: int
    file: str
    line: int


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def cleaned_body(result: DedupResult) -> str:
    return "\n\n".join(p.text for p in result.kept)


def cleaned_ninjs(article: Article, result: DedupResult, entities: Sequence[Entity]) -> dict[str, Any]:
    """The input ninjs with its article text replaced by the cleaned text/plain paragraphs and
    the entities added as people/organisations/places (entries the input already had are kept).
    Every readable rendering of the article text goes (the others hold the uncleaned text);
    summaries and bodies in formats that cannot be read stay, after the cleaned main body."""
    ninjs = dict(article.ninjs)
    main = {"role": "main", "contentType": "text/plain", "value": cleaned_body(result)}
    others = [b for b in ninjs.get("bodies", []) if not is_article_text(b)]
    ninjs["bodies"] = [main, *others]
    return with_subjects(ninjs, entities)


def with_subjects(ninjs: Mapping[str, Any], entities: Sequence[Entity]) -> dict[str, Any]:
    """`ninjs` with the entities added as people/organisations/places after the entries it has
    (an entry of the same name is not added twice). Adding none still sets the three fields, so
    adding entities later to what adding none gave equals adding them at once."""
    ninjs = dict(ninjs)
    for field, items in ninjs_subjects(entities).items():
        have = {item.get("name") for item in ninjs.get(field, [])}
        ninjs[field] = [*ninjs.get(field, []), *(i for i in items if i["name"] not in have)]
    return ninjs


def with_entities(envelope: Mapping[str, Any], entities: Sequence[Entity]) -> dict[str, Any]:
    """A cleaned envelope built without entities (`build_envelope(..., entities=())`: the enrich
    stage's draft) with `entities` added: equal to the envelope built with them at once."""
    return {**envelope, "article": with_subjects(envelope["article"], entities),
            "entities": [*envelope["entities"], *(entity_record(e) for e in entities)]}


def entity_record(entity: Entity) -> dict[str, Any]:
    first = entity.mentions[0]
    record: dict[str, Any] = {
        "name": entity.name,
        "type": entity.type,
        "count": len(entity.mentions),
        "first": {"field": first.field, "start": first.start},
        "aliases": list(entity.aliases),
        "mentions": [{"text": m.text, "start": m.start, "end": m.end, "field": m.field} for m in entity.mentions],
    }
    if entity.uri:
        record["uri"] = entity.uri
    if entity.roles:
        record["roles"] = list(entity.roles)
    if entity.point is not None:
        record["geoJSON"] = geojson(entity.point)
    return record


def build_envelope(
    article: Article,
    result: DedupResult,
    entities: Sequence[Entity],
    origin: Origin,
    processed_at: datetime,
    *,
    ner: Mapping[str, Any],
    duplicate_of: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`ner`: whether entity extraction ran, and if not why (`streams.core.languages`).
    `duplicate_of`: the feed stage's link, {"uri", "similarity"} or None (`streams.core.feedwide`)."""
    removed_by = Counter(r.reason for r in result.removed)
    return {
        "article": cleaned_ninjs(article, result, entities),
        "entities": [entity_record(e) for e in entities],
        "ner": dict(ner),
        "removed": [
            {
                "index": r.index,
                "text": r.text,
                "reason": r.reason,
                "of": r.of,
                "fingerprint": r.fingerprint,
                "similarity": round(r.similarity, 4),
            }
            for r in result.removed
        ],
        "counts": {
            "input_paragraphs": len(article.paragraphs),
            "kept": len(result.kept),
            "removed": len(result.removed),
            "repeat": removed_by["repeat"],
            "near_repeat": removed_by["near_repeat"],
            "boilerplate": removed_by["boilerplate"],
        },
        "source": article.source,
        "event_time": iso_utc(article.event_time),
        "duplicate_of": dict(duplicate_of) if duplicate_of else None,
        "pipeline": {"name": "newsclean", "version": __version__, "processed_at": iso_utc(processed_at), "input": dict(origin)},
        "status": "cleaned",
        "input_version": article.input_version,
        "unmapped": list(article.unmapped),
        "event_time_source": article.event_time_source,
    }


def passed_envelope(item: Item, origin: Origin, processed_at: datetime) -> dict[str, Any]:
    """The envelope of a valid item that is not cleaned: the item in 3.1, nothing removed, no entities."""
    return {
        "article": item.ninjs,
        "entities": [],
        "removed": [],
        "counts": {"input_paragraphs": 0, "kept": 0, "removed": 0, "repeat": 0, "near_repeat": 0, "boilerplate": 0},
        "source": source_of(item.ninjs),
        "event_time": iso_utc(item.event_time),
        "duplicate_of": None,
        "pipeline": {"name": "newsclean", "version": __version__, "processed_at": iso_utc(processed_at), "input": dict(origin)},
        "status": "passed",
        "input_version": item.input_version,
        "unmapped": list(item.unmapped),
        "event_time_source": item.event_time_source,
        "ner": {"ran": False, "reason": "not_text"},
    }


def dead_letter(raw: bytes, reason: str, detail: str, origin: Origin, failed_at: datetime, key: bytes | None = None) -> dict[str, Any]:
    """The original bytes travel base64-encoded so that invalid UTF-8 survives the JSON record."""
    return {
        "reason": reason,
        "detail": detail,
        "original": base64.b64encode(raw).decode("ascii"),
        "original_key": base64.b64encode(key).decode("ascii") if key is not None else None,
        "input": dict(origin),
        "failed_at": iso_utc(failed_at),
        "pipeline": {"name": "newsclean", "version": __version__},
    }
