"""The IPTC ninjs conformance suite (../shared/ninjs/conformance): every should_pass document of every
version is accepted (cleaned or passed, its output valid ninjs 3.1), every should_fail one is
dead-lettered, with the strict settings a conformance check needs: a document that declares no
version is read as its directory's version (NEWSCLEAN_NINJS_VERSION; the suite holds the same bare
document as invalid in 1.0 and valid in 1.2) and properties no ninjs version defines are errors
(NEWSCLEAN_UNKNOWN_FIELDS=reject; the default lists them as unmapped). With the defaults every
should_pass document is still accepted."""

from pathlib import Path

import pytest

from streams.core.models import MemoryStore
from streams.core.settings import InputSettings, PipelineSettings
from streams.core.ninjs.versions import is_valid_31
from streams.core.pipeline import Passed, Prepared, Rejected, prepare

SUITE = Path(__file__).resolve().parents[3] / "shared" / "ninjs" / "conformance"
DOCS = sorted(SUITE.glob("*/should_*/*.json"))
PASS = [p for p in DOCS if p.parent.name == "should_pass"]
FAIL = [p for p in DOCS if p.parent.name == "should_fail"]


def _outcome(path: Path, version: str):
    """Pinned to a version: the strict conformance reading (unknown properties are errors);
    "auto": the defaults a newsroom runs with."""
    strict = InputSettings(ninjs_version=version, unknown_fields="reject") if version != "auto" else InputSettings()
    settings = PipelineSettings(input=strict)
    return prepare(path.read_bytes(), {"file": str(path), "line": 1}, MemoryStore(), settings)


def _name(path: Path) -> str:
    return "/".join(path.parts[-3:])


def test_conformance_suite_is_complete():
    assert (len(PASS), len(FAIL)) == (142, 58)


@pytest.mark.parametrize("path", PASS, ids=_name)
def test_conformance_should_pass_is_accepted(path):
    for version in (path.parts[-3], "auto"):
        outcome = _outcome(path, version)
        assert isinstance(outcome, (Prepared, Passed)), (version, getattr(outcome, "record", {}).get("detail"))
        article = outcome.article.ninjs if isinstance(outcome, Prepared) else outcome.envelope["article"]
        assert is_valid_31(article)


@pytest.mark.parametrize("path", FAIL, ids=_name)
def test_conformance_should_fail_is_dead_lettered(path):
    outcome = _outcome(path, path.parts[-3])
    assert isinstance(outcome, Rejected)
    assert outcome.reason in ("schema", "not_json", "duplicate_key")


@pytest.mark.parametrize("path", sorted(SUITE.parent.glob("example_3.1_*.json")), ids=lambda p: p.name)
def test_conformance_official_31_examples_are_cleaned(path):
    outcome = _outcome(path, "auto")
    assert isinstance(outcome, Prepared) and outcome.article.input_version == "3.1" and outcome.article.unmapped == ()


def _leaves(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}/{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{path}/{i}")
    else:
        yield path, node


@pytest.mark.parametrize("path", PASS, ids=_name)
def test_conformance_no_input_value_is_dropped_silently(path):
    """Every input value reaches the 3.1 item (a code inside its uri, a key of an object keyed by
    name as `name`) or its path, or a prefix of it, is listed in `unmapped`."""
    import orjson

    from streams.core.ninjs import read_item
    from streams.core.ninjs.times import rfc3339

    doc = orjson.loads(path.read_bytes())
    item = read_item(doc, settings=InputSettings(ninjs_version=path.parts[-3]))
    out = [v for _, v in _leaves(item.ninjs)]
    names = {p.rsplit("/", 1)[-1] for p, _ in _leaves(item.ninjs)} | {v for v in out if isinstance(v, str)}
    renamed = {"complete": "full", "incomplete": "partial"}
    for where, value in _leaves(doc):
        if where.split("/")[0] in ("$standard", "standard") or value is None:
            continue
        if any(where == u or where.startswith(u + "/") for u in item.unmapped):
            continue
        if isinstance(value, str):
            wanted = rfc3339(value) or renamed.get(value, value)
            assert any(isinstance(v, str) and wanted in v for v in out), (where, value)
        else:
            assert value in out, (where, value)
    for where, _ in _leaves(doc):  # keys of objects keyed by name survive as `name` values
        parts = where.split("/")
        if len(parts) > 1 and parts[0] in ("renditions", "associations") and not any(where.startswith(u) for u in item.unmapped):
            assert parts[1].isdigit() or parts[1] in names, where
