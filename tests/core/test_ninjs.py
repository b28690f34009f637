from datetime import datetime, timezone

import orjson
import pytest

from streams.core.ninjs import InvalidInput, decode, detect, parse_article, read_item
from streams.core.settings import InputSettings, Limits
from streams.core.ninjs.versions import is_valid_31

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
    assert (article.input_version, article.unmapped, article.event_time_source) == ("3.1", (), "versionCreated")


def test_ninjs_legacy_superdesk_item_is_read_as_1x():
    legacy = {
        "uri": "urn:newsclean:test:2",
        "headline": "Old style",
        "body_html": "<p>One &amp; two</p><p>Three</p>",
        "versioncreated": "2026-01-01T00:00:00+01:00",
        "byline": "A Reporter",
    }
    item = read_item(legacy)
    assert item.input_version.startswith("1.")
    assert item.ninjs["headlines"] == [{"role": "main", "value": "Old style"}]
    assert item.ninjs["bodies"] == [{"role": "main", "contentType": "text/html", "value": legacy["body_html"]}]
    assert item.ninjs["by"] == "A Reporter" and "byline" not in item.ninjs
    article = parse_article(legacy)
    assert [p.text for p in article.paragraphs] == ["One & two", "Three"]
    assert article.event_time == datetime(2025, 12, 31, 23, tzinfo=timezone.utc)


def test_ninjs_item_without_a_time_takes_the_fallback_and_says_so():
    doc = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    moment = datetime(2020, 5, 5, tzinfo=timezone.utc)
    item = read_item(doc, fallback_time=moment, fallback_source="record_timestamp")
    assert (item.event_time, item.event_time_source) == (moment, "record_timestamp")
    item = read_item(doc)
    assert (item.event_time, item.event_time_source) == (datetime(1970, 1, 1, tzinfo=timezone.utc), "fallback")


def test_ninjs_event_time_prefers_version_created_then_first_created():
    doc = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    item = read_item({**doc, "firstCreated": "2026-01-02T03:04:05Z", "contentCreated": "2025-01-01T00:00:00Z"})
    assert (item.event_time, item.event_time_source) == (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "firstCreated")


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
        (b"", "empty"),
        (b"  \r\n\t ", "empty"),
        ("\u3000\u00a0".encode(), "empty"),
    ],
)
def test_ninjs_decode_rejects_with_a_reason(raw, reason):
    with pytest.raises(InvalidInput) as caught:
        decode(raw, Limits(max_message_bytes=1024))
    assert caught.value.reason == reason


def test_ninjs_decode_checked_parses_without_the_checks():
    assert decode(orjson.dumps(ARTICLE), checked=True) == ARTICLE


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"uri": 5}, "schema"),
        ({"headlines": "not a list"}, "schema"),
        # the format checks run: none of these is a date-time or a uri
        ({"versionCreated": "yesterday"}, "schema"),
        ({"uri": "not a uri at all"}, "schema"),
        ({"embargoedUntil": "soon"}, "schema"),
        ({"firstCreated": "sometime last week"}, "schema"),
        ({"people": [{"name": "A", "uri": "no uri either"}]}, "schema"),
        # RFC 3339 allows a leap second; Python cannot represent it
        ({"versionCreated": "2016-12-31T23:59:60Z"}, "bad_time"),
        ({"uri": ""}, "bad_uri"),
        ({"uri": "   "}, "bad_uri"),
        ({"uri": "urn:x:" + "a" * 2043}, "bad_uri"),
        ({"uri": "urn:x:tab\there"}, "bad_uri"),
        ({"uri": "urn:x:nul\x00"}, "bad_uri"),
        ({"uri": "urn:x:c1\x85"}, "bad_uri"),
    ],
)
def test_ninjs_read_item_rejects_invalid_items(change, reason):
    with pytest.raises(InvalidInput) as caught:
        read_item({**ARTICLE, **change})
    assert caught.value.reason == reason


def test_ninjs_a_uri_of_exactly_2_kib_is_accepted():
    uri = "urn:x:" + "a" * (2048 - 6)
    assert read_item({**ARTICLE, "uri": uri}).uri == uri


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"bodies": []}, "no_text"),
        ({"bodies": [{"role": "main", "contentType": "text/plain", "value": "  \n\n "}]}, "no_text"),
        ({"bodies": [{"role": "main", "contentType": "text/html", "value": "<script>x</script>"}]}, "no_text"),
        ({"type": "picture"}, "non_text"),
        ({"type": "event"}, "non_text"),
        ({"pubStatus": "canceled"}, "canceled"),
        ({"pubStatus": "withheld", "type": "picture"}, "withheld"),
    ],
)
def test_ninjs_items_that_are_not_cleaned_say_why(change, why):
    item = read_item({**ARTICLE, **change})
    assert item.passed_as == why
    with pytest.raises(InvalidInput) as caught:
        parse_article({**ARTICLE, **change})
    assert caught.value.reason == "non_text"


