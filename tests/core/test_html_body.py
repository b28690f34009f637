import pytest

from streams.core.html_body import split_html


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        # paragraphs and headings, inline markup flows into its block
        ("<h1>Title</h1><h3>Sub <em>head</em></h3><p>one <b>bold</b> <a href='x'>link</a></p>", ["Title", "Sub head", "one bold link"]),
        # list items, nested lists: each item once, the outer item's own text before the inner list
        ("<ul><li>one<ol><li>nested</li></ol>after</li><li>two</li></ul>", ["one", "nested", "after", "two"]),
        ("<dl><dt>Term</dt><dd>Definition</dd></dl>", ["Term", "Definition"]),
        # text directly in a div is a paragraph; nested blocks never duplicate their text
        ("<div>lead<div><section><p>deep</p></section>mid</div>tail</div>", ["lead", "deep", "mid", "tail"]),
        ("<article><header>Kicker</header><div><div><div>only once</div></div></div></article>", ["Kicker", "only once"]),
        # <br>: a line break ends a paragraph, a run of them makes no empty paragraph
        ("first<br>second<br><br>third<br/><br /><br>fourth", ["first", "second", "third", "fourth"]),
        ("<p>Reporting by A<br>Editing by B</p>", ["Reporting by A", "Editing by B"]),
        # blockquote and figure caption; the image's alt text is not article text
        ("<blockquote><p>Quoted.</p></blockquote><figure><img src='a.jpg' alt='alt words'><figcaption>Caption, AP</figcaption></figure>",
         ["Quoted.", "Caption, AP"]),
        # entities unescaped, named and numeric
        ("<p>A &amp; B &lt;c&gt; caf&eacute; &#8217;q&#x2019; &quot;x&quot;</p>", ["A & B <c> café \u2019q\u2019 \"x\""]),
        # whitespace collapses as a browser renders it; a no-break space stays inside, trims at the edges
        ("<p>  spread\n\tover \r\n lines </p><p>10&nbsp;km</p><p>&nbsp;</p>", ["spread over lines", "10\u00a0km"]),
        ("<p>a<span> b </span> c</p>", ["a b c"]),
        # preformatted text keeps its spaces; each line is a paragraph
        ("<pre>\nTeam    Pts\nAlpha     9\n</pre>", ["Team    Pts", "Alpha     9"]),
        # unclosed and misnested tags end where a browser ends them
        ("<p>one<p>two<li>three", ["one", "two", "three"]),
        ("<p>a <b>b <i>c</b> d</i></p>", ["a b c d"]),
        ("bare text without tags", ["bare text without tags"]),
        ("", []),
        ("<p></p><div> </div>", []),
    ],
)
def test_html_body_paragraphs(markup, expected):
    assert split_html(markup) == expected


def test_html_body_drops_scripts_styles_comments_templates_and_embeds():
    markup = (
        "<p>keep</p><script>var x = '<p>no</p>';</script><style>p { color: red }</style><!-- a comment -->"
        "<template><p>template</p></template><iframe src='v'>frame text</iframe><object data='o'>object text</object>"
        "<embed src='e'><svg><text>svg text</text></svg><math><mi>x</mi></math><noscript>enable js</noscript>"
        "<video>no video support</video><audio>no audio</audio><button>Share</button><p>me</p>"
    )
    assert split_html(markup) == ["keep", "me"]


def test_html_body_table_rows_are_paragraphs_with_cells_joined():
    markup = (
        "<table><caption>Group A</caption>"
        "<thead><tr><th>Team</th><th>W</th><th>Pts</th></tr></thead>"
        "<tbody><tr><td>Alpha</td><td>3</td><td>9</td></tr>\n"
        "<tr><td><b>Beta</b> FC</td><td></td><td>1</td></tr>"
        "<tr><td> </td><td></td></tr></tbody></table><p>After the table.</p>"
    )
    assert split_html(markup) == ["Group A", "Team | W | Pts", "Alpha | 3 | 9", "Beta FC | | 1", "After the table."]


def test_html_body_every_row_of_a_long_table_survives():
    rows = "".join(f"<tr><td>Runner {n}</td><td>{n}:0{n % 10}</td></tr>" for n in range(40))
    assert split_html(f"<table>{rows}</table>") == [f"Runner {n} | {n}:0{n % 10}" for n in range(40)]


def test_html_body_layout_table_gives_its_paragraphs():
    markup = "<table><tr><td><p>First paragraph.</p><p>Second paragraph.</p></td><td>Side</td></tr></table>"
    assert split_html(markup) == ["First paragraph.", "Second paragraph.", "Side"]


def test_html_body_cell_with_blocks_inside_stays_one_row():
    markup = "<table><tr><td><p>Alpha</p></td><td><div>9</div></td></tr></table>"
    assert split_html(markup) == ["Alpha | 9"]


def test_html_body_xhtml_document_parses():
    markup = (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>Not body</title></head><body><p>One<br/>Two</p><p>Three &amp; four</p></body></html>"
    )
    assert split_html(markup) == ["One", "Two", "Three & four"]


def test_html_body_deep_nesting_does_not_exhaust_the_stack():
    assert split_html("<div>" * 20_000 + "deep" + "</div>" * 20_000) == ["deep"]


def test_html_body_without_any_block_is_plain_text_labelled_html():
    markup = "First paragraph &amp; more.\n\nSecond <b>bold</b> one.\nThird on its own line.\n\n\n"
    assert split_html(markup) == ["First paragraph & more.", "Second bold one.", "Third on its own line."]


def test_html_body_with_blocks_keeps_newlines_as_spaces():
    assert split_html("<p>one\ntwo</p>\n\nloose\ntext") == ["one two", "loose text"]
