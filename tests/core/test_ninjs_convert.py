"""The conversion to ninjs 3.1, property by property and version by version, on hand-built items.
Every converted item must validate against 3.1 with format checks."""

import pytest

from streams.core.ninjs import VERSIONS, read_item
from streams.core.settings import InputSettings
from streams.core.ninjs.convert import STANDARD_31
from streams.core.ninjs.versions import is_valid_31

GEO_POINT = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [14.5, 46.05]}}


def convert(version: str, fields: dict):
    item = read_item({"uri": "urn:test:item", **fields}, settings=InputSettings(ninjs_version=version))
    assert item.input_version == version
    assert is_valid_31(item.ninjs), item.ninjs
    return item


V1 = ["1.0", "1.3", "1.6"]  # one of each 1.x schema generation that has the property


@pytest.mark.parametrize(
    ("version", "given", "expected"),
    [
        ("1.0", {"headline": "H"}, {"headlines": [{"role": "main", "value": "H"}]}),
        ("1.0", {"byline": "A Reporter"}, {"by": "A Reporter"}),
        ("1.0", {"embargoed": "2024-05-01T10:00:00Z"}, {"embargoedUntil": "2024-05-01T10:00:00Z"}),
        ("1.0", {"versioncreated": "2024-05-01T10:00:00+0100"}, {"versionCreated": "2024-05-01T10:00:00+01:00"}),
        ("1.2", {"firstcreated": "2024-05-01T10:00:00Z"}, {"firstCreated": "2024-05-01T10:00:00Z"}),
        ("1.4", {"contentcreated": "2024-05-01T10:00:00Z"}, {"contentCreated": "2024-05-01T10:00:00Z"}),
        ("1.4", {"expires": "2024-05-01T10:00:00Z"}, {"expires": "2024-05-01T10:00:00Z"}),
        ("1.0", {"pubstatus": "withheld"}, {"pubStatus": "withheld"}),
        ("1.0", {"copyrightholder": "Agency", "copyrightnotice": "(c) Agency"},
         {"copyrightHolder": "Agency", "copyrightNotice": "(c) Agency"}),
        ("1.1", {"usageterms": "No archive"}, {"usageTerms": "No archive"}),
        ("1.2", {"ednote": "Corrects date"}, {"edNote": "Corrects date"}),
        ("1.1", {"urgency": 3}, {"urgency": 3}),
        ("1.0", {"representationtype": "complete"}, {"representationType": "full"}),
        ("1.0", {"representationtype": "incomplete"}, {"representationType": "partial"}),
        ("1.0", {"type": "picture", "language": "sv", "profile": "p", "version": "4", "located": "Oslo"},
         {"type": "picture", "language": "sv", "profile": "p", "version": "4", "located": "Oslo"}),
        ("1.2", {"title": "T", "slugline": "S"}, {"title": "T", "slugline": "S"}),
        ("1.0", {"body_text": "Plain"}, {"bodies": [{"role": "main", "contentType": "text/plain", "value": "Plain"}]}),
        ("1.0", {"body_html": "<p>x</p>"}, {"bodies": [{"role": "main", "contentType": "text/html", "value": "<p>x</p>"}]}),
        ("1.0", {"body_xhtml": "<p/>"}, {"bodies": [{"role": "main", "contentType": "application/xhtml+xml", "value": "<p/>"}]}),
        ("1.0", {"body_nitf": "<nitf/>"}, {"bodies": [{"role": "main", "contentType": "text/vnd.IPTC.NITF", "value": "<nitf/>"}]}),
        ("1.0", {"body_sidebar_html": "<p>s</p>"},
         {"bodies": [{"role": "sidebar", "contentType": "text/html", "value": "<p>s</p>"}]}),
        ("1.0", {"description_text": "D", "description_usage": "U"},
         {"descriptions": [{"contentType": "text/plain", "value": "D"}, {"role": "usage", "value": "U"}]}),
        ("1.3", {"headline": "H", "headline_short": "Sh"},
         {"headlines": [{"role": "main", "value": "H"}, {"role": "short", "value": "Sh"}]}),
        ("1.2", {"body_text": "Plain", "charcount": 5, "wordcount": 1},
         {"bodies": [{"role": "main", "contentType": "text/plain", "value": "Plain", "charCount": 5, "wordCount": 1}]}),
        ("1.0", {"person": [{"name": "Ada", "rel": "about", "scheme": "http://cv.example/people/", "code": "42"}]},
         {"people": [{"name": "Ada", "rel": "about", "uri": "http://cv.example/people/42"}]}),
        ("1.0", {"organisation": [{"name": "Acme", "scheme": "http://sws.geonames.org", "code": "1",
                                   "symbols": [{"ticker": "ACM", "exchange": "XNYS"}]}]},
         {"organisations": [{"name": "Acme", "uri": "http://sws.geonames.org/1", "symbols": [{"symbol": "ACM", "exchange": "XNYS"}]}]}),
        ("1.0", {"place": [{"name": "Oslo", "code": "OSL"}]}, {"places": [{"name": "Oslo", "literal": "OSL"}]}),
        ("1.0", {"subject": [{"name": "Sport", "scheme": "http://cv.iptc.org/newscodes/mediatopic/", "code": "15000000"}]},
         {"subjects": [{"name": "Sport", "uri": "http://cv.iptc.org/newscodes/mediatopic/15000000"}]}),
        ("1.5", {"subject": [{"name": "Sport", "confidence": 80, "relevance": 50, "creator": "machine"}]},
         {"subjects": [{"name": "Sport", "confidence": 80, "relevance": 50, "creator": "machine"}]}),
        ("1.0", {"event": [{"name": "Cup"}], "object": [{"name": "Ship"}]},
         {"events": [{"name": "Cup"}], "objects": [{"name": "Ship"}]}),
        ("1.2", {"infosource": [{"name": "Wire", "rel": "originator", "scheme": "http://cv.example/src/", "code": "w"}]},
         {"infoSources": [{"name": "Wire", "role": "originator", "uri": "http://cv.example/src/w"}]}),
        ("1.3", {"trustindicator": [{"title": "Policy", "href": "https://example.com/p",
                                     "scheme": "http://cv.iptc.org/newscodes/trustindicator/", "code": "editorialPolicy"}]},
         {"trustIndicators": [{"title": "Policy", "href": "https://example.com/p",
                               "role": "http://cv.iptc.org/newscodes/trustindicator/editorialPolicy"}]}),
        ("1.3", {"genre": [{"name": "Current", "scheme": "http://cv.iptc.org/newscodes/genre/", "code": "Current"}]},
         {"genres": [{"name": "Current", "uri": "http://cv.iptc.org/newscodes/genre/Current"}]}),
        ("1.3", {"altids": {"itemid": "abc", "etag": "e1"}},
         {"altIds": [{"role": "itemid", "value": "abc"}, {"role": "etag", "value": "e1"}]}),
        ("1.3", {"$standard": {"name": "ninjs", "version": "1.3"}}, {"standard": STANDARD_31}),
        ("1.4", {"rightsinfo": {"langid": "http://example.com/lang", "linkedrights": "http://example.com/r"}},
         {"rightsInfo": {"langId": "http://example.com/lang", "linkedRights": "http://example.com/r"}}),
        ("1.6", {"digitalsourcetype": {"uri": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}},
         {"digitalSourceType": {"uri": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}}),
        ("1.0", {"renditions": {"thumb": {"href": "http://example.com/t.jpg", "mimetype": "image/jpeg", "width": 100}}},
         {"renditions": [{"name": "thumb", "href": "http://example.com/t.jpg", "contentType": "image/jpeg", "width": 100}]}),
        ("1.2", {"renditions": {"big": {"href": "http://example.com/b.jpg", "sizeinbytes": 2048, "duration": 3}}},
         {"renditions": [{"name": "big", "href": "http://example.com/b.jpg", "sizeInBytes": 2048, "duration": 3}]}),
        ("1.0", {"associations": {"photo": {"uri": "urn:test:photo", "type": "picture", "versioncreated": "2024-01-01T00:00:00Z",
                                            "headline": "Cap"}}},
         {"associations": [{"name": "photo", "uri": "urn:test:photo", "type": "picture", "versionCreated": "2024-01-01T00:00:00Z",
                            "headlines": [{"role": "main", "value": "Cap"}]}]}),
        ("1.5", {"place": [{"name": "Oslo", "contactinfo": [{"type": "web", "value": "https://oslo.no"}]}]},
         {"places": [{"name": "Oslo", "contactInfo": [{"type": "web", "value": "https://oslo.no"}]}]}),
    ],
)
def test_ninjs_convert_1x_property(version, given, expected):
    item = convert(version, given)
    for name, value in expected.items():
        assert item.ninjs[name] == value
    assert item.unmapped == ()


