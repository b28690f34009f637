import pytest

from streams.core.errors import InvalidInput
from streams.core.paragraphs import body_format, is_article_text, select_body, split_body, split_plain

NITF = "<nitf><body><body.content><p>From NITF.</p></body.content></body></nitf>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One.\n\nTwo.", ["One.", "Two."]),
        ("One.\nTwo.\n\n\n\nThree.", ["One.", "Two.", "Three."]),
        ("  padded  \r\n\r\n\tnext\t", ["padded", "next"]),
        ("inner  double  spaces kept", ["inner  double  spaces kept"]),
        ("\n\n \n", []),
    ],
)
def test_paragraphs_split_plain(text, expected):
    assert split_plain(text) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, "plain"),
        ("", "plain"),
        ("text/plain", "plain"),
        ("Text/Plain; charset=UTF-8", "plain"),
        ("text/html", "html"),
        ("TEXT/HTML; charset=utf-8", "html"),
        ("application/xhtml+xml", "html"),
        ("text/vnd.IPTC.NITF", "nitf"),
        ("application/nitf+xml", "nitf"),
        ("text/vnd.iptc.nitf+xml; charset=iso-8859-1", "nitf"),
        ("application/xml", "xml"),
        ("text/xml", "xml"),
        ("application/vnd.example+xml", "xml"),
        ("application/pdf", None),
        ("image/jpeg", None),
        ("text/rtf", None),
        ("application/octet-stream", None),
        ("x/y", None),
    ],
)
def test_paragraphs_body_format_by_media_type(content_type, expected):
    assert body_format(content_type) == expected


def test_paragraphs_split_body_dispatches_on_content_type():
    assert split_body("<p>a</p><p>b</p>", "text/html; charset=utf-8") == ["a", "b"]
    assert split_body("<p>a</p>", "text/plain") == ["<p>a</p>"]
    assert split_body("a\n\nb", None) == ["a", "b"]
    assert split_body(NITF, "text/vnd.IPTC.NITF") == ["From NITF."]
    assert split_body('<?xml version="1.0"?>\n' + NITF, "application/xml") == ["From NITF."]


@pytest.mark.parametrize(
    ("value", "content_type"),
    [
        ("%PDF-1.7 binary", "application/pdf"),
        ("iVBORw0KGgo=", "image/png"),
        ("{\\rtf1 text}", "text/rtf"),
        ("<newsItem><p>not NITF</p></newsItem>", "application/xml"),
        ("anything", "application/x-unknown"),
    ],
)
def test_paragraphs_unreadable_body_is_unsupported(value, content_type):
    with pytest.raises(InvalidInput) as raised:
        split_body(value, content_type)
    assert raised.value.reason == "unsupported_body"
    assert content_type in raised.value.detail


def test_paragraphs_malformed_nitf_is_bad_body():
    with pytest.raises(InvalidInput) as raised:
        split_body("<nitf><body>", "application/nitf+xml")
    assert raised.value.reason == "bad_body"


def _body(value="text", role=None, content_type=None):
    body = {"value": value}
    if role is not None:
        body["role"] = role
    if content_type is not None:
        body["contentType"] = content_type
    return body


def test_paragraphs_select_body_prefers_role_main_over_a_richer_other_role():
    main = _body("plain main", "main", "text/plain")
    bodies = [_body("<p>html</p>", "text", "text/html"), main]
    assert select_body(bodies) is main


def test_paragraphs_select_body_richest_main_form():
    plain = _body("plain", "main", "text/plain")
    nitf = _body(NITF, "main", "text/vnd.IPTC.NITF")
    html = _body("<p>html</p>", "main", "application/xhtml+xml")
    assert select_body([plain, nitf, html]) is html
    assert select_body([plain, nitf]) is nitf
    assert select_body([plain, _body("<x/>", "main", "application/xml")]) is plain


@pytest.mark.parametrize("role", ["text", "html5", "nitf", "body", None, "Main", "MAIN"])
def test_paragraphs_select_body_without_main_takes_the_richest_article_body(role):
    plain = _body("plain", role, "text/plain")
    html = _body("<p>html</p>", role, "TEXT/HTML; charset=utf-8")
    assert select_body([plain, html]) is html


def test_paragraphs_select_body_role_main_is_case_insensitive():
    main = _body("main text", "Main")
    assert select_body([_body("<p>x</p>", "html5", "text/html"), main]) is main


def test_paragraphs_select_body_first_among_equals():
    first, second = _body("one", "text"), _body("two", "text")
    assert select_body([first, second]) is first


@pytest.mark.parametrize("role", ["summary", "Abstract", "teaser", "editors-note", "EditorsNote", "caption"])
def test_paragraphs_select_body_skips_summary_like_roles(role):
    article = _body("article", "text", "text/plain")
    assert select_body([_body("<p>short</p>", role, "text/html"), article]) is article
    assert select_body([_body("only a summary", role)]) is None


def test_paragraphs_select_body_skips_empty_values():
    filled = _body("filled", "text")
    assert select_body([_body("  \n", "main", "text/html"), filled]) is filled
    assert select_body([]) is None
    assert select_body([_body("")]) is None


def test_paragraphs_select_body_readable_beats_unreadable_main():
    plain = _body("readable", "text", "text/plain")
    pdf = _body("%PDF", "main", "application/pdf")
    assert select_body([pdf, plain]) is plain


def test_paragraphs_select_body_unreadable_only_is_returned_for_unsupported_body():
    pdf = _body("%PDF", "main", "application/pdf")
    assert select_body([pdf]) is pdf
    with pytest.raises(InvalidInput) as raised:
        split_body(pdf["value"], pdf["contentType"])
    assert raised.value.reason == "unsupported_body"


def test_paragraphs_is_article_text():
    assert is_article_text(_body("x", "main", "text/html"))
    assert is_article_text(_body("x"))
    assert not is_article_text(_body("x", "summary"))
    assert not is_article_text(_body("x", "main", "application/pdf"))
