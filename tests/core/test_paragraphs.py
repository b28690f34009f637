import pytest

from streams.core.paragraphs import split_body, split_html, split_plain


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
    ("markup", "expected"),
    [
        ("<p>A &amp; B</p>\n<p>C&#8217;s &lt;tag&gt;</p>", ["A & B", "C\u2019s <tag>"]),
        ("<p>one <b>bold</b> <a href='x'>link</a></p>", ["one bold link"]),
        ("<div><p>nested</p>tail</div>", ["nested", "tail"]),
        ("<p>a<br>b</p><ul><li>x</li><li>y</li></ul>", ["a", "b", "x", "y"]),
        ("<p>keep</p><script>alert('x')</script><style>p{}</style><!-- note --><p>me</p>", ["keep", "me"]),
        ("<p>  spread\n  over\n lines </p><p></p>", ["spread over lines"]),
        ("bare text without tags", ["bare text without tags"]),
        ("<p>unclosed <b>tags", ["unclosed tags"]),
    ],
)
def test_paragraphs_split_html(markup, expected):
    assert split_html(markup) == expected


def test_paragraphs_split_body_dispatches_on_content_type():
    assert split_body("<p>a</p><p>b</p>", "text/html") == ["a", "b"]
    assert split_body("<p>a</p>", "text/plain") == ["<p>a</p>"]
    assert split_body("a\n\nb", None) == ["a", "b"]
