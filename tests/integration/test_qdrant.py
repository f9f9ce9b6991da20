"""The Qdrant vector store adapter in local mode."""

import math
from uuid import UUID, uuid4

import pytest

from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ids import chunk_id
from llm_engineering.domain.ports import VectorRecord
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.settings import Settings

DIM = 8


def unit(i: int) -> list[float]:
    # i + 1: i == 0 would give the zero vector, which has no direction.
    vector = [math.sin((i + 1) * (k + 1)) for k in range(DIM)]
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector]


def chunks(document: UUID, author: str, count: int) -> list[VectorRecord]:
    return [
        VectorRecord(
            id=chunk_id(document, i),
            payload={"document_id": str(document), "author_id": author, "chunk_index": i},
            vector=unit(hash((document, i)) % 1000),
        )
        for i in range(count)
    ]


def test_collection_creation_is_idempotent_and_checks_dimension(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("embedded_articles", DIM)
    vector_store.ensure_collection("embedded_articles", DIM)
    vector_store.ensure_collection("cleaned_articles", None)
    assert vector_store.collection_names() == ["cleaned_articles", "embedded_articles"]
    fresh = QdrantVectorStore(vector_store.client, is_local=True)
    with pytest.raises(VectorStoreError, match="TEXT_EMBEDDING_MODEL_ID"):
        fresh.ensure_collection("embedded_articles", DIM * 2)


def test_upsert_is_idempotent_by_id(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("embedded_posts", DIM)
    records = chunks(uuid4(), "a", 300)
    vector_store.upsert("embedded_posts", records)
    vector_store.upsert("embedded_posts", records)
    assert vector_store.count("embedded_posts") == 300


def test_delete_by_document_leaves_other_documents(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("embedded_articles", DIM)
    keep, drop = uuid4(), uuid4()
    vector_store.upsert("embedded_articles", chunks(keep, "a", 5) + chunks(drop, "a", 7))
    vector_store.delete_where("embedded_articles", {"document_id": str(drop)})
    assert vector_store.count("embedded_articles") == 5
    assert vector_store.count("embedded_articles", {"document_id": str(keep)}) == 5
    with pytest.raises(VectorStoreError):
        vector_store.delete_where("embedded_articles", {})


def test_scroll_pages_through_all_points(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("embedded_articles", DIM)
    records = chunks(uuid4(), "a", 53)
    vector_store.upsert("embedded_articles", records)
    seen = list(vector_store.scroll("embedded_articles", page_size=10, with_vectors=True))
    assert {r.id for r in seen} == {r.id for r in records}
    assert all(r.vector is not None and len(r.vector) == DIM for r in seen)
    assert list(vector_store.scroll("missing_collection")) == []


def test_filtered_search_returns_only_matching_author(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("embedded_articles", DIM)
    maya, theo = chunks(uuid4(), "maya", 20), chunks(uuid4(), "theo", 20)
    vector_store.upsert("embedded_articles", maya + theo)
    target = theo[3]
    assert target.vector is not None
    hits = vector_store.search("embedded_articles", target.vector, k=5, filters={"author_id": "theo"})
    assert len(hits) == 5
    assert all(hit.record.payload["author_id"] == "theo" for hit in hits)
    assert hits[0].record.id == target.id and hits[0].score == pytest.approx(1.0, abs=1e-5)
    either = vector_store.search("embedded_articles", target.vector, k=40, filters={"author_id": ["maya", "theo"]})
    assert len(either) == 40


def test_payload_only_collection_stores_documents(vector_store: QdrantVectorStore) -> None:
    vector_store.ensure_collection("cleaned_posts", None)
    doc = uuid4()
    vector_store.upsert("cleaned_posts", [VectorRecord(id=doc, payload={"content": "clean text", "author_id": "a"})])
    [record] = list(vector_store.scroll("cleaned_posts"))
    assert record.payload["content"] == "clean text" and record.vector is None


def test_local_store_persists_on_disk(settings: Settings) -> None:
    first = QdrantVectorStore.from_settings(settings)
    first.ensure_collection("embedded_posts", DIM)
    first.upsert("embedded_posts", chunks(uuid4(), "a", 3))
    first.close()
    second = QdrantVectorStore.from_settings(settings)
    assert second.count("embedded_posts") == 3
    second.close()
    assert (settings.data_dir / "qdrant").is_dir()
