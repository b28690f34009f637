"""Made-up stories for the feed-stage tests: pseudo-words drawn with Zipf weights (no real text),
and the edits reprints make."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from itertools import accumulate

import orjson

from streams.core.models import Article
from streams.core.ninjs import decode, parse_article
from streams.core.settings import Limits

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_WEIGHTS = [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5,
            1.0, 0.8, 0.2, 0.2, 0.1, 0.1]
_VOCABULARY_RNG = random.Random(20260302)
_WORDS = ["".join(_VOCABULARY_RNG.choices(_LETTERS, weights=_WEIGHTS, k=_VOCABULARY_RNG.randint(2, 9))) for _ in range(4000)]
_CUMULATIVE = list(accumulate(1 / rank for rank in range(1, len(_WORDS) + 1)))


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    out = []
    for _ in range(sentences or rng.randint(1, 3)):
        words = rng.choices(_WORDS, cum_weights=_CUMULATIVE, k=rng.randint(9, 22))
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def story(seed: int, paragraphs: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng) for _ in range(paragraphs)]


def raw(uri: str, when: datetime, source: str, paragraphs: list[str], version: str = "1", html: bool = False) -> bytes:
    if html:
        value = "".join("<p>" + p.replace("&", "&amp;").replace("'", "&#8217;") + "</p>\n" for p in paragraphs)
        body = {"role": "main", "contentType": "text/html", "value": value}
    else:
        body = {"role": "main", "contentType": "text/plain", "value": "\n\n".join(paragraphs)}
    return orjson.dumps({"uri": uri, "version": version, "type": "text",
                         "versionCreated": when.isoformat().replace("+00:00", "Z"),
                         "headlines": [{"role": "main", "value": "A headline"}], "bodies": [body],
                         "altIds": [{"role": "source", "value": source}]})


def article(uri: str, minutes: float, source: str, paragraphs: list[str], version: str = "1", html: bool = False) -> Article:
    data = raw(uri, T0 + timedelta(minutes=minutes), source, paragraphs, version, html)
    return parse_article(decode(data, Limits()), None, Limits())


def typo(text: str) -> str:
    middle = len(text) // 2
    return text[:middle] + ("x" if text[middle] != "x" else "y") + text[middle + 1 :]
