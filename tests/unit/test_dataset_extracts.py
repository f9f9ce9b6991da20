from uuid import uuid4

from llm_engineering.application.dataset.extracts import ExtractConfig, extracts_from
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.types import DataCategory

CONFIG = ExtractConfig(categories=list(DataCategory), min_words=12, max_words=60)


def cleaned(category: DataCategory, content: str, **metadata: object) -> CleanedDocument:
    return CleanedDocument(
        id=uuid4(),
        category=category,
        author_id=uuid4(),
        author_full_name="Maya Okafor",
        platform="medium",
        link="https://medium.com/@m/a",
        content=content,
        source_hash="h",
        metadata=metadata,
    )


PARAGRAPH = "We measured the latency of every request for a week and found the tail was all cold caches."


def test_articles_group_paragraphs_and_skip_the_title() -> None:
    text = f"# Title\n\nA subtitle.\n\n## Heading\n\n{PARAGRAPH}\n\n{PARAGRAPH}\n\n{PARAGRAPH}"
    extracts = extracts_from([cleaned(DataCategory.ARTICLES, text)], CONFIG)
    assert extracts and all("# Title" not in e.text for e in extracts)
    assert all(12 <= len(e.text.split()) <= 60 for e in extracts)
    assert extracts[0].text.startswith("A subtitle.")


def test_code_blocks_are_never_cut() -> None:
    code = "```python\ndef f():\n\n    return 1\n```"
    text = f"{PARAGRAPH}\n\n{code}\n\n{PARAGRAPH}"
    extracts = extracts_from([cleaned(DataCategory.ARTICLES, text)], CONFIG)
    joined = "\n\n".join(e.text for e in extracts)
    assert code in joined


def test_short_texts_give_no_extract_and_posts_stay_whole() -> None:
    assert extracts_from([cleaned(DataCategory.POSTS, "Too short.")], CONFIG) == []
    [post] = extracts_from([cleaned(DataCategory.POSTS, PARAGRAPH)], CONFIG)
    assert post.text == PARAGRAPH and post.category is DataCategory.POSTS


def test_repositories_extract_per_file() -> None:
    files = {"a.py": "def a():\n    " + " ".join(["x = 1;"] * 14), "b.md": PARAGRAPH}
    extracts = extracts_from([cleaned(DataCategory.REPOSITORIES, "", files=files)], CONFIG)
    assert [e.text for e in extracts] == [files["a.py"], files["b.md"]]