@pytest.mark.parametrize(
    ("version", "given", "expected"),
    [
        ("2.0", {"bodies": [{"role": "main", "contenttype": "text/html", "value": "<p>x</p>", "charcount": 1, "wordcount": 1}]},
         {"bodies": [{"role": "main", "contentType": "text/html", "value": "<p>x</p>", "charCount": 1, "wordCount": 1}]}),
        ("2.0", {"headlines": [{"role": "main", "contenttype": "text/plain", "value": "H"}],
                 "descriptions": [{"role": "summary", "contenttype": "text/plain", "value": "D"}]},
         {"headlines": [{"role": "main", "contentType": "text/plain", "value": "H"}],
          "descriptions": [{"role": "summary", "contentType": "text/plain", "value": "D"}]}),
        ("2.0", {"versioncreated": "2024-01-01T00:00:00Z", "firstcreated": "2023-12-31T00:00:00Z", "embargoed": "2024-02-01T00:00:00Z",
                 "pubstatus": "usable", "copyrightholder": "A", "usageterms": "U", "ednote": "E"},
         {"versionCreated": "2024-01-01T00:00:00Z", "firstCreated": "2023-12-31T00:00:00Z",
          "embargoedUntil": "2024-02-01T00:00:00Z", "pubStatus": "usable", "copyrightHolder": "A", "usageTerms": "U", "edNote": "E"}),
        ("2.0", {"places": [{"name": "Ljubljana", "geojson": GEO_POINT}]}, {"places": [{"name": "Ljubljana", "geoJSON": GEO_POINT}]}),
        ("2.0", {"renditions": [{"name": "web", "href": "http://example.com/w.jpg", "contenttype": "image/jpeg", "sizeinbytes": 5}]},
         {"renditions": [{"name": "web", "href": "http://example.com/w.jpg", "contentType": "image/jpeg", "sizeInBytes": 5}]}),
        ("2.1", {"associations": [{"name": "pic", "uri": "urn:test:pic", "versioncreated": "2024-01-01T00:00:00Z",
                                   "bodies": [{"contenttype": "text/plain", "value": "caption"}]}]},
         {"associations": [{"name": "pic", "uri": "urn:test:pic", "versionCreated": "2024-01-01T00:00:00Z",
                            "bodies": [{"contentType": "text/plain", "value": "caption"}]}]}),
        ("2.0", {"altids": [{"role": "itemid", "value": "1"}], "infosources": [{"name": "W", "role": "originator"}],
                 "trustindicators": [{"title": "T", "role": "http://cv.example/t"}], "genres": [{"name": "G"}]},
         {"altIds": [{"role": "itemid", "value": "1"}], "infoSources": [{"name": "W", "role": "originator"}],
          "trustIndicators": [{"title": "T", "role": "http://cv.example/t"}], "genres": [{"name": "G"}]}),
        ("2.0", {"rightsinfo": {"encodedrights": "ODRL"}}, {"rightsInfo": {"encodedRights": "ODRL"}}),
        ("2.1", {"expires": "2030-01-01T00:00:00Z", "representationtype": "partial"},
         {"expires": "2030-01-01T00:00:00Z", "representationType": "partial"}),
        ("2.2", {"digitalsourcetype": {"name": "capture"}, "standard": {"name": "ninjs", "version": "2.2"}},
         {"digitalSourceType": {"name": "capture"}, "standard": STANDARD_31}),
        ("2.1", {"organisations": [{"name": "Acme", "symbols": [{"ticker": "ACM", "symboltype": "http://cv.example/ticker"}]}]},
         {"organisations": [{"name": "Acme", "symbols": [{"symbol": "ACM", "symbolType": "http://cv.example/ticker"}]}]}),
    ],
)
def test_ninjs_convert_2x_property(version, given, expected):
    item = convert(version, given)
    for name, value in expected.items():
        assert item.ninjs[name] == value
    assert item.unmapped == ()


