import re
from datetime import UTC, datetime

import pytest

from llm_engineering.domain.documents import (
    ArticleDocument,
    PostDocument,
    RepositoryDocument,
    UserDocument,
    parse_document,
)
from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ids import document_id
from llm_engineering.domain.types import DataCategory

AUTHOR = UserDocument.from_full_name("Maya Okafor", now=datetime(2025, 1, 1, tzinfo=UTC))


def test_user_from_full_name_splits_names() -> None:
    user = UserDocument.from_full_name("Ana de la Cruz")
    assert (user.first_name, user.last_name, user.full_name) == ("Ana", "de la Cruz", "Ana de la Cruz")
    with pytest.raises(InvalidDocumentError):
        UserDocument.from_full_name("   ")


def test_create_derives_id_hash_and_timestamps() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    article = ArticleDocument.create(
        author=AUTHOR,
        platform="medium",
        link="https://medium.com/@m/a",
        content={"title": "T", "content": "Body"},
        now=now,
    )
    assert article.id == document_id("medium", "https://medium.com/@m/a", AUTHOR.id)
    assert article.author_full_name == "Maya Okafor"
    assert article.created_at == article.updated_at == datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    again = ArticleDocument.create(
        author=AUTHOR, platform="medium", link="https://medium.com/@m/a", content={"content": "Body", "title": "T"}
    )
    assert again.content_hash == article.content_hash


def test_post_image_changes_the_hash() -> None:
    def post(image: str | None) -> PostDocument:
        return PostDocument.create(
            author=AUTHOR, platform="linkedin", link="https://linkedin.com/p/1", content={"text": "hi"}, image=image
        )

    assert post(None).content_hash != post("https://i/x.jpg").content_hash


@pytest.mark.parametrize("link", ["medium.com/@m/a", "ftp://host/file", "not a url", "https://"])
def test_malformed_link_is_rejected_with_the_link_named(link: str) -> None:
    with pytest.raises(InvalidDocumentError, match="link"):
        ArticleDocument.create(author=AUTHOR, platform="medium", link=link, content={"content": "x"})


def test_empty_content_is_rejected() -> None:
    with pytest.raises(InvalidDocumentError, match="content"):
        ArticleDocument.create(author=AUTHOR, platform="medium", link="https://m.com/a", content={})


def test_repository_files_must_be_text() -> None:
    with pytest.raises(InvalidDocumentError, match=r"README\.md"):
        RepositoryDocument.create(
            author=AUTHOR, platform="github", link="https://github.com/m/r", content={"README.md": 3}, name="r"
        )


def test_parse_document_round_trips_json_and_reports_bad_records() -> None:
    post = PostDocument.create(
        author=AUTHOR, platform="linkedin", link="https://linkedin.com/p/2", content={"text": "x"}
    )
    assert parse_document(DataCategory.POSTS, post.model_dump(mode="json")) == post
    broken = post.model_dump(mode="json") | {"unexpected": 1}
    with pytest.raises(InvalidDocumentError, match=re.escape("https://linkedin.com/p/2")):
        parse_document(DataCategory.POSTS, broken)


def test_category_collection_names_follow_the_book() -> None:
    assert [c.embedded_collection for c in DataCategory] == [
        "embedded_articles",
        "embedded_posts",
        "embedded_repositories",
    ]
    assert DataCategory.POSTS.cleaned_collection == "cleaned_posts"
