"""Property tests of the input path and the cleaning core (hypothesis).

- Whatever the bytes, `decode` and `parse_article` return or raise `InvalidInput`, nothing else,
  and `prepare` (decode + validation + dedup on a store) returns Prepared or Rejected.
- A valid article, plain text or HTML, round-trips: its uri, version, source, headline, event
  time and paragraph texts come back as written.
- Dedup splits an article's paragraphs into kept and removed without rewriting any of them.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.models import MemoryStore
from streams.core.ninjs import InvalidInput, decode, parse_article
from streams.core.settings import Limits, PipelineSettings
from streams.core.ninjs.versions import is_valid_31
from streams.core.pipeline import Passed, Prepared, Rejected, prepare
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SMALL = Limits(max_message_bytes=64 * 1024, max_paragraphs=50, max_json_depth=16)
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
# Text as feeds send it: any script, emoji, zero-width and bidi controls, but no surrogates.
prose = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80)
line = prose.map(lambda t: t.replace("\r", " ").replace("\n", " ")).filter(lambda t: t.strip())
moments = st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1), timezones=st.just(timezone.utc)).map(
    lambda m: m.replace(microsecond=0))

# ninjs-shaped objects: the names the decoder looks at, with well-typed or arbitrary values.
ninjs_like = st.fixed_dictionaries({}, optional={
    "uri": st.text(max_size=20) | json_values,
    "version": st.text(max_size=5) | json_values,
    "headline": line | json_values,
    "headlines": st.lists(st.fixed_dictionaries({"value": line}, optional={"role": st.sampled_from(["main", "sub"])})) | json_values,
    "bodies": st.lists(st.fixed_dictionaries({"value": st.text()}, optional={
        "role": st.sampled_from(["main", "other"]), "contentType": st.sampled_from(["text/plain", "text/html", "x/y"])})) | json_values,
    "body_text": st.text() | json_values,
    "body_html": st.text() | json_values,
    "versionCreated": moments.map(lambda m: m.isoformat()) | st.text(max_size=30) | json_values,
    "versioncreated": st.text(max_size=30) | json_values,
    "altIds": st.lists(st.fixed_dictionaries({"role": st.just("source"), "value": st.text(max_size=10)})) | json_values,
    "copyrightHolder": st.text(max_size=10) | json_values,
})


def _only_invalid_input(call, *args):
    try:
        return call(*args)
    except InvalidInput as exc:
        assert exc.reason and exc.detail
        return exc


@FAST
@given(st.binary(max_size=2048))
def test_decode_properties_any_bytes_decode_or_invalid_input(raw):
    result = _only_invalid_input(decode, raw, SMALL)
    assert isinstance(result, (dict, InvalidInput))


@FAST
@given(json_values)
def test_decode_properties_any_json_decodes_to_an_object_or_invalid_input(value):
    result = _only_invalid_input(decode, json.dumps(value).encode(), SMALL)
    assert isinstance(result, InvalidInput) or result == value


@FAST
@given(ninjs_like, st.none() | moments)
def test_decode_properties_parse_article_returns_an_article_or_invalid_input(doc, fallback):
    _only_invalid_input(parse_article, doc, fallback, SMALL)


@FAST
@given(ninjs_like | json_values)
def test_decode_properties_prepare_never_raises(doc):
    raw = json.dumps(doc).encode()
    outcome = prepare(raw, {"file": "property", "line": 1}, MemoryStore(), PipelineSettings(limits=SMALL))
    assert isinstance(outcome, (Prepared, Passed, Rejected))
    if isinstance(outcome, Passed):  # a valid item that is not cleaned: its article is valid 3.1
        assert is_valid_31(outcome.envelope["article"])


@FAST
@given(st.integers(1, 40))
def test_decode_properties_nesting_deeper_than_the_limit_is_too_deep(extra):
    raw = b"[" * (SMALL.max_json_depth + extra) + b"]" * (SMALL.max_json_depth + extra)
    assert _only_invalid_input(decode, raw, SMALL).reason == "too_deep"


@FAST
@given(uri=st.from_regex(r"urn:newsclean:[a-z0-9:-]{1,20}", fullmatch=True), version=st.integers(1, 99).map(str),
       source=line, headline=line, when=moments, paragraphs=st.lists(line, min_size=1, max_size=12), as_html=st.booleans())
def test_decode_properties_valid_articles_round_trip(uri, version, source, headline, when, paragraphs, as_html):
    if as_html:
        body = {"role": "main", "contentType": "text/html", "value": "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)}
        # as a browser shows it: HTML white space runs collapse, NUL is dropped (HTML5 parse error)
        shown = [re.sub(r"[ \t\n\f\r]+", " ", p.replace("\x00", "")).strip() for p in paragraphs]
        expected = [p for p in shown if p]
    else:
        body = {"role": "main", "contentType": "text/plain", "value": "\n\n".join(paragraphs)}
        expected = [p.strip() for p in paragraphs]
    doc = {"uri": uri, "version": version, "versionCreated": when.isoformat().replace("+00:00", "Z"),
           "headlines": [{"role": "main", "value": headline}], "bodies": [body],
           "altIds": [{"role": "source", "value": source}]}
    if not expected:
        return  # nothing visible in the HTML: passed as no_text, checked elsewhere
    article = parse_article(decode(orjson.dumps(doc), SMALL), None, SMALL)
    assert (article.uri, article.version, article.source, article.headline, article.event_time) == (
        uri, version, source, headline.strip(), when)
    assert [p.text for p in article.paragraphs] == expected
    assert [p.index for p in article.paragraphs] == list(range(len(expected)))


@FAST
@given(st.lists(st.lists(st.sampled_from(["Alpha beta gamma.", "Delta epsilon.", "Read more: x", "Zeta eta theta iota."]) | line,
                         min_size=1, max_size=8), min_size=1, max_size=6))
def test_decode_properties_dedup_keeps_or_removes_every_paragraph_unchanged(bodies):
    store = MemoryStore()
    for n, paragraphs in enumerate(bodies):
        raw = orjson.dumps({"uri": f"urn:p:{n}", "versionCreated": f"2026-01-01T00:{n:02d}:00Z",
                            "bodies": [{"role": "main", "contentType": "text/plain", "value": "\n".join(paragraphs)}],
                            "altIds": [{"role": "source", "value": "S"}]})
        outcome = prepare(raw, {"file": "property", "line": n}, store, PipelineSettings())
        assert isinstance(outcome, Prepared)
        article, result = outcome.article, outcome.result
        kept, removed = [p.index for p in result.kept], [r.index for r in result.removed]
        assert sorted(kept + removed) == [p.index for p in article.paragraphs]
        texts = {p.index: p.text for p in article.paragraphs}
        assert all(texts[p.index] == p.text for p in result.kept)
        assert all(texts[r.index] == r.text for r in result.removed)


def test_prepare_checked_skips_only_what_was_already_checked():
    # `checked=True` (the worker's clean agent, after route validated the same bytes) must give
    # the same decision as the full path on valid input.
    for line in (EXAMPLES / "articles.jsonl").read_bytes().splitlines():
        full = prepare(line, {"file": "x", "line": 1}, MemoryStore(), PipelineSettings())
        fast = prepare(line, {"file": "x", "line": 1}, MemoryStore(), PipelineSettings(), checked=True)
        assert fast == full
