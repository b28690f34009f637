"""Which ninjs version an item is, and validation against that version's own official schema.

Detection, in order: a declaration (`$standard` in 1.3–1.6, `standard` in 2.0+, a top-level
`$schema`; its `version`, else the version in its schema URL), when it names a version its marker
allows; else the feed's assumed version (`NEWSCLEAN_NINJS_VERSION`), when set; else the shape: the
newest version whose schema the item satisfies, among those whose top-level names cover the item's
(an invalid item is reported against the newest of those). Formats (`date-time`, `uri`) are
asserted for the Draft 2020-12 schemas (2.1–3.1); for 1.0–2.0 the IPTC's own conformance suite
treats them as annotations (its valid 1.x items carry "Last Tuesday" times and bare ids as uris),
and the conversion to 3.1 deals with such values (README "Input formats")."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from typing import Any, Iterator

import jsonschema_rs

from ... import schemas
from ..errors import InvalidInput
from ..settings import NINJS_VERSIONS as VERSIONS

LATEST = "3.1"
# The versions whose schemas predate Draft 2020-12 and whose formats are annotations only.
LEGACY = frozenset(VERSIONS[: VERSIONS.index("2.0") + 1])
CAMEL_CASE = frozenset(("3.0", "3.1"))  # 1.x and 2.x use lower-case property names
# Which versions each declaration property can appear in.
_MARKERS = {"$standard": VERSIONS[VERSIONS.index("1.3"): VERSIONS.index("1.6") + 1],
            "standard": VERSIONS[VERSIONS.index("2.0"):], "$schema": VERSIONS}
_VERSION_IN = re.compile(r"(\d+\.\d+)")
_SCHEMA_URL = re.compile(r"ninjs-schema_(\d+\.\d+)\.json")


def declared(doc: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The version an item declares (None if none or unknown) and the versions its marker allows."""
    for marker, allowed in _MARKERS.items():
        if marker not in doc:
            continue
        value = doc[marker]
        claim = None
        if isinstance(value, dict):
            version, schema = value.get("version"), value.get("schema")
            if isinstance(version, str) and (found := _VERSION_IN.match(version.strip())):
                claim = found.group(1)  # "2.0-dev" is a 2.0
            elif isinstance(schema, str) and (found := _SCHEMA_URL.search(schema)):
                claim = found.group(1)
        elif isinstance(value, str) and (found := _SCHEMA_URL.search(value)):
            claim = found.group(1)
        return (claim if claim in allowed else None), allowed
    return None, VERSIONS


def detect(doc: dict[str, Any], assumed: str = "auto", original: dict[str, Any] | None = None) -> tuple[str, tuple[str, ...]]:
    """The version to validate `doc` against, and the other candidates to try (newest first) when
    it came from the shape alone. `original`: the item before the leniency step, which may have
    removed its `$schema` declaration."""
    claim, allowed = declared(original if original is not None else doc)
    if claim is not None:
        return claim, ()
    if assumed != "auto" and allowed is VERSIONS:
        return assumed, ()
    candidates = _candidates(allowed, frozenset(doc))
    return candidates[0], candidates[1:]


@lru_cache(maxsize=4096)  # the items of one feed share a handful of key sets
def _candidates(allowed: tuple[str, ...], names: frozenset[str]) -> tuple[str, ...]:
    return tuple(v for v in reversed(allowed) if _covers(v, names)) or tuple(reversed(allowed))


def check(doc: dict[str, Any], version: str, others: tuple[str, ...] = ()) -> str:
    """The item's version (`version`, else the first of `others` that the item satisfies); raises
    InvalidInput("schema") when the item is invalid in all of them."""
    error = first_error(doc, version)
    if error is None:
        return version
    for other in others:
        if first_error(doc, other) is None:
            return other
    raise InvalidInput("schema", f"ninjs {version} schema violation at {error}")


def first_error(doc: dict[str, Any], version: str) -> str | None:
    for error in validator(version).iter_errors(doc):
        where = "/".join(str(p) for p in error.instance_path) or "(root)"
        return f"{where}: {error.message[:300]}"
    return None


def errors_31(doc: dict[str, Any]) -> list[Any]:
    return list(validator(LATEST).iter_errors(doc))


def is_valid_31(doc: dict[str, Any]) -> bool:
    return validator(LATEST).is_valid(doc)


