from datetime import datetime, timezone

import orjson
import pytest

from streams.core.ninjs import InvalidInput, Limits, decode, parse_article, to_ninjs31

ARTICLE = {
    "uri": "urn:newsclean:test:1",
    "version": "2",
    "versionCreated": "2026-03-02T06:00:00Z",
    "type": "text",
    "headlines": [{"role": "main", "value": "Harbour reopens"}],
    "bodies": [{"role": "main", "contentType": "text/plain", "value": "First.\n\nSecond."}],
    "altIds": [{"role": "source", "value": "Harbour Gazette"}],
}


def test_ninjs_parse_article_reads_the_fields():
    article = parse_article(ARTICLE)
    assert article.uri == "urn:newsclean:test:1"
    assert article.version == "2"
    assert article.event_time == datetime(2026, 3, 2, 6, tzinfo=timezone.utc)
    assert article.source == "Harbour Gazette"
    assert article.headline == "Harbour reopens"
    assert [(p.index, p.text) for p in article.paragraphs] == [(0, "First."), (1, "Second.")]


def test_ninjs_legacy_superdesk_names_are_normalised():
    legacy = {
        "uri": "urn:newsclean:test:2",
        "headline": "Old style",
        "body_html": "<p>One &amp; two</p><p>Three</p>",
        "versioncreated": "2026-01-01T00:00:00+01:00",
        "byline": "A Reporter",
    }
    ninjs = to_ninjs31(legacy)
    assert ninjs["headlines"] == [{"role": "main", "value": "Old style"}]
    assert ninjs["bodies"] == [{"role": "main", "contentType": "text/html", "value": legacy["body_html"]}]
    assert ninjs["by"] == "A Reporter" and "byline" not in ninjs
    article = parse_article(legacy)
    assert [p.text for p in article.paragraphs] == ["One & two", "Three"]
    assert article.event_time == datetime(2025, 12, 31, 23, tzinfo=timezone.utc)


def test_ninjs_body_text_preferred_over_body_html():
    legacy = {"uri": "urn:x:3", "body_text": "plain", "body_html": "<p>html</p>", "versioncreated": "2026-01-01T00:00:00Z"}
    assert [p.text for p in parse_article(legacy).paragraphs] == ["plain"]


def test_ninjs_event_time_falls_back_to_the_given_time():
    doc = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    moment = datetime(2020, 5, 5, tzinfo=timezone.utc)
    assert parse_article(doc, fallback_time=moment).event_time == moment
    with pytest.raises(InvalidInput) as caught:
        parse_article(doc)
    assert caught.value.reason == "no_event_time"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not utf-8", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"a string"', "not_object"),
        (b'{"uri": "a", "uri": "b"}', "duplicate_key"),
        (b"[" * 100 + b"]" * 100, "too_deep"),
        (b"x" * 2048, "too_large"),
    ],
)
def test_ninjs_decode_rejects_with_a_reason(raw, reason):
    with pytest.raises(InvalidInput) as caught:
        decode(raw, Limits(max_message_bytes=1024))
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"uri": 5}, "schema"),
        ({"headlines": "not a list"}, "schema"),
        ({"unknownField": 1}, "schema"),
        ({"versionCreated": "yesterday"}, "bad_time"),
        ({"bodies": []}, "no_body"),
        ({"bodies": [{"role": "main", "contentType": "text/plain", "value": "  \n\n "}]}, "no_body"),
        ({"bodies": [{"role": "main", "contentType": "text/html", "value": "<script>x</script>"}]}, "no_body"),
    ],
)
def test_ninjs_parse_article_rejects_invalid_articles(change, reason):
    doc = {**ARTICLE, **change}
    with pytest.raises(InvalidInput) as caught:
        parse_article(doc)
    assert caught.value.reason == reason


def test_ninjs_paragraph_limit_is_named_in_the_reason():
    doc = {**ARTICLE, "bodies": [{"role": "main", "value": "\n\n".join(["p"] * 11)}]}
    with pytest.raises(InvalidInput) as caught:
        parse_article(doc, limits=Limits(max_paragraphs=10))
    assert caught.value.reason == "too_many_paragraphs"
    assert "max_paragraphs=10" in str(caught.value)


def test_ninjs_official_examples_are_accepted():
    from streams.core.ninjs import SCHEMAS, validate

    for name in ("ninjs-schema_3.1.json",):
        assert (SCHEMAS / name).exists()
    validate(orjson.loads(orjson.dumps(ARTICLE)))


def test_ninjs_unicode_text_survives():
    text = "Zero\u200bwidth, \u05e2\u05d1\u05e8\u05d9\u05ea RTL and emoji \U0001f4f0"
    doc = {**ARTICLE, "bodies": [{"role": "main", "value": text}]}
    assert parse_article(decode(orjson.dumps(doc))).paragraphs[0].text == text
