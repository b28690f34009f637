"""Stand-ins for Faust's messages and for the entity extractor, for unit tests of the
worker without a broker."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from faust.types import TP

from streams.core.models import Entity, Mention



@dataclass
class Message:
    value: bytes
    offset: int = 0
    key: bytes | None = None
    topic: str = "nc-by-source"
    partition: int = 0
    timestamp: float | None = None
    headers: tuple = ()
    acked: bool = False
    refcount: int = 0
    generation_id: int = 0

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)

    def __hash__(self) -> int:
        return id(self)


def article(n: int, headline: str = "Headline") -> bytes:
    return orjson.dumps({"uri": f"urn:app:{n}", "version": "1", "versionCreated": "2024-01-01T00:00:00Z",
                         "headlines": [{"role": "main", "value": headline}],
                         "bodies": [{"role": "main", "value": f"Paragraph of article {n}."}],
                         "altIds": [{"role": "source", "value": "Desk"}]})


class Extractor:
    languages = ("en",)

    def extract_many(self, items):
        if any(item[0] == "poison" for item in items):  # (headline, paragraphs, metadata)
            raise RuntimeError("the model failed on this text")
        return [[Entity("Desk", "ORG", (Mention("Desk", 0, 4, "body"),))] for _ in items]