def test_ninjs_paragraph_limit_is_named_in_the_reason():
    doc = {**ARTICLE, "bodies": [{"role": "main", "value": "\n\n".join(["p"] * 11)}]}
    with pytest.raises(InvalidInput) as caught:
        parse_article(doc, limits=Limits(max_paragraphs=10))
    assert caught.value.reason == "too_many_paragraphs"
    assert "max_paragraphs=10" in str(caught.value)


def test_ninjs_unicode_text_survives():
    text = "Zero\u200bwidth, \u05e2\u05d1\u05e8\u05d9\u05ea RTL and emoji \U0001f4f0"
    doc = {**ARTICLE, "bodies": [{"role": "main", "value": text}]}
    assert parse_article(decode(orjson.dumps(doc))).paragraphs[0].text == text


# ---------------------------------------------------------------- leniency


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("2017-08-24T04:38:34+0000", "2017-08-24T04:38:34+00:00"),
        ("2017-08-24T04:38:34+0200", "2017-08-24T04:38:34+02:00"),
        ("2017-08-24T04:38:34-05", "2017-08-24T04:38:34-05:00"),
        ("2017-08-24 04:38:34Z", "2017-08-24T04:38:34Z"),
        ("2017-08-24T04:38:34", "2017-08-24T04:38:34Z"),
        ("2017-08-24t04:38:34.250z", "2017-08-24T04:38:34.250Z"),
        ("2017-08-24 04:38 UTC", "2017-08-24T04:38:00Z"),
        ("2017-08-24T04:38:34Z", "2017-08-24T04:38:34Z"),
    ],
)
def test_ninjs_near_iso_times_are_accepted_and_written_in_rfc3339(given, written):
    item = read_item({**ARTICLE, "versionCreated": given, "embargoedUntil": given})
    assert item.ninjs["versionCreated"] == written and item.ninjs["embargoedUntil"] == written
    assert is_valid_31(item.ninjs)


def test_ninjs_near_iso_times_are_read_as_the_same_instant():
    item = read_item({**ARTICLE, "versionCreated": "2017-08-24 06:38:34+0200"})
    assert item.event_time == datetime(2017, 8, 24, 4, 38, 34, tzinfo=timezone.utc)


def test_ninjs_guid_stands_in_for_a_missing_uri():
    doc = {k: v for k, v in ARTICLE.items() if k != "uri"}
    item = read_item({**doc, "guid": "urn:newsml:localhost:2017:abc"})
    assert item.uri == "urn:newsml:localhost:2017:abc" and "guid" not in item.ninjs and item.unmapped == ()
    item = read_item({**ARTICLE, "guid": "tag:other,2017:1"})
    assert item.uri == ARTICLE["uri"] and item.unmapped == ("guid",)


def test_ninjs_a_top_level_schema_property_is_a_declaration():
    doc = {"$schema": "http://www.iptc.org/std/ninjs/ninjs-schema_1.3.json", "uri": "urn:x:1", "headline": "h"}
    item = read_item(doc)
    assert item.input_version == "1.3" and "$schema" not in item.ninjs


# ---------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("doc", "version"),
    [
        ({"uri": "urn:x", "$standard": {"name": "ninjs", "version": "1.4"}}, "1.4"),
        ({"uri": "urn:x", "$standard": {"schema": "https://iptc.org/std/ninjs/ninjs-schema_1.5.json"}}, "1.5"),
        ({"uri": "urn:x", "standard": {"name": "ninjs", "version": "2.0-dev"}}, "2.0"),
        ({"uri": "urn:x", "standard": {"name": "ninjs", "version": "3.0"}}, "3.0"),
        ({"uri": "urn:x", "versionCreated": "2020-01-01T00:00:00Z"}, "3.1"),
        ({"uri": "urn:x", "versioncreated": "2020-01-01T00:00:00Z", "headlines": [{"value": "h"}]}, "2.2"),
        ({"uri": "urn:x", "headline": "h", "body_text": "b"}, "1.6"),
    ],
)
def test_ninjs_detect_reads_the_declaration_else_the_shape(doc, version):
    assert read_item(doc).input_version == version


def test_ninjs_a_declaration_outside_its_markers_versions_falls_back_to_the_shape():
    # `standard` exists from 2.0 on: a 1.3 schema url in it cannot be right
    doc = {"uri": "urn:x", "standard": {"schema": "http://www.iptc.org/std/ninjs/ninjs-schema_1.3.json"}}
    assert detect(doc)[0] != "1.3" and read_item(doc).input_version in ("2.0", "2.1", "2.2", "3.0", "3.1")


