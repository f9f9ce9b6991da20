from bs4 import BeautifulSoup
from bs4.element import Tag

from llm_engineering.application.crawlers.html_markdown import code_language, inline_text, markdown_blocks


def _root(html: str) -> Tag:
    body = BeautifulSoup(html, "lxml").body
    assert body is not None
    return body


def test_blocks_become_markdown_in_document_order() -> None:
    html = (
        "<div><h3>Setup</h3><p>Run   it <b>twice</b>,<br>then check.</p>"
        "<ol><li>first</li><li>second<ul><li>nested</li></ul></li></ol>"
        "<blockquote><p>Quoted line.</p><p>Second line.</p></blockquote>"
        "<figure><img src='x.png'><figcaption>caption</figcaption></figure>"
        "<pre><code class='language-SQL'>select 1\n\n  from t</code></pre></div>"
    )
    assert list(markdown_blocks(_root(html))) == [
        "### Setup",
        "Run it twice,\nthen check.",
        "1. first\n2. second\n  - nested",
        "> Quoted line.\n>\n> Second line.",
        "```sql\nselect 1\n\n  from t\n```",
    ]


def test_skipped_elements_and_comments_are_left_out() -> None:
    root = _root("<h1 id='t'>Title</h1><p>Body<!-- tracking comment --> text.</p>")
    title = root.find("h1")
    assert isinstance(title, Tag)
    assert list(markdown_blocks(root, skip=frozenset({id(title)}))) == ["Body text."]


def test_inline_code_keeps_its_spaces_and_language_is_read_from_attributes() -> None:
    root = _root("<p>Call <code>f(a,  b)</code> now.</p><pre data-code-block-lang='Python'>x</pre>")
    paragraph, pre = root.find("p"), root.find("pre")
    assert isinstance(paragraph, Tag) and isinstance(pre, Tag)
    assert inline_text(paragraph) == "Call `f(a, b)` now."
    assert code_language(pre) == "python"
