"""A decoded JSON object -> a validated item in ninjs 3.1 (`Item`) -> for text items, an `Article`.

The order of the steps is the contract (README "Input formats"):
1. leniency (`loosen`): a top-level `$schema` is read as a declaration and removed; `guid` stands
   in for a missing `uri` (and is listed as unmapped otherwise), also in associations;
   properties no ninjs version defines are removed at any depth and listed as unmapped
   (`InputSettings.unknown_fields`); near-ISO times are rewritten in RFC 3339 (`times`);
2. identifiers: a uri that is empty, over 2 KiB or holds control characters is `bad_uri`;
3. the version (`versions.detect`) and validation against that version's own schema (`schema`);
4. conversion to 3.1 (`convert.to_31`): always valid 3.1;
5. the kind: text items (type `text` or none, usable, with a readable body) are cleaned; the
   others are passed on as they are (`passed_as`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models import Article, Paragraph
from ..paragraphs import body_format, nitf_headline, select_body, split_body
from . import versions
from .convert import to_31
from ..errors import InvalidInput
from ..settings import InputSettings, Limits
from .times import EPOCH, loosen_times, parse_time

MAX_URI_BYTES = 2048
TIME_FIELDS = ("versionCreated", "firstCreated", "contentCreated")
KILLED = ("withheld", "canceled")  # pubStatus values that withdraw an item
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Item:
    ninjs: dict[str, Any]  # the item in ninjs 3.1
    input_version: str
    unmapped: tuple[str, ...]
    event_time: datetime
    event_time_source: str  # a TIME_FIELDS name, "record_timestamp" or "fallback"
    passed_as: str | None  # None: a text item to clean; else why not: non_text, no_text, withheld, canceled
    paragraphs: tuple[str, ...]  # the main body's paragraphs (text items)

    @property
    def uri(self) -> str:
        return self.ninjs["uri"]


def read_item(
    doc: dict[str, Any],
    fallback_time: datetime | None = None,
    fallback_source: str = "fallback",
    limits: Limits = Limits(),
    settings: InputSettings = InputSettings(),
    checked: bool = False,
) -> Item:
    """Raises `InvalidInput`. `fallback_time` is the event time of an item without any time field
    (`fallback_source` names where it came from); without one it is the Unix epoch ("fallback").
    `checked`: the same object already passed `read_item`, so the schema validation is skipped."""
    loose, unmapped = loosen(doc, settings.unknown_fields == "unmapped")
    version, others = versions.detect(loose, settings.ninjs_version, original=doc)
    _check_uri(loose.get("uri"))
    if not checked:
        version = versions.check(loose, version, others)
    elif others:  # the version the route agent validated: the first candidate the item satisfies
        version = next((v for v in (version, *others) if versions.first_error(loose, v) is None), version)
    ninjs, lost = to_31(loose, version, settings.uri_prefix)
    event_time, source = event_time_of(ninjs, fallback_time, fallback_source)
    passed_as, paragraphs, body = _kind(ninjs, limits)
    if body is not None and not main_headline(ninjs) and body_format(body.get("contentType")) in ("nitf", "xml"):
        headline = nitf_headline(body["value"])
        if headline:  # the NITF body is replaced by its plain paragraphs: keep its hedline
            ninjs = {**ninjs, "headlines": [{"role": "main", "value": headline}, *ninjs.get("headlines", [])]}
    return Item(ninjs, version, tuple(unmapped + lost), event_time, source, passed_as, paragraphs)


def to_article(item: Item) -> Article:
    return Article(
        uri=item.uri,
        version=str(item.ninjs.get("version", "")),
        event_time=item.event_time,
        source=source_of(item.ninjs),
        headline=main_headline(item.ninjs),
        paragraphs=tuple(Paragraph(i, t) for i, t in enumerate(item.paragraphs)),
        ninjs=item.ninjs,
        input_version=item.input_version,
        unmapped=item.unmapped,
        event_time_source=item.event_time_source,
    )


def parse_article(
    doc: dict[str, Any],
    fallback_time: datetime | None = None,
    limits: Limits = Limits(),
    checked: bool = False,
    settings: InputSettings = InputSettings(),
) -> Article:
    """A text item as an `Article`; an item that is not one raises InvalidInput("non_text")."""
    item = read_item(doc, fallback_time, "record_timestamp" if fallback_time else "fallback", limits, settings, checked)
    if item.passed_as is not None:
        raise InvalidInput("non_text", f"not a text item to clean ({item.passed_as})")
    return to_article(item)


def loosen(doc: dict[str, Any], drop_unknown: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The leniency step; returns the loosened copy and the input paths it did not keep."""
    unmapped: list[str] = []
    out = _loosen_object(doc, "", drop_unknown, unmapped)
    return loosen_times(out, versions.date_time_names(), versions.timeless_names()), unmapped


# Values whose keys are free-form (1.x `altids`) or foreign (GeoJSON): not looked into.
_FREE_FORM = ("altids", "geojson", "geometry_")


