import pytest

from streams.core.errors import InvalidInput
from streams.core.nitf import nitf_headline, split_nitf

DOCUMENT = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE nitf SYSTEM "nitf-3-5.dtd">
<nitf version="-//IPTC//DTD NITF 3.5//EN">
  <head><title>Head title, not body</title><docdata><doc-id id-string="x1"/></docdata></head>
  <body>
    <body.head>
      <hedline><hl1>Harbour  bridge
        <em>reopens</em></hl1><hl2>Second deck later</hl2></hedline>
      <byline>By A. Writer</byline>
      <abstract><p>Abstract, not body.</p></abstract>
    </body.head>
    <body.content>
      <p>The bridge reopened on <chron norm="20260302">Monday</chron>&nbsp;morning.</p>
      <hl2>Traffic</hl2>
      <p>Cars &amp; bikes<br/>crossed again.</p>
      <block>
        <p>A block paragraph.</p>
        <bq><block><p>A quoted line.</p></block><credit>Mayor</credit></bq>
      </block>
      <media media-type="image">
        <media-reference source="bridge.jpg" mime-type="image/jpeg"/>
        <media-object encoding="base64">R0lGODlhAQABAAAAACw=</media-object>
        <media-caption>The bridge at dawn.</media-caption>
        <media-producer>Photo: B. Lens</media-producer>
      </media>
      <table><tr><th>Lane</th><th>Open</th></tr><tr><td>North</td><td>yes</td></tr></table>
      <ul><li>First item</li><li>Second item</li></ul>
    </body.content>
    <body.end><tagline>Tagline, not body.</tagline></body.end>
  </body>
</nitf>"""

EXPECTED = [
    "The bridge reopened on Monday\u00a0morning.",
    "Traffic",
    "Cars & bikes",
    "crossed again.",
    "A block paragraph.",
    "A quoted line.",
    "Mayor",
    "The bridge at dawn.",
    "Photo: B. Lens",
    "Lane | Open",
    "North | yes",
    "First item",
    "Second item",
]


def test_nitf_paragraphs_come_from_body_content_only():
    assert split_nitf(DOCUMENT) == EXPECTED


def test_nitf_headline_is_the_first_hl1():
    assert nitf_headline(DOCUMENT) == "Harbour bridge reopens"


def test_nitf_namespaced_document_without_doctype():
    doc = ('<nitf xmlns="http://iptc.org/std/NITF/2006-10-18/"><body><body.head><hedline><hl1>Namespaced</hl1>'
           "</hedline></body.head><body.content><p>One.</p><p>Two&#8217;s.</p></body.content></body></nitf>")
    assert split_nitf(doc) == ["One.", "Two\u2019s."]
    assert nitf_headline(doc) == "Namespaced"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<body.content><p>Only content.</p></body.content>", ["Only content."]),
        ("<p>Root-less one.</p>\n<p>Root-less &eacute;two.</p>", ["Root-less one.", "Root-less étwo."]),
    ],
)
def test_nitf_fragments(fragment, expected):
    assert split_nitf(fragment) == expected


def test_nitf_without_hedline_or_body_content():
    doc = "<nitf><body><body.head><byline>B</byline></body.head></body></nitf>"
    assert nitf_headline(doc) is None
    assert split_nitf(doc) == []


@pytest.mark.parametrize(
    "body",
    [
        "<nitf><body><body.content><p>unclosed</body.content></body></nitf>",
        "<nitf><body>",
        "plain words, no markup & an ampersand",
        "<p>undefined &madeup; entity</p>",
        "<p>a lone surrogate \ud800 is not Unicode</p>",
    ],
)
def test_nitf_malformed_is_bad_body(body):
    with pytest.raises(InvalidInput) as raised:
        split_nitf(body)
    assert raised.value.reason == "bad_body"
    assert nitf_headline(body) is None


@pytest.mark.parametrize(
    "body",
    [
        # billion laughs: nested entity expansion
        '<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><nitf><body><body.content><p>&c;</p></body.content></body></nitf>',
        # XXE: an external entity that would read a local file
        '<!DOCTYPE nitf [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        "<nitf><body><body.content><p>&secret;</p></body.content></body></nitf>",
        # an external parameter entity (a remote DTD fetch)
        '<!DOCTYPE nitf [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]><nitf/>',
    ],
)
def test_nitf_entity_declarations_are_refused(body):
    with pytest.raises(InvalidInput) as raised:
        split_nitf(body)
    assert raised.value.reason == "bad_body"
    assert "declares entities" in raised.value.detail


def test_nitf_deep_nesting_does_not_exhaust_the_stack():
    depth = 5_000
    doc = "<body.content>" + "<block>" * depth + "<p>deep</p>" + "</block>" * depth + "</body.content>"
    assert split_nitf(doc) == ["deep"]
