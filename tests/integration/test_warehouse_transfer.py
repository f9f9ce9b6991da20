"""Import and export of the warehouse as JSON, on the sample corpus."""

import json
import shutil
from pathlib import Path

import pytest

from llm_engineering.application.warehouse_transfer import export_warehouse, import_warehouse
from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from tests.conftest import SAMPLE_DIR

FILES = ["users.json", "articles.json", "posts.json", "repositories.json"]


def test_sample_corpus_round_trips_byte_for_byte(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    report = import_warehouse(warehouse, SAMPLE_DIR)
    assert report.users == 2
    assert report.total(WriteOutcome.CREATED) == sum(
        len(json.loads((SAMPLE_DIR / name).read_text())) for name in FILES[1:]
    )
    export_warehouse(warehouse, tmp_path / "out")
    for name in FILES:
        assert (tmp_path / "out" / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_second_import_changes_nothing(warehouse: MongoDataWarehouse) -> None:
    import_warehouse(warehouse, SAMPLE_DIR)
    counts = {c: warehouse.count_documents(c) for c in DataCategory}
    again = import_warehouse(warehouse, SAMPLE_DIR)
    assert again.total(WriteOutcome.CREATED) == again.total(WriteOutcome.UPDATED) == 0
    assert {c: warehouse.count_documents(c) for c in DataCategory} == counts


def test_sample_corpus_meets_its_brief(warehouse: MongoDataWarehouse) -> None:
    import_warehouse(warehouse, SAMPLE_DIR)
    users = warehouse.list_users()
    assert len(users) == 2
    articles = warehouse.find_documents(DataCategory.ARTICLES)
    assert len(articles) >= 20
    assert all(len(a.content["content"].split()) >= 500 for a in articles)
    assert warehouse.count_documents(DataCategory.POSTS) >= 30
    assert warehouse.count_documents(DataCategory.REPOSITORIES) == 2
    for user in users:
        assert warehouse.count_documents(DataCategory.ARTICLES, author_id=user.id) > 0


def test_malformed_file_is_rejected_before_anything_is_written(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(SAMPLE_DIR, broken)
    posts = json.loads((broken / "posts.json").read_text())
    posts[-1]["link"] = "not-a-url"
    (broken / "posts.json").write_text(json.dumps(posts))
    with pytest.raises(InvalidDocumentError, match="not-a-url"):
        import_warehouse(warehouse, broken)
    assert warehouse.count_documents(DataCategory.ARTICLES) == 0
    assert warehouse.list_users() == []


def test_invalid_json_names_the_file(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    (tmp_path / "articles.json").write_text("[{")
    with pytest.raises(InvalidDocumentError, match=r"articles\.json"):
        import_warehouse(warehouse, tmp_path)


def test_unknown_author_is_rejected(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DIR / "posts.json", tmp_path / "posts.json")
    with pytest.raises(InvalidDocumentError, match="author"):
        import_warehouse(warehouse, tmp_path)
