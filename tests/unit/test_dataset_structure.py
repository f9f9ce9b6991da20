"""The `structure` strategy on hand-made cleaned documents, with the hashing embedder fake."""

from uuid import uuid4

import pytest

from llm_engineering.application.dataset.structure import definitions, sections, structure_rows
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.types import DataCategory
from tests.fakes import HashingEmbedder

ARTICLE = """# Cutting the GPU bill

Where the money went, and what we changed.

## Step one: attribution

You cannot reduce a cost you cannot attribute.

```python
# not a heading: a comment inside code
cost = hours * rate
```

## Step two

### Idle notebooks

Nineteen percent of the spend went to notebooks nobody was using.
"""

CODE = '''"""Tiny store."""

import time


@dataclass
class Record:
    """One stored version of an entity's features.

    More detail here.
    """

    key: str

    def age(self, now: float) -> float:
        """Seconds since the record was written."""
        return now - self.at


def mask(line: str) -> str:
    return line.strip()
'''


def document(category: DataCategory, content: str, **metadata: object) -> CleanedDocument:
    return CleanedDocument(
        id=uuid4(),
        category=category,
        author_id=uuid4(),
        author_full_name="Maya Okafor",
        platform="linkedin" if category is DataCategory.POSTS else "medium",
        link="https://example.com/x",
        content=content,
        source_hash="h",
        metadata=metadata,
    )


def test_sections_follow_headings_but_not_comments_in_code() -> None:
    found = sections(ARTICLE)
    assert [s.heading for s in found] == ["Cutting the GPU bill", "Step one: attribution", "Idle notebooks"]
    assert "# not a heading" in found[1].text and found[1].text.endswith("```")


def test_article_rows_name_title_and_heading_and_answer_with_the_section() -> None:
    article = document(DataCategory.ARTICLES, ARTICLE, title="Cutting the GPU bill")
    rows = structure_rows([article], embedder=None)
    assert [r.instruction for r in rows] == [
        'Write the section "Step one: attribution" of your article "Cutting the GPU bill".',
        'Write the section "Idle notebooks" of your article "Cutting the GPU bill".',
    ]
    assert rows[1].output == "Nineteen percent of the spend went to notebooks nobody was using."
    assert all(r.document_id == article.id and r.category is DataCategory.ARTICLES for r in rows)
    assert {r.strategy for r in rows} == {"structure"}


def test_definitions_are_functions_classes_and_methods_with_their_code() -> None:
    found = {d.name: d for d in definitions("store/pit.py", CODE)}
    assert list(found) == ["Record", "Record.age", "mask"]
    assert found["Record"].code.startswith("@dataclass\nclass Record:")
    assert found["Record"].docstring == "One stored version of an entity's features."
    assert found["Record.age"].code.startswith("def age(self, now: float) -> float:")  # dedented
    assert (found["Record.age"].kind, found["mask"].docstring) == ("method", "")
    assert definitions("broken.py", "def (:") == []


def test_repository_rows_ask_for_a_definition_by_name_with_docstring_and_repository() -> None:
    repository = document(
        DataCategory.REPOSITORIES,
        "File: store/pit.py\n" + CODE,
        name="tiny-store",
        files={"README.md": "# Tiny store\n\nA store that keeps history.", "store/pit.py": CODE},
    )
    readme, *rows = structure_rows([repository], embedder=None)
    assert readme.instruction == 'Write the section "Tiny store" of README.md in your repository tiny-store.'
    assert readme.output == "A store that keeps history."
    assert rows[1].instruction == (
        "Write the Python method `Record.age` in store/pit.py of your repository tiny-store, "
        'whose docstring begins "Seconds since the record was written.".'
    )
    assert rows[2].instruction == "Write the Python function `mask` in store/pit.py of your repository tiny-store."
    assert rows[2].output == "def mask(line: str) -> str:\n    return line.strip()"


def test_post_rows_ask_for_a_post_on_the_keyphrase_topic() -> None:
    embedder = HashingEmbedder()
    posts = [
        document(DataCategory.POSTS, "Spark jobs for small data are a waste. Spark jobs need big clusters."),
        document(DataCategory.POSTS, "Data contracts break when an upstream team renames a column."),
    ]
    rows = structure_rows(posts, embedder=embedder)
    assert [r.output for r in rows] == [p.content for p in posts]
    assert rows[0].instruction.startswith("Write a LinkedIn post about ") and "spark" in rows[0].instruction
    assert embedder.calls == 2  # every post and every candidate phrase in two batched calls


def test_posts_without_an_embedder_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pass an embedder"):
        structure_rows([document(DataCategory.POSTS, "Spark is overkill.")], embedder=None)
