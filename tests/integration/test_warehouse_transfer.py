"""Import and export of the warehouse as JSON, on the sample corpus."""

import json
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.run_configs import FeatureEngineeringConfig, load_run_config
from llm_engineering.application.warehouse_transfer import export_warehouse, import_warehouse
from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.documents import RepositoryDocument
from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.db.mongo_reviews import MongoReviewStore
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from tests.conftest import REPO_ROOT, SAMPLE_DIR
from tests.training_support import instruct_dataset

FILES = ["users.json", "articles.json", "posts.json", "repositories.json"]


def test_sample_corpus_round_trips_byte_for_byte(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    report = import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    assert report.users == 2
    assert report.total(WriteOutcome.CREATED) == sum(
        len(json.loads((SAMPLE_DIR / name).read_text())) for name in FILES[1:]
    )
    export_warehouse(warehouse, FolderFiles(tmp_path / "out"))
    for name in FILES:
        assert (tmp_path / "out" / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_second_import_changes_nothing(warehouse: MongoDataWarehouse) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    counts = {c: warehouse.count_documents(c) for c in DataCategory}
    again = import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    assert again.total(WriteOutcome.CREATED) == again.total(WriteOutcome.UPDATED) == 0
    assert {c: warehouse.count_documents(c) for c in DataCategory} == counts


def test_reviews_go_out_and_back_with_their_versions_and_a_newer_one_is_kept(
    warehouse: MongoDataWarehouse, settings: Settings, tmp_path: Path
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    [split] = instruct_dataset(train=2, test=0).splits.values()
    first, second = (sample_key(sample) for sample in split.train)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    client = connect_mongo(settings)
    copy_name = f"twin_copy_{uuid.uuid4().hex[:12]}"
    try:
        reviews = MongoReviewStore(client[settings.DATABASE_NAME])
        reviews.save_review(Review(key=first, verdict=Verdict.ACCEPT, reviewer="ana", reviewed_at=now))
        edited = reviews.save_review(
            Review(key=second, verdict=Verdict.EDIT, answer="I measure it first.", reviewer="ana", reviewed_at=now)
        )
        rejected = reviews.save_review(
            Review(key=second, verdict=Verdict.REJECT, reviewer="bo", reviewed_at=now, version=edited.version)
        )
        counts = export_warehouse(warehouse, FolderFiles(tmp_path / "out"), reviews)
        assert counts["reviews"] == 2 and (tmp_path / "out" / "reviews.json").is_file()

        copy = MongoReviewStore(client[copy_name])
        report = import_warehouse(MongoDataWarehouse(client[copy_name]), FolderFiles(tmp_path / "out"), copy)
        assert report.outcomes["reviews.json"] == {"created": 2, "updated": 0, "unchanged": 0}
        assert copy.find_reviews_of_kind("instruction") == reviews.find_reviews_of_kind("instruction")
        assert copy.find_review(second) == rejected and rejected.version == 2  # the same verdict, version and time

        again = import_warehouse(MongoDataWarehouse(client[copy_name]), FolderFiles(tmp_path / "out"), copy)
        assert again.outcomes["reviews.json"] == {"created": 0, "updated": 0, "unchanged": 2}
        # A verdict made in the copy after the import is newer than the export's: importing again keeps it.
        newer = copy.save_review(Review(key=first, verdict=Verdict.REJECT, reviewer="cy", reviewed_at=now, version=1))
        import_warehouse(MongoDataWarehouse(client[copy_name]), FolderFiles(tmp_path / "out"), copy)
        assert copy.find_review(first) == newer
    finally:
        client.drop_database(copy_name)
        client.close()


def test_a_malformed_review_is_named_and_nothing_is_written(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(SAMPLE_DIR, folder)
    (folder / "reviews.json").write_text(json.dumps([{"verdict": "accept", "reviewer": "ana"}]))
    with pytest.raises(InvalidDocumentError, match=r"reviews.json record 0 is malformed"):
        import_warehouse(warehouse, FolderFiles(folder), MongoReviewStore(warehouse.database))
    assert warehouse.list_users() == []


def test_sample_corpus_meets_its_brief(warehouse: MongoDataWarehouse) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
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
        import_warehouse(warehouse, FolderFiles(broken))
    assert warehouse.count_documents(DataCategory.ARTICLES) == 0
    assert warehouse.list_users() == []


def test_invalid_json_names_the_file(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    (tmp_path / "articles.json").write_text("[{")
    with pytest.raises(InvalidDocumentError, match=r"articles\.json"):
        import_warehouse(warehouse, FolderFiles(tmp_path))


def test_unknown_author_is_rejected(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DIR / "posts.json", tmp_path / "posts.json")
    with pytest.raises(InvalidDocumentError, match="author"):
        import_warehouse(warehouse, FolderFiles(tmp_path))


# A small dump in the LLM Engineer's Handbook's format, written for these tests: file names, `_id`,
# `content.Title` / `Subtitle` / `Content`, the Handbook's author ids, no timestamps and no content hash.
HANDBOOK_AUTHOR_ID = "0b9f6c1e-8d52-4f7a-a1d3-5e2c7b9a4f10"
BODY = (
    "## Why we froze the schema\n\n"
    + "Every nightly load broke when a producer renamed a field, so we wrote the schema down and checked it "
    "at the door of the warehouse. Loads that do not match are parked, not half-written. "
    * 4
    + "\n\n## What it cost\n\n"
    + "Two days of work and one argument with the mobile team, who now own their events as a contract. " * 4
)
HANDBOOK_DUMP: dict[str, list[dict[str, Any]]] = {
    "UserDocument.json": [{"first_name": "Ines", "last_name": "Varga", "_id": HANDBOOK_AUTHOR_ID}],
    "ArticleDocument.json": [
        {
            "content": {"Title": "Freezing the schema", "Subtitle": "Contracts at the door", "Content": BODY},
            "platform": "medium",
            "author_id": HANDBOOK_AUTHOR_ID,
            "author_full_name": "Ines Varga",
            "link": "https://medium.com/@ines/freezing-the-schema-1a2b",
            "_id": "5d7e2a44-1f0b-4c3e-9a8d-2b6f0c1e9d33",
        }
    ],
    "PostDocument.json": [
        {
            "content": {"Content": "Parked loads beat half-written loads. Every time. " * 6},
            "platform": "linkedin",
            "author_id": HANDBOOK_AUTHOR_ID,
            "link": "https://www.linkedin.com/posts/ines_parked-loads",
            "_id": "7e1c9b20-3a4d-4e8f-b1c2-9d0a5f6e7b81",
        },
        {
            "content": {"Content": "Schemas are promises. Write them down before you need them. " * 5},
            "platform": "linkedin",
            "author_id": HANDBOOK_AUTHOR_ID,
            "link": None,
            "_id": "c4a8e6f2-9b1d-4d3a-8e7f-1a2b3c4d5e6f",
        },
    ],
    "RepositoryDocument.json": [
        {
            "content": {
                "README.md": "# schema-gate\n\nRejects rows that break the contract.\n",
                "schema_gate/check.py": (
                    "def check(row: dict, schema: dict) -> bool:\n"
                    '    """True when the row keeps the contract."""\n'
                    "    return set(row) == set(schema)\n"
                ),
            },
            "name": "schema-gate",
            "link": "https://github.com/ines/schema-gate",
            "platform": "github",
            "author_id": HANDBOOK_AUTHOR_ID,
            "_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        }
    ],
}


def write_dump(directory: Path, dump: dict[str, list[dict[str, Any]]] = HANDBOOK_DUMP) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in dump.items():
        (directory / name).write_text(json.dumps(records, indent=4))
    return directory


def test_handbook_dump_is_converted_and_reported_per_file(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    report = import_warehouse(warehouse, FolderFiles(write_dump(tmp_path / "dump")))
    assert report.format == "llm-engineers-handbook" and report.users == 1
    assert report.outcomes == {
        "ArticleDocument.json": {"created": 1, "updated": 0, "unchanged": 0},
        "PostDocument.json": {"created": 2, "updated": 0, "unchanged": 0},
        "RepositoryDocument.json": {"created": 1, "updated": 0, "unchanged": 0},
    }
    [author] = warehouse.list_users()
    assert (author.full_name, author.id) == ("Ines Varga", user_id("Ines Varga"))  # this project's id, not the dump's
    [article] = warehouse.find_documents(DataCategory.ARTICLES)
    assert article.content == {"title": "Freezing the schema", "subtitle": "Contracts at the door", "content": BODY}
    assert article.author_id == author.id and article.content_hash and article.created_at
    links = sorted(post.link for post in warehouse.find_documents(DataCategory.POSTS))
    assert links[0] == "https://www.linkedin.com/handbook-post/c4a8e6f2-9b1d-4d3a-8e7f-1a2b3c4d5e6f"
    [repository] = warehouse.find_documents(DataCategory.REPOSITORIES)
    assert isinstance(repository, RepositoryDocument) and repository.name == "schema-gate"

    again = import_warehouse(warehouse, FolderFiles(tmp_path / "dump"))
    assert again.total(WriteOutcome.UNCHANGED) == 4 and again.total(WriteOutcome.CREATED) == 0


def test_malformed_handbook_record_names_file_and_index_and_writes_nothing(
    warehouse: MongoDataWarehouse, tmp_path: Path
) -> None:
    dump = json.loads(json.dumps(HANDBOOK_DUMP))
    dump["PostDocument.json"][1]["content"] = {"Title": "no body"}
    with pytest.raises(InvalidDocumentError, match=r"PostDocument\.json record 1 is malformed: .*content\.Content"):
        import_warehouse(warehouse, FolderFiles(write_dump(tmp_path / "dump", dump)))
    assert warehouse.list_users() == []
    assert all(warehouse.count_documents(category) == 0 for category in DataCategory)


def test_folder_without_a_known_file_lists_the_names_looked_for(warehouse: MongoDataWarehouse, tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("[]")
    with pytest.raises(InvalidDocumentError, match=r"users\.json.*ArticleDocument\.json.*RepositoryDocument\.json"):
        import_warehouse(warehouse, FolderFiles(tmp_path))


def test_imported_handbook_documents_go_through_the_feature_pipeline(
    warehouse: MongoDataWarehouse, vector_store: VectorStoreAdapter, tmp_path: Path
) -> None:
    import_warehouse(warehouse, FolderFiles(write_dump(tmp_path / "dump")))
    chunking = load_run_config(REPO_ROOT / "configs" / "feature_engineering.yaml", FeatureEngineeringConfig).chunking
    report = FeatureStoreUpdater(
        warehouse,
        vector_store,
        SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2"),
        chunking,
        sparse_embedder=Bm25SparseEmbedder(),
        embedding_batch_size=32,
        write_batch_size=256,
        progress=False,
    ).run()
    assert report.summary()["documents_changed"] == 4
    for category, documents in ((DataCategory.ARTICLES, 1), (DataCategory.POSTS, 2), (DataCategory.REPOSITORIES, 1)):
        assert vector_store.count(category.cleaned_collection) == documents
        assert vector_store.count(category.embedded_collection) >= documents
    [cleaned] = vector_store.scroll(DataCategory.ARTICLES.cleaned_collection)
    assert cleaned.payload["content"].startswith("# Freezing the schema")


def test_cli_imports_a_handbook_dump_and_rejects_an_unknown_folder(cli_env: dict[str, str], tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump")
    done = subprocess.run(
        [sys.executable, "-m", "tools", "warehouse", "import", "--dir", str(dump)],
        cwd=REPO_ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "PostDocument.json" in done.stderr and "created 2" in done.stderr
    empty = subprocess.run(
        [sys.executable, "-m", "tools", "warehouse", "import", "--dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 1 and "UserDocument.json" in empty.stderr