def _loosen_object(doc: dict[str, Any], where: str, drop_unknown: bool, unmapped: list[str]) -> dict[str, Any]:
    """A ninjs object (the item, or an entry of its associations)."""
    out = {}
    for key, value in doc.items():
        if key == "$schema" and isinstance(value, str) and not where:
            continue  # a declaration, read by `versions.detect`
        if drop_unknown and key != "guid" and not versions.is_ninjs_name(key, association=bool(where)):
            unmapped.append(where + key)
            continue
        if key == "associations":
            value = _loosen_associations(value, f"{where}associations/", drop_unknown, unmapped)
        elif drop_unknown and isinstance(value, (dict, list)):
            value = _drop_unknown(key, value, f"{where}{key}/", unmapped)
        out[key] = value
    if "guid" in out:  # Superdesk's identifier
        guid = out.pop("guid")
        if "uri" not in out:
            out["uri"] = guid
        elif guid != out["uri"]:
            unmapped.append(where + "guid")
    return out


def _loosen_associations(value: Any, where: str, drop_unknown: bool, unmapped: list[str]) -> Any:
    if isinstance(value, dict):  # 1.x: keyed by name
        return {name: _loosen_object(a, f"{where}{name}/", drop_unknown, unmapped) if isinstance(a, dict) else a
                for name, a in value.items()}
    if isinstance(value, list):
        return [_loosen_object(a, f"{where}{i}/", drop_unknown, unmapped) if isinstance(a, dict) else a
                for i, a in enumerate(value)]
    return value


def _drop_unknown(key: str, value: Any, where: str, unmapped: list[str]) -> Any:
    """`value` without the properties, at any depth, that no ninjs schema defines anywhere
    (vendor fields in renditions, subjects, bodies, ...). Copies only what it changes."""
    if key.lower().startswith(_FREE_FORM):
        return value
    if isinstance(value, list):
        out = [_drop_unknown("", v, f"{where}{i}/", unmapped) if isinstance(v, (dict, list)) else v
               for i, v in enumerate(value)]
        return value if all(a is b for a, b in zip(out, value)) else out
    if not isinstance(value, dict):
        return value
    if key == "renditions":  # 1.x: keyed by name
        out = {name: _drop_unknown("", v, f"{where}{name}/", unmapped) for name, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    known = versions.property_names()
    changed = None
    for name, inner in value.items():
        if name not in known:
            unmapped.append(where + name)
            changed = changed if changed is not None else dict(value)
            del changed[name]
            continue
        if not isinstance(inner, (dict, list)):
            continue
        new = _drop_unknown(name, inner, f"{where}{name}/", unmapped)
        if new is not inner:
            changed = changed if changed is not None else dict(value)
            changed[name] = new
    return value if changed is None else changed


def _check_uri(uri: Any) -> None:
    if not isinstance(uri, str):
        return  # missing or not a string: the schema says so
    if not uri.strip():
        raise InvalidInput("bad_uri", "the uri is empty")
    if len(uri.encode("utf-8")) > MAX_URI_BYTES:
        raise InvalidInput("bad_uri", f"the uri is {len(uri.encode('utf-8'))} bytes long, more than {MAX_URI_BYTES}")
    if found := _CONTROL.search(uri):
        raise InvalidInput("bad_uri", f"the uri holds a control character ({found.group()!r} at {found.start()})")


def _kind(ninjs: dict[str, Any], limits: Limits) -> tuple[str | None, tuple[str, ...], dict[str, Any] | None]:
    """Why the item is not cleaned (None: it is), its paragraphs and the body they come from."""
    status = ninjs.get("pubStatus")
    if status in KILLED:
        return status, (), None
    if ninjs.get("type", "text") != "text":
        return "non_text", (), None
    body = select_body(ninjs.get("bodies") or [])
    if body is None:
        return "no_text", (), None
    paragraphs = split_body(body["value"], body.get("contentType"))
    if not paragraphs:
        return "no_text", (), None
    if len(paragraphs) > limits.max_paragraphs:
        raise InvalidInput("too_many_paragraphs", f"{len(paragraphs)} paragraphs > max_paragraphs={limits.max_paragraphs}")
    return None, tuple(paragraphs), body


def main_headline(doc: dict[str, Any]) -> str:
    headlines = doc.get("headlines") or []
    chosen = next((h for h in headlines if h.get("role") == "main"), headlines[0] if headlines else None)
    return chosen["value"].strip() if chosen else ""


def source_of(doc: dict[str, Any]) -> str:
    for alt in doc.get("altIds") or []:
        if alt.get("role") == "source" and alt.get("value"):
            return alt["value"]
    return doc.get("copyrightHolder") or ""


def event_time_of(doc: dict[str, Any], fallback: datetime | None, fallback_source: str = "fallback") -> tuple[datetime, str]:
    """The first time field present; without one the fallback (never a dead letter for that)."""
    for name in TIME_FIELDS:
        if name in doc:
            try:
                return parse_time(doc[name]), name
            except (ValueError, OverflowError):
                raise InvalidInput("bad_time", f"{name}={doc[name]!r} is not a date-time this pipeline can represent") from None
    if fallback is None:
        return EPOCH, "fallback"
    return fallback, fallback_source
