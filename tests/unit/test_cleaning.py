from llm_engineering.application.preprocessing.cleaning import clean_code, clean_document, clean_prose
from llm_engineering.domain.documents import ArticleDocument, PostDocument, RepositoryDocument, UserDocument

AUTHOR = UserDocument.from_full_name("Maya Okafor")

ARTICLE_BODY = """## Why it matters\u00a0now

We cut latency by 38%, didn't we?   Yes!  Here's how:

- first, measure;
- second, *think*.
    - nested point


Follow

Share this post

```python
def f(x):
    return {"a": x}  # keep   these   spaces
```

Thanks for reading Maya's Substack! Subscribe for free to receive new posts.
2.1K claps
"""


def test_prose_keeps_punctuation_paragraphs_lists_and_code() -> None:
    text = clean_prose(ARTICLE_BODY)
    assert "## Why it matters now" in text
    assert "We cut latency by 38%, didn't we? Yes! Here's how:" in text
    assert "- first, measure;\n- second, *think*." in text
    assert "\n  - nested point" in text
    assert '    return {"a": x}  # keep   these   spaces' in text
    assert "```python\ndef f(x):" in text
    assert "\n\n\n" not in text


def test_prose_drops_platform_boilerplate() -> None:
    text = clean_prose(ARTICLE_BODY)
    for noise in ("Follow", "Share this post", "Thanks for reading", "claps"):
        assert noise not in text


def test_emoji_and_invisible_characters_go_but_words_stay() -> None:
    assert clean_prose("Ship it \U0001f680\U0001f525 today\u200b.\ufe0f") == "Ship it today."
    assert clean_prose("Caf\u0065\u0301 cr\u00e8me") == "Caf\u00e9 cr\u00e8me"


def test_code_keeps_indentation_and_blank_lines() -> None:
    source = "class A:\r\n    def f(self):   \r\n\r\n        return 1\r\n"
    assert clean_code(source) == "class A:\n    def f(self):\n\n        return 1"


def test_article_puts_title_and_subtitle_first() -> None:
    article = ArticleDocument.create(
        author=AUTHOR,
        platform="medium",
        link="https://medium.com/@m/a",
        content={"title": "Feature stores \U0001f9e0", "subtitle": "A subtitle.", "content": "Body text."},
    )
    cleaned = clean_document(article)
    assert cleaned.content == "# Feature stores\n\nA subtitle.\n\nBody text."
    assert cleaned.metadata == {"title": "Feature stores", "subtitle": "A subtitle."}
    assert cleaned.id == article.id and cleaned.source_hash == article.content_hash


def test_post_keeps_its_image_link() -> None:
    post = PostDocument.create(
        author=AUTHOR,
        platform="linkedin",
        link="https://linkedin.com/p/1",
        content={"text": "Hot take.\n\n\n\nChange my mind."},
        image="https://media.licdn.com/x.jpg",
    )
    cleaned = clean_document(post)
    assert cleaned.content == "Hot take.\n\nChange my mind."
    assert cleaned.metadata["image"] == "https://media.licdn.com/x.jpg"


def test_repository_files_stay_exact_and_empty_files_go() -> None:
    repo = RepositoryDocument.create(
        author=AUTHOR,
        platform="github",
        link="https://github.com/m/r",
        name="r",
        content={"b.py": "def g():\n\treturn 2\n", "a/__init__.py": "\n\n", "README.md": "# R\n"},
    )
    cleaned = clean_document(repo)
    assert cleaned.metadata["files"] == {"README.md": "# R", "b.py": "def g():\n\treturn 2"}
    assert cleaned.content == "File: README.md\n# R\n\nFile: b.py\ndef g():\n\treturn 2"
