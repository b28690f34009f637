"""The schemas are package data: every one loads through importlib.resources and is listed in the
wheel's package-data patterns."""

import fnmatch
import tomllib
from pathlib import Path

import pytest

from streams import schemas
from streams.core.ninjs import VERSIONS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("version", VERSIONS)
def test_schemas_every_ninjs_version_loads_with_its_id(version):
    schema = schemas.load(schemas.ninjs_name(version))
    assert schemas.schema_id(schema) == f"http://www.iptc.org/std/ninjs/ninjs-schema_{version}.json"


def test_schemas_package_data_patterns_cover_every_schema_file():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["streams"]
    files = [p.relative_to(ROOT / "streams").as_posix() for p in (ROOT / "streams" / "schemas").iterdir()
             if p.suffix != ".py" and p.name != "__pycache__"]
    assert "schemas/LICENSE-IPTC-MIT" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []


def test_schemas_top_level_links_point_at_the_package_data():
    for link in (ROOT / "schemas").glob("*.json"):
        assert link.resolve().parent == ROOT / "streams" / "schemas", link
