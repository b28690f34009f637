"""Synthetic ninjs feeds for the reliability tests and bench/chaos.py.

A few invented outlets, each with its own boilerplate (a promo line, a copyright line, a
"Read more:" link line with a changing headline) and running stories whose background
paragraph comes back in later articles; some articles repeat one of their own paragraphs and
some are republished as a second version. Every word is drawn from the small vocabulary below:
no real article text is used anywhere.

Event times increase strictly with the position in the feed, so each source's articles are in
event-time order and the dedup decisions of a run are defined by the feed order alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

SOURCES = ("Harbour Gazette", "Valley Courier", "Northern Ledger", "Coastline Wire")
# In the past, beyond any retention.ms: records stamped with these event times must still be kept.
START = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)

_NOUNS = ("council", "harbour", "ferry", "bridge", "school", "market", "river", "station", "orchard", "festival",
          "library", "clinic", "museum", "stadium", "tram", "pier", "garden", "bakery", "quarry", "lighthouse")
_VERBS = ("reopens", "expands", "closes", "welcomes", "delays", "approves", "rebuilds", "announces", "reviews", "funds")
_ADJ = ("new", "old", "northern", "quiet", "busy", "historic", "small", "coastal", "local", "modern")
_NAMES = ("Mara Quill", "Tobin Ash", "Ines Marlow", "Corin Vale", "Petra Lund", "Osric Dane", "Lio Fenn")
_PLACES = ("Westmoor", "Brackenby", "Saltholm", "Ferncliff", "Oakhaven", "Dunmere")


@dataclass(frozen=True, slots=True)
class FeedItem:
    uri: str
    version: str
    raw: bytes  # the message value, ninjs 3.1 JSON


def _sentence(rng: random.Random) -> str:
    return (f"The {rng.choice(_ADJ)} {rng.choice(_NOUNS)} in {rng.choice(_PLACES)} {rng.choice(_VERBS)} "
            f"after {rng.choice(_NAMES)} said the {rng.choice(_NOUNS)} would {rng.choice(('need', 'get', 'lose'))} "
            f"{rng.randint(2, 900)} {rng.choice(('staff', 'visitors', 'pounds', 'days', 'seats'))}.")


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))


def _headline(rng: random.Random) -> str:
    return f"{rng.choice(_PLACES)} {rng.choice(_NOUNS)} {rng.choice(_VERBS)}"


def _boilerplate(source: str, rng: random.Random) -> list[str]:
    lines = [f"Follow {source} for live updates on every story.",
             f"Copyright 2026 {source}. All rights reserved."]
    if rng.random() < 0.5:
        lines.insert(0, f"Read more: {_headline(rng)}")
    return lines


def article(uri: str, version: str, when: datetime, source: str, headline: str, paragraphs: list[str],
            html: bool = False) -> bytes:
    if html:
        body = {"role": "main", "contentType": "text/html",
                "value": "".join(f"<p>{p.replace('&', '&amp;').replace('<', '&lt;')}</p>" for p in paragraphs)}
    else:
        body = {"role": "main", "contentType": "text/plain", "value": "\n\n".join(paragraphs)}
    return orjson.dumps({
        "uri": uri,
        "version": version,
        "type": "text",
        "versionCreated": when.isoformat().replace("+00:00", "Z"),
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [body],
        "altIds": [{"role": "source", "value": source}],
    })


def feed(n: int, seed: int = 7, step_s: float = 10.0, sources: tuple[str, ...] = SOURCES) -> list[FeedItem]:
    """`n` messages: articles round the sources at random, about one in twelve a second version of
    an earlier article of the same source."""
    rng = random.Random(seed)
    stories: dict[str, list[str]] = {s: [] for s in sources}  # background paragraphs of running stories
    published: dict[str, list[tuple[str, str, list[str]]]] = {s: [] for s in sources}
    items: list[FeedItem] = []
    for i in range(n):
        when = START + timedelta(seconds=step_s * i)
        source = rng.choice(sources)
        slug = source.lower().replace(" ", "-")
        earlier = published[source]
        if earlier and rng.random() < 0.08:  # republished: a new version with one paragraph more
            uri, headline, paragraphs = earlier.pop(rng.randrange(len(earlier)))
            paragraphs = [*paragraphs[:-2], _paragraph(rng), *paragraphs[-2:]]
            items.append(FeedItem(uri, "2", article(uri, "2", when, source, headline, paragraphs)))
            continue
        uri = f"urn:newsclean:synthetic:{slug}:{i}"
        headline = _headline(rng)
        body = [_paragraph(rng) for _ in range(rng.randint(2, 6))]
        if stories[source] and rng.random() < 0.4:
            body.insert(1, rng.choice(stories[source]))  # the running story's background paragraph
        elif rng.random() < 0.2:
            stories[source].append(body[-1])
        if rng.random() < 0.1:
            body.append(body[0])  # the lead paragraph printed twice
        paragraphs = [*body, *_boilerplate(source, rng)]
        earlier.append((uri, headline, paragraphs))
        items.append(FeedItem(uri, "1", article(uri, "1", when, source, headline, paragraphs, html=rng.random() < 0.2)))
    return items
