"""Validators for the project's message schemas (tests, and `newsclean` tools that check output)."""

from __future__ import annotations

from functools import cache

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from .core.ninjs import SCHEMAS


@cache
def registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = orjson.loads(path.read_bytes())
        resources.append((contents["$id"], Resource.from_contents(contents)))
        resources.append((path.name, Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """`name` is a file in schemas/, e.g. "envelope.schema.json"."""
    schema = orjson.loads((SCHEMAS / name).read_bytes())
    return Draft202012Validator(schema, registry=registry(), format_checker=FormatChecker())
