"""The JSON Schemas newsclean reads and writes, shipped as package data (a wheel needs no source tree):
the official IPTC ninjs schemas of every released version, GeoJSON (referenced by ninjs 2.x/3.x
`places[].geoJSON`), and the project's own envelope and dead-letter schemas. README.md here says
where each comes from and under which licence."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

ENVELOPE = "envelope.schema.json"
DEAD_LETTER = "dead-letter.schema.json"
GEOJSON = "GeoJSON-schema.json"


def ninjs_name(version: str) -> str:
    return f"ninjs-schema_{version}.json"


@cache
def load(name: str) -> dict[str, Any]:
    """A schema by file name, e.g. "ninjs-schema_3.1.json". Cached: callers must not modify it."""
    return orjson.loads(resources.files(__name__).joinpath(name).read_bytes())


def names() -> list[str]:
    return sorted(p.name for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


def schema_id(schema: dict[str, Any]) -> str:
    """`$id` (Draft 6+) or `id` (Drafts 3/4), without the empty fragment."""
    return str(schema.get("$id") or schema.get("id") or "").rstrip("#")


@cache
def registry() -> Any:
    """A `referencing` registry of every schema, by `$id` and by file name (for the project's
    own schemas' relative references)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import specification_with

    resources_ = []
    for name in names():
        contents = load(name)
        resource = Resource(contents=contents, specification=specification_with(contents.get("$schema", "")))
        resources_.append((schema_id(contents), resource))
        resources_.append((name, resource))
    return Registry().with_resources(resources_)


@cache
def validator(name: str) -> Any:
    """A jsonschema validator with format checks for one of the project's own schemas
    (envelope, dead letter): tests and the tools that check output use it."""
    from jsonschema import FormatChecker, validators

    schema = load(name)
    cls = validators.validator_for(schema)
    return cls(schema, registry=registry(), format_checker=FormatChecker())