def test_ninjs_assumed_version_decides_for_items_that_declare_none():
    component = {"uri": "urn:x:c", "type": "component"}  # valid from 1.2 on, not in 1.0
    assert read_item(component).input_version == "3.1"
    with pytest.raises(InvalidInput) as caught:
        read_item(component, settings=InputSettings(ninjs_version="1.0"))
    assert caught.value.reason == "schema" and "ninjs 1.0" in caught.value.detail
    declared = {**component, "$standard": {"version": "1.3"}}
    assert read_item(declared, settings=InputSettings(ninjs_version="1.0")).input_version == "1.3"


def test_ninjs_legacy_versions_do_not_assert_formats_but_31_output_is_strict():
    # 1.0-2.0 treat format as an annotation (the IPTC suite's own valid 1.x items do)
    item = read_item({"uri": "bare-id-17", "versioncreated": "Last Tuesday", "headline": "h"})
    assert item.uri == "urn:newsclean:bare-id-17"
    assert "versionCreated" not in item.ninjs and item.unmapped == ("versioncreated",)
    assert item.event_time_source == "fallback" and is_valid_31(item.ninjs)


def test_ninjs_uri_prefix_is_configurable():
    item = read_item({"uri": "id 17", "headline": "h"}, settings=InputSettings(uri_prefix="tag:example.com,2024:"))
    assert item.uri == "tag:example.com,2024:id%2017" and is_valid_31(item.ninjs)


@pytest.mark.parametrize("bad", [{"ninjs_version": "4.0"}, {"non_text": "drop"}, {"unknown_fields": "keep"}])
def test_ninjs_input_settings_reject_unknown_values(bad):
    with pytest.raises(ValueError):
        InputSettings(**bad)


@pytest.mark.parametrize("bare", ["[", "a%zz", "x y", "é/ü?q=1", "#frag"])
def test_ninjs_any_bare_legacy_uri_becomes_a_valid_31_uri(bare):
    item = read_item({"uri": bare, "headline": "h"})
    assert item.uri.startswith("urn:newsclean:") and is_valid_31(item.ninjs)


def test_ninjs_vendor_fields_are_listed_as_unmapped_or_rejected():
    vendor = {**ARTICLE, "priority": 6, "service": [{"code": "n"}], "extra": {"k": "v"}}
    item = read_item(vendor)
    assert item.unmapped == ("priority", "service", "extra") and "priority" not in item.ninjs
    with pytest.raises(InvalidInput) as caught:
        read_item(vendor, settings=InputSettings(unknown_fields="reject"))
    assert caught.value.reason == "schema"


def test_ninjs_a_superdesk_item_with_vendor_fields_and_guids_is_read():
    item = read_item({
        "guid": "urn:newsml:localhost:5000:2017-08-24T04:38:34.123:abc", "type": "text", "version": "2",
        "versioncreated": "2017-08-24T04:38:34+0000", "firstpublished": "2017-08-24T04:38:34+0000", "priority": 6,
        "headline": "H", "body_html": "<p>Para one.</p><p>Para two.</p>", "byline": "B", "pubstatus": "usable",
        "service": [{"code": "n", "name": "News"}], "subject": [{"code": "01000000", "name": "arts", "scheme": "http://cv.iptc.org/newscodes/subjectcode/"}],
        "associations": {"featuremedia": {"guid": "urn:newsml:pic:1", "type": "picture", "priority": 6,
                                          "renditions": {"original": {"href": "https://example.com/o.jpg", "mimetype": "image/jpeg"}}}},
    })
    assert item.uri == "urn:newsml:localhost:5000:2017-08-24T04:38:34.123:abc" and item.passed_as is None
    assert item.ninjs["versionCreated"] == "2017-08-24T04:38:34+00:00"
    assert item.ninjs["associations"][0]["uri"] == "urn:newsml:pic:1"
    assert item.ninjs["subjects"] == [{"name": "arts", "uri": "http://cv.iptc.org/newscodes/subjectcode/01000000"}]
    assert set(item.unmapped) == {"firstpublished", "priority", "service", "associations/featuremedia/priority"}
    assert is_valid_31(item.ninjs)


def test_ninjs_nested_vendor_fields_are_listed_as_unmapped():
    item = read_item({
        "uri": "urn:x:ap", "headline": "H", "type": "picture", "versioncreated": "2020-01-01T00:00:00Z",
        "subject": [{"name": "Sport", "code": "1", "scheme": "http://cv.example/", "rels": ["direct"], "parentids": None}],
        "renditions": {"main": {"href": "https://example.com/m.jpg", "mimetype": "image/jpeg", "originalfilename": "m.jpg"}},
        "altids": {"itemid": "abc", "vendor_key": "kept: altids are free-form"},
    })
    assert set(item.unmapped) == {"subject/0/rels", "subject/0/parentids", "renditions/main/originalfilename"}
    assert item.ninjs["renditions"] == [{"name": "main", "href": "https://example.com/m.jpg", "contentType": "image/jpeg"}]
    assert {"role": "vendor_key", "value": "kept: altids are free-form"} in item.ninjs["altIds"]
    assert is_valid_31(item.ninjs)
