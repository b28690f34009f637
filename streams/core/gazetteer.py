"""Gazetteer: known names the model misses, with optional ids (Wikidata QIDs) and a canonical name.

One JSON object a line, spaCy EntityRuler style plus two optional keys:
    {"label": "ORG", "pattern": "ISIS", "id": "Q2429253", "name": "Islamic State"}
`pattern` is a phrase (matched case-sensitively, token by token) or a list of spaCy token
patterns (e.g. [{"LOWER": "daesh"}]). Entries sharing an `id` are one entity; its name is the
first explicit `name`, else its first phrase pattern. Without an id, the name is the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

WIKIDATA = "http://www.wikidata.org/entity/"
_QID = re.compile(r"Q[1-9][0-9]*")
_LABEL = re.compile(r"[A-Z][A-Z_]*")


class GazetteerError(ValueError):
    """A malformed gazetteer line; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    label: str  # spaCy label: PERSON, ORG, GPE, LOC, ...
    pattern: str | tuple[dict[str, Any], ...]  # a phrase, or token patterns
    id: str | None = None  # a Wikidata QID or a full URI
    name: str | None = None  # canonical name of the entity this pattern names

    @property
    def key(self) -> str:
        """What the ruler writes into `Span.ent_id_`: the id, else the name or phrase."""
        if self.id:
            return self.id
        if self.name:
            return self.name
        return self.pattern if isinstance(self.pattern, str) else json.dumps(self.pattern)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    entries: tuple[GazetteerEntry, ...]
    names: dict[str, str]  # key -> canonical name
    labels: dict[str, str]  # key -> label of its first entry
    surfaces: dict[str, str]  # exact phrase -> key, to give model spans the gazetteer's id


def entity_uri(key: str | None) -> str | None:
    """A QID becomes its Wikidata IRI; a full URI is kept; names have no URI."""
    if not key:
        return None
    if _QID.fullmatch(key):
        return WIKIDATA + key
    if key.startswith(("http://", "https://", "urn:")):
        return key
    return None


def parse_entries(lines: Iterable[str], source: str) -> tuple[GazetteerEntry, ...]:
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise GazetteerError(f"{where}: not JSON ({e.msg})") from None
        entries.append(_entry_from(raw, where))
    return tuple(entries)


def _entry_from(raw: Any, where: str) -> GazetteerEntry:
    if not isinstance(raw, dict):
        raise GazetteerError(f"{where}: expected an object")
    unknown = set(raw) - {"label", "pattern", "id", "name"}
    if unknown:
        raise GazetteerError(f"{where}: unknown keys {sorted(unknown)}")
    label, pattern = raw.get("label"), raw.get("pattern")
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise GazetteerError(f"{where}: label must be an upper-case spaCy label, got {label!r}")
    if isinstance(pattern, str):
        if not pattern.strip():
            raise GazetteerError(f"{where}: empty pattern")
    elif isinstance(pattern, list) and pattern and all(isinstance(t, dict) for t in pattern):
        pattern = tuple(pattern)
    else:
        raise GazetteerError(f"{where}: pattern must be a phrase or a list of token patterns")
    ident, name = raw.get("id"), raw.get("name")
    if ident is not None and (not isinstance(ident, str) or not ident.strip()):
        raise GazetteerError(f"{where}: id must be a non-empty string")
    if ident is not None and not entity_uri(ident):
        raise GazetteerError(f"{where}: id must be a Wikidata QID (Q123) or a URI, got {ident!r}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise GazetteerError(f"{where}: name must be a non-empty string")
    return GazetteerEntry(label=label, pattern=pattern, id=ident, name=name)


def shipped_entries() -> tuple[GazetteerEntry, ...]:
    text = resources.files("streams").joinpath("data/gazetteer.jsonl").read_text("utf-8")
    return parse_entries(text.splitlines(), "streams/data/gazetteer.jsonl")


def build_gazetteer(entries: Sequence[GazetteerEntry]) -> Gazetteer:
    names: dict[str, str] = {}
    labels: dict[str, str] = {}
    surfaces: dict[str, str] = {}
    for entry in entries:  # explicit names first, so a later `name` still wins over a phrase
        if entry.name and entry.key not in names:
            names[entry.key] = entry.name
    for entry in entries:
        key = entry.key
        labels.setdefault(key, entry.label)
        if isinstance(entry.pattern, str):
            names.setdefault(key, entry.pattern)
            surfaces.setdefault(entry.pattern, key)
        else:
            names.setdefault(key, key)
    return Gazetteer(entries=tuple(entries), names=names, labels=labels, surfaces=surfaces)


def ruler_patterns(gazetteer: Gazetteer) -> list[dict[str, Any]]:
    """EntityRuler patterns; the `id` comes back as `Span.ent_id_`."""
    return [
        {
            "label": e.label,
            "pattern": e.pattern if isinstance(e.pattern, str) else list(e.pattern),
            "id": e.key,
        }
        for e in gazetteer.entries
    ]
