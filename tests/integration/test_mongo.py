"""The MongoDB data warehouse against the real Mongo-wire server."""

from datetime import UTC, datetime

import pytest
from pymongo.errors import DuplicateKeyError

from llm_engineering.domain.documents import ArticleDocument, PostDocument, UserDocument
from llm_engineering.domain.exceptions import DataWarehouseUnavailableError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.settings import Settings
from tests.conftest import make_settings

MAYA = UserDocument.from_full_name("Maya Okafor")
THEO = UserDocument.from_full_name("Theo Brandt")


def article(author: UserDocument, n: int, body: str = "body") -> ArticleDocument:
    return ArticleDocument.create(
        author=author, platform="medium", link=f"https://medium.com/@a/{n}", content={"title": f"T{n}", "content": body}
    )


def test_upsert_is_idempotent_and_reports_outcomes(warehouse: MongoDataWarehouse) -> None:
    docs = [article(MAYA, n) for n in range(20)]
    first = warehouse.upsert_documents(docs)
    assert set(first.values()) == {WriteOutcome.CREATED}
    second = warehouse.upsert_documents(docs)
    assert set(second.values()) == {WriteOutcome.UNCHANGED}
    assert warehouse.count_documents(DataCategory.ARTICLES) == 20


def test_changed_content_updates_hash_and_keeps_created_at(warehouse: MongoDataWarehouse) -> None:
    original = article(MAYA, 1)
    warehouse.upsert_documents([original])
    edited = ArticleDocument.create(
        author=MAYA,
        platform="medium",
        link=original.link,
        content={"title": "T1", "content": "new body"},
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    assert warehouse.upsert_documents([edited]) == {original.id: WriteOutcome.UPDATED}
    [stored] = warehouse.find_documents(DataCategory.ARTICLES, link=original.link)
    assert stored.content["content"] == "new body"
    assert stored.content_hash == edited.content_hash
    assert stored.created_at == original.created_at
    assert stored.updated_at >= edited.updated_at


def test_same_link_for_two_authors_is_two_documents(warehouse: MongoDataWarehouse) -> None:
    warehouse.upsert_documents([article(MAYA, 7), article(THEO, 7)])
    assert warehouse.count_documents(DataCategory.ARTICLES) == 2
    assert warehouse.count_documents(DataCategory.ARTICLES, author_id=THEO.id) == 1


def test_unique_index_on_natural_key(warehouse: MongoDataWarehouse) -> None:
    doc = article(MAYA, 3)
    warehouse.upsert_documents([doc])
    indexes = warehouse.database["articles"].index_information()
    assert indexes["natural_key"]["unique"] is True
    with pytest.raises(DuplicateKeyError):
        warehouse.database["articles"].insert_one(
            {"_id": "another-id", "platform": doc.platform, "link": doc.link, "author_id": str(MAYA.id)}
        )


def test_find_by_author_platform_and_link(warehouse: MongoDataWarehouse) -> None:
    post = PostDocument.create(
        author=THEO, platform="linkedin", link="https://linkedin.com/p/9", content={"text": "hot take"}
    )
    warehouse.upsert_documents([article(MAYA, 1), article(MAYA, 2), post])
    assert [d.link for d in warehouse.find_documents(DataCategory.POSTS, author_id=THEO.id)] == [post.link]
    assert len(warehouse.find_documents(DataCategory.ARTICLES, platform="medium")) == 2
    assert warehouse.find_documents(DataCategory.ARTICLES, platform="substack") == []
    [found] = warehouse.find_documents(DataCategory.POSTS, link=post.link)
    assert found == post


def test_iter_documents_pages_through_everything_in_id_order(warehouse: MongoDataWarehouse) -> None:
    docs = [article(MAYA, n) for n in range(23)] + [article(THEO, n) for n in range(5)]
    warehouse.upsert_documents(docs)
    seen = list(warehouse.iter_documents(DataCategory.ARTICLES, batch_size=4))
    assert [str(d.id) for d in seen] == sorted(str(d.id) for d in docs)
    assert len(list(warehouse.iter_documents(DataCategory.ARTICLES, author_id=THEO.id, batch_size=2))) == 5


def test_delete_documents(warehouse: MongoDataWarehouse) -> None:
    docs = [article(MAYA, n) for n in range(10)]
    warehouse.upsert_documents(docs)
    assert warehouse.delete_documents(DataCategory.ARTICLES, [d.id for d in docs[:4]]) == 4
    assert warehouse.count_documents(DataCategory.ARTICLES) == 6
    assert warehouse.delete_documents(DataCategory.ARTICLES, [docs[0].id]) == 0


def test_users_are_upserted_once(warehouse: MongoDataWarehouse) -> None:
    warehouse.upsert_user(MAYA)
    warehouse.upsert_user(UserDocument.from_full_name("Maya Okafor"))
    assert [u.full_name for u in warehouse.list_users()] == ["Maya Okafor"]
    found = warehouse.find_user("Maya Okafor")
    assert found is not None and found.created_at == MAYA.created_at


def test_unreachable_remote_server_names_database_host(settings: Settings) -> None:
    remote = make_settings(
        settings.data_dir, DATABASE_HOST=f"mongodb://127.0.0.1:{free_port()}", DATABASE_TIMEOUT_MS=300
    )
    with pytest.raises(DataWarehouseUnavailableError, match="DATABASE_HOST"):
        connect_mongo(remote)