@cache
def validator(version: str) -> Any:
    """jsonschema-rs (against the `jsonschema` package: bench/README.md "Input path");
    it has no Draft 3, so the one Draft 3 schema (1.0) is read as Draft 4 (`draft4`)."""
    if version not in VERSIONS:
        raise InvalidInput("schema", f"unknown ninjs version {version!r}")
    schema = schemas.load(schemas.ninjs_name(version))
    if version == "1.0":
        schema = draft4(schema)
    geojson = schemas.load(schemas.GEOJSON)
    registry = jsonschema_rs.Registry([(schemas.schema_id(geojson), geojson)])
    return jsonschema_rs.validator_for(schema, validate_formats=version not in LEGACY, registry=registry)


def draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """A Draft 3 schema in Draft 4 form. The ninjs 1.0 schema's one Draft 3 keyword is the
    boolean `required` inside a property; Draft 4 lists required names on the parent object."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: convert(v) for k, v in node.items() if not (k == "required" and isinstance(v, bool))}
        props = node.get("properties")
        if isinstance(props, dict):
            required = [name for name, sub in props.items() if isinstance(sub, dict) and sub.get("required") is True]
            if required:
                out["required"] = required
        return out

    converted = convert(schema)
    converted["$schema"] = "http://json-schema.org/draft-04/schema#"
    return converted


@cache
def top_level_names(version: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    schema = schemas.load(schemas.ninjs_name(version))
    if "$defs" in schema and "ninjsType" in schema["$defs"]:
        schema = schema["$defs"]["ninjsType"]
    return frozenset(schema.get("properties", {})), tuple(re.compile(p) for p in schema.get("patternProperties", {}))


@lru_cache(maxsize=4096)
def is_ninjs_name(name: str, association: bool = False) -> bool:
    """Whether any released ninjs version defines a top-level property of this name (or, with
    `association`, a property of an association entry: those add `name` to the ninjs ones)."""
    if association and name in association_names():
        return True
    return any(name in known or any(p.match(name) for p in patterns) for known, patterns in map(top_level_names, VERSIONS))


def _schema_nodes() -> Iterator[dict[str, Any]]:
    """Every object node of every released ninjs schema, depth first."""
    stack: list[Any] = [schemas.load(schemas.ninjs_name(version)) for version in VERSIONS]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@cache
def property_names() -> frozenset[str]:
    """Every property name any ninjs schema defines at any depth."""
    return frozenset(name for node in _schema_nodes() if isinstance(node.get("properties"), dict)
                     for name in node["properties"])


@cache
def association_names() -> frozenset[str]:
    """The properties that association entries define beside the ninjs ones (2.1+: `name`)."""
    found: set[str] = set()
    for version in VERSIONS:
        schema = schemas.load(schemas.ninjs_name(version))
        props = (schema.get("$defs", {}).get("ninjsType") or schema).get("properties", {})
        items = props.get("associations", {}).get("items")
        if isinstance(items, dict):
            found.update(items.get("properties", {}))
    return frozenset(found)


def _covers(version: str, names: Any) -> bool:
    known, patterns = top_level_names(version)
    return all(n in known or n == "$schema" or any(p.match(n) for p in patterns) for n in names)


@cache
def timeless_names() -> frozenset[str]:
    """Lower-cased property names whose value can hold no date-time in any ninjs schema (no
    date-time format and no reference inside), e.g. `bodies`, `headlines`: the time leniency
    does not walk into them."""
    seen: dict[str, bool] = {}
    for node in _schema_nodes():
        props = node.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                text = json.dumps(sub)
                timeless = '"date-time"' not in text and '"$ref"' not in text
                seen[name.lower()] = seen.get(name.lower(), True) and timeless
    return frozenset(name for name, timeless in seen.items() if timeless)


@cache
def date_time_names() -> frozenset[str]:
    """Every property name that any ninjs schema declares as a date-time, lower-cased: the values
    the time leniency may rewrite."""
    found: set[str] = set()
    for node in _schema_nodes():
        for key in ("properties", "patternProperties"):
            named = node.get(key)
            for name, sub in named.items() if isinstance(named, dict) else ():
                if isinstance(sub, dict) and sub.get("format") == "date-time":
                    found.add(name.lower())
    return frozenset(found)
