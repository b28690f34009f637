"""Any valid ninjs item to ninjs 3.1.

Driven by the 3.1 schema: at each level an input property goes to the 3.1 property of the same
name compared without case (`versioncreated` -> `versionCreated`, `bodies[].contenttype` ->
`contentType`, `rightsinfo.langid` -> `langId`, ...), recursively, after the renames that case
cannot explain (`_RENAMED`, `_ALIASES`) and the 1.x structures that 3.x writes otherwise:

- `headline` -> `headlines` [{role: main}]; `headline_<x>`, `body_<x>`, `description_<x>` ->
  `headlines`, `bodies`, `descriptions` entries, the suffix read as format tokens (`text`, `html`,
  `xhtml`, `nitf`, `xml` -> `contentType`) and a purpose (the rest -> `role`; a body without a
  purpose is the `main` one);
- `renditions` and `associations` objects keyed by name -> arrays of objects with `name`;
- `altids` {role: value} -> `altIds` [{role, value}];
- `scheme` + `code` -> `uri` (the scheme URI followed by the code), a lone `code` -> `literal`;
- `charcount`/`wordcount` -> the counts of the body they describe;
- a `standard`/`$standard` declaration -> the 3.1 one (the envelope's `input_version` keeps
  what the input was).

A value 3.1 cannot hold (a 1.x "Last Tuesday" time, an urgency of 0.5, an association without a
uri, ...) is removed after the 3.1 validator names it, and every property not carried over is
listed by its input path in `unmapped`. A bare 1.x/2.0 id as `uri` is made a URI with a prefix.
The result always validates against 3.1; `ConversionError` (a bug, never a dead letter reason of
its own) says when it cannot."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from ... import schemas
from . import versions

SCHEMA_31 = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
STANDARD_31 = {"name": "ninjs", "version": "3.1", "schema": SCHEMA_31}
# 1.x names whose 3.x form is not the same word (the rest differ only by case).
_RENAMED = {
    "person": "people", "organisation": "organisations", "place": "places", "subject": "subjects",
    "event": "events", "object": "objects", "infosource": "infoSources", "trustindicator": "trustIndicators",
    "genre": "genres", "byline": "by", "embargoed": "embargoedUntil", "$standard": "standard",
}
# Nested names that changed with the structure: (input name, 3.1 name), used where the 3.1 object
# lacks the input name and has the other.
_ALIASES = (("rel", "role"), ("mimetype", "contentType"), ("geometry_geojson", "geoJSON"), ("ticker", "symbol"))
# Enumerated values that 2.0 renamed: (3.1 property, 1.x value) -> 3.1 value.
_VALUES = {("representationType", "complete"): "full", ("representationType", "incomplete"): "partial"}
_TEXT_FIELDS = {"headline_": "headlines", "body_": "bodies", "description_": "descriptions"}
_FORMATS = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml",
            "nitf": "text/vnd.IPTC.NITF", "xml": "application/xml"}
_SCHEME_JOINS = ("/", "#", ":", "=", "?")
_MAX_REPAIRS = 1_000


class ConversionError(RuntimeError):
    """A valid input that could not be made valid 3.1: a bug in the conversion."""


def to_31(doc: dict[str, Any], version: str, uri_prefix: str) -> tuple[dict[str, Any], list[str]]:
    """The item in 3.1 and the input paths of what could not be carried over."""
    if version in versions.CAMEL_CASE:
        # 3.0 is 3.1 without `digitalSourceType`: every valid 3.0 item is valid 3.1.
        out = dict(doc)
        if "standard" in out:
            out["standard"] = dict(STANDARD_31)
        return out, []
    unmapped: list[str] = []
    trace: dict[tuple, str] = {}
    out = _object(doc, _ninjs_type(), (), "", _Context(unmapped, trace, uri_prefix))
    _repair(out, unmapped, trace)
    return out, unmapped


class _Context:
    __slots__ = ("unmapped", "trace", "uri_prefix")

    def __init__(self, unmapped: list[str], trace: dict[tuple, str], uri_prefix: str) -> None:
        self.unmapped = unmapped
        self.trace = trace
        self.uri_prefix = uri_prefix


def _object(src: dict[str, Any], target: dict[str, Any], out_path: tuple, in_path: str, ctx: _Context) -> dict[str, Any]:
    props = _properties(target)
    is_ninjs = "bodies" in props and "uri" in props
    out: dict[str, Any] = {}
    lower = {name.lower(): name for name in props}
    texts: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, Any] = {}

    def place(name: str, value: Any, source: str) -> None:
        ctx.trace[out_path + (name,)] = source
        if name in out and isinstance(out[name], list) and isinstance(value, list):
            base = len(out[name])
            for i in range(len(value)):
                ctx.trace[out_path + (name, base + i)] = ctx.trace.pop(out_path + (name, i), f"{source}/{i}")
            out[name].extend(value)
        elif name in out:
            ctx.unmapped.append(source)
        else:
            out[name] = value

    if not is_ninjs and ("uri" in props or "role" in props) and ("scheme" in src or "code" in src):
        src = _scheme_code(src, props, in_path, ctx)
    for key, value in src.items():
        here = f"{in_path}/{key}" if in_path else key
        if is_ninjs:
            if key == "headline" and isinstance(value, str):
                texts.setdefault("headlines", []).insert(0, {"role": "main", "value": value})
                ctx.trace[out_path + ("headlines", 0)] = here
                continue
            prefix = next((p for p in _TEXT_FIELDS if key.startswith(p)), None)
            if prefix is not None and isinstance(value, str):
                texts.setdefault(_TEXT_FIELDS[prefix], []).append(_text_entry(key[len(prefix):], value, prefix == "body_"))
                continue
            if key in ("charcount", "wordcount"):
                counts[key] = value
                continue
            if key == "uri" and isinstance(value, str):
                place("uri", absolute_uri(value, ctx.uri_prefix), here)
                continue
            if key in ("altids", "altIds") and isinstance(value, dict):
                ctx.unmapped.extend(f"{here}/{k}" for k, v in value.items() if not isinstance(v, str))
                place("altIds", [{"role": k, "value": v} for k, v in value.items() if isinstance(v, str)], here)
                continue
            if key in ("renditions", "associations") and isinstance(value, dict):
                value = _named_list(value, out_path + (key,), here, ctx)
        name = _RENAMED.get(key) if is_ninjs else None
        name = name or lower.get(key.lower()) or _alias(key, props)
        if name is None:
            ctx.unmapped.append(here)
            continue
        if isinstance(value, str):
            value = _VALUES.get((name, value), value)
        place(name, _value(value, props[name], out_path + (name,), here, ctx), here)
    for name, entries in texts.items():
        place(name, entries, name)
    if counts:
        _place_counts(out, counts, out_path, in_path, ctx)
    if is_ninjs and "standard" in out:
        out["standard"] = dict(STANDARD_31)
    return out


def _value(value: Any, target: dict[str, Any], out_path: tuple, in_path: str, ctx: _Context) -> Any:
    if isinstance(value, dict) and _properties(target):
        return _object(value, target, out_path, in_path, ctx)
    items = _items(target)
    if isinstance(value, list) and items is not None and _properties(items):
        converted = []
        for i, item in enumerate(value):
            source = ctx.trace.get(out_path + (i,), f"{in_path}/{i}")
            ctx.trace[out_path + (i,)] = source
            converted.append(_object(item, items, out_path + (i,), source, ctx) if isinstance(item, dict) else item)
        return converted
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def _named_list(value: dict[str, Any], out_path: tuple, in_path: str, ctx: _Context) -> list[Any]:
    """A 1.x object keyed by name as the 3.x array with `name` in each entry."""
    entries = []
    for i, (name, entry) in enumerate(value.items()):
        ctx.trace[out_path + (i,)] = f"{in_path}/{name}"
        entries.append({"name": name, **entry} if isinstance(entry, dict) else entry)
    return entries


def _scheme_code(src: dict[str, Any], props: dict[str, Any], in_path: str, ctx: _Context) -> dict[str, Any]:
    """1.x `scheme` + `code` as the 2.0+ `uri` ("the identifier as a complete uri with the code"),
    or as `role` where that is the 3.1 uri-valued property (trustIndicators); a lone code is the
    `literal` identifier."""
    rest = {k: v for k, v in src.items() if k not in ("scheme", "code")}
    scheme, code = src.get("scheme"), src.get("code")
    target = "uri" if "uri" in props else "role"
    where = f"{in_path}/" if in_path else ""
    if isinstance(scheme, str) and isinstance(code, str) and target not in rest:
        rest[target] = scheme + code if scheme.endswith(_SCHEME_JOINS) or not scheme else f"{scheme}/{code}"
    elif isinstance(code, str) and scheme is None and "literal" in props and "literal" not in rest:
        rest["literal"] = code
    else:
        ctx.unmapped.extend(f"{where}{k}" for k in ("scheme", "code") if k in src)
    return rest


def _text_entry(suffix: str, value: str, is_body: bool) -> dict[str, Any]:
    parts = [p for p in suffix.split("_") if p]
    formats = [_FORMATS[p.lower()] for p in parts if p.lower() in _FORMATS]
    purpose = "_".join(p for p in parts if p.lower() not in _FORMATS)
    entry: dict[str, Any] = {}
    if purpose or is_body:
        entry["role"] = purpose or "main"
    if formats:
        entry["contentType"] = formats[0]
    entry["value"] = value
    return entry


def _place_counts(out: dict[str, Any], counts: dict[str, Any], out_path: tuple, in_path: str, ctx: _Context) -> None:
    """1.x counts describe the body text: they go on the plain-text body, else the first."""
    bodies = out.get("bodies") or []
    body = next((b for b in bodies if b.get("contentType") == "text/plain"), bodies[0] if bodies else None)
    for key, value in counts.items():
        here = f"{in_path}/{key}" if in_path else key
        if body is None:
            ctx.unmapped.append(here)
        else:
            name = "charCount" if key == "charcount" else "wordCount"
            body[name] = value
            ctx.trace[out_path + ("bodies", bodies.index(body), name)] = here


def _alias(key: str, props: dict[str, Any]) -> str | None:
    for old, new in _ALIASES:
        if key.lower() == old and new in props and old not in {p.lower() for p in props}:
            return new
    return None


def absolute_uri(value: str, prefix: str) -> str:
    """`value` when it is a URI; else (a bare id, valid in 1.0–2.0 where formats are annotations)
    the same id behind `prefix`, percent-encoded where a URI needs it."""
    if _is_uri(value):
        return value
    # keep what a URI allows; then escape `%` too (a stray one); then everything but unreserved
    for safe in ("!$&'()*+,;=:@/?#%", "!$&'()*+,;=:@/?", ""):
        candidate = prefix + quote(value, safe=safe)
        if _is_uri(candidate):
            return candidate
    return value


def _repair(out: dict[str, Any], unmapped: list[str], trace: dict[tuple, str]) -> None:
    for _ in range(_MAX_REPAIRS):
        errors = versions.errors_31(out)
        if not errors:
            return
        path = tuple(errors[0].instance_path)
        if not path:
            raise ConversionError(f"converted item is not valid ninjs 3.1: {errors[0].message[:300]}")
        parent = out
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        unmapped.append(_source(path, trace))
    raise ConversionError("converted item still invalid after the repair budget")


def _source(path: tuple, trace: dict[tuple, str]) -> str:
    for end in range(len(path), 0, -1):
        if path[:end] in trace:
            rest = "/".join(str(p) for p in path[end:])
            return trace[path[:end]] + (f"/{rest}" if rest else "")
    return "/".join(str(p) for p in path)


def target_of(path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The 3.1 property path a legacy property path goes to by the name rules (case, renames,
    aliases), array levels left out; None when the name rules give none (the structural rules —
    headline, body_*, scheme/code, counts — and `unmapped` deal with those)."""
    node: Any = _ninjs_type()
    out = []
    for depth, name in enumerate(path):
        props = _properties(node)
        lower = {n.lower(): n for n in props}
        target = (_RENAMED.get(name) if depth == 0 else None) or lower.get(name.lower()) or _alias(name, props)
        if target is None:
            return None
        out.append(target)
        node = props[target]
        items = _items(node)
        if items is not None and _properties(items):
            node = items
    return tuple(out)


# ---------------------------------------------------------------- the 3.1 schema as a map


@cache
def _schema() -> dict[str, Any]:
    return schemas.load(schemas.ninjs_name(versions.LATEST))


def _ninjs_type() -> dict[str, Any]:
    return _schema()["$defs"]["ninjsType"]


def _resolve(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = _schema()
        for part in ref[2:].split("/"):
            target = target[part]
        merged = dict(_resolve(target))
        extra = {k: v for k, v in node.items() if k != "$ref"}
        if "properties" in extra and "properties" in merged:
            extra["properties"] = {**merged["properties"], **extra["properties"]}
        merged.update(extra)
        return merged
    return node


def _properties(node: Any) -> dict[str, Any]:
    props = _resolve(node).get("properties")
    return props if isinstance(props, dict) else {}


def _items(node: Any) -> dict[str, Any] | None:
    items = _resolve(node).get("items")
    return items if isinstance(items, dict) else None


@cache
def _uri_validator() -> Any:
    return jsonschema_rs.validator_for({"type": "string", "format": "uri"}, validate_formats=True)


def _is_uri(value: str) -> bool:
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value)) and _uri_validator().is_valid(value)