def test_ninjs_convert_30_is_carried_as_is_with_the_31_declaration():
    given = {"standard": {"name": "ninjs", "version": "3.0"}, "headlines": [{"value": "H"}],
             "eventDetails": {"dates": {"startDate": "2024-01-01T09:00:00Z"}}, "type": "event"}
    item = convert("3.0", given)
    assert item.ninjs == {"uri": "urn:test:item", **given, "standard": STANDARD_31}


def test_ninjs_convert_31_is_carried_as_is():
    given = {"headlines": [{"value": "H"}], "digitalSourceType": {"name": "capture"}}
    assert convert("3.1", given).ninjs == {"uri": "urn:test:item", **given}


@pytest.mark.parametrize(
    ("version", "given", "unmapped", "absent"),
    [
        ("1.0", {"mimetype": "text/plain"}, ["mimetype"], "mimetype"),
        ("1.0", {"versioncreated": "Last Tuesday"}, ["versioncreated"], "versionCreated"),
        ("1.0", {"embargoed": "2019-10-01"}, ["embargoed"], "embargoedUntil"),
        ("1.1", {"urgency": 2.5}, ["urgency"], "urgency"),
        ("1.3", {"altids": {"ok": "1", "nested": {"a": 1}}}, ["altids/nested"], None),
        ("2.0", {"associations": [{"uri": "urn:test:noname"}]}, ["associations/0"], None),
        ("1.0", {"person": [{"name": "A", "scheme": "http://cv.example/p/"}]}, ["person/0/scheme"], None),
        ("1.2", {"charcount": 10}, ["charcount"], None),
    ],
)
def test_ninjs_convert_lists_what_has_no_31_form(version, given, unmapped, absent):
    item = convert(version, given)
    assert list(item.unmapped) == unmapped
    if absent:
        assert absent not in item.ninjs


