"""The IPTC ninjs conformance suite (../shared/ninjs/conformance): every should_pass document of every
version is accepted (cleaned or passed, its output valid ninjs 3.1), every should_fail one is
dead-lettered. A document that declares no version is read as its directory's version
(NEWSCLEAN_NINJS_VERSION): the suite holds the same bare document as invalid in 1.0 and valid in
1.2. Without that setting (auto) every should_pass document is still accepted."""

from pathlib import Path

import pytest

from streams.core.models import MemoryStore
from streams.core.ninjs import InputSettings
from streams.core.ninjs.versions import is_valid_31
from streams.core.pipeline import Passed, PipelineSettings, Prepared, Rejected, prepare

SUITE = Path(__file__).resolve().parents[3] / "shared" / "ninjs" / "conformance"
DOCS = sorted(SUITE.glob("*/should_*/*.json"))
PASS = [p for p in DOCS if p.parent.name == "should_pass"]
FAIL = [p for p in DOCS if p.parent.name == "should_fail"]


def _outcome(path: Path, version: str):
    settings = PipelineSettings(input=InputSettings(ninjs_version=version))
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