def test_ninjs_convert_a_bare_legacy_uri_gets_the_prefix_also_in_associations():
    item = convert("1.0", {"uri": "item-1", "associations": {"pic": {"uri": "pic-1"}}})
    assert item.uri == "urn:newsclean:item-1"
    assert item.ninjs["associations"] == [{"name": "pic", "uri": "urn:newsclean:pic-1"}]


def test_ninjs_convert_a_text_item_keeps_its_associations():
    from streams.core.ninjs import to_article

    item = convert("1.0", {"headline": "H", "body_text": "Para.", "associations": {"featureimage": {
        "uri": "urn:test:pic", "type": "picture", "renditions": {"orig": {"href": "http://example.com/o.jpg"}}}}})
    article = to_article(item)
    assert item.passed_as is None
    assert article.ninjs["associations"][0]["renditions"] == [{"name": "orig", "href": "http://example.com/o.jpg"}]


def _schema_paths(node, root, prefix=(), depth=0):
    """Every property path of a ninjs schema (local references followed, array levels left out)."""
    if depth > 8 or not isinstance(node, dict):
        return
    if str(node.get("$ref", "")).startswith("#/"):
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        yield from _schema_paths({**target, **{k: v for k, v in node.items() if k != "$ref"}}, root, prefix, depth + 1)
        return
    for name, sub in (node.get("properties") or {}).items():
        if name == "associations":  # entries are ninjs objects: the top level again
            continue
        yield prefix + (name,)
        yield from _schema_paths(sub, root, prefix + (name,), depth + 1)
    if isinstance(node.get("items"), dict):
        yield from _schema_paths(node["items"], root, prefix, depth + 1)


# What the name rules leave to the structural ones, and the one 1.x property 3.x dropped.
STRUCTURAL = {"headline", "charcount", "wordcount", "scheme", "code", "mimetype", "geometry_geojson"}


@pytest.mark.parametrize("version", [v for v in VERSIONS if v not in ("3.0", "3.1")])
def test_ninjs_convert_every_legacy_schema_property_has_a_31_target(version):
    from streams import schemas
    from streams.core.ninjs.convert import target_of

    schema = schemas.load(schemas.ninjs_name(version))
    top = schema.get("$defs", {}).get("ninjsType", schema)
    missing = [p for p in _schema_paths(top, schema) if target_of(p) is None and p[-1] not in STRUCTURAL]
    assert missing == []
