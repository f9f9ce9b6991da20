"""The VectorStore port's contract, run against both adapters: Qdrant Edge and qdrant-client (in local mode here)."""

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from qdrant_client import QdrantClient

from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ids import chunk_id
from llm_engineering.domain.ports import SparseVector, VectorRecord
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.db.qdrant_edge import EdgeVectorStore

DIM = 8
COMMON_TERM = 7


def unit(i: int) -> list[float]:
    # i + 1: i == 0 would give the zero vector, which has no direction.
    vector = [math.sin((i + 1) * (k + 1)) for k in range(DIM)]
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector]


def chunks(document: UUID, author: str, count: int, *, first_term: int = 1000) -> list[VectorRecord]:
    """Chunks with a dense vector and a sparse one: a term of their own plus a term every chunk shares."""
    return [
        VectorRecord(
            id=chunk_id(document, i),
            payload={"document_id": str(document), "author_id": author, "chunk_index": i},
            vector=unit(document.int % 997 + i),
            sparse=SparseVector(indices=[COMMON_TERM, first_term + i], values=[1.0, 2.0]),
        )
        for i in range(count)
    ]


@pytest.fixture(params=["qdrant-edge", "qdrant-client"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStoreAdapter]:
    adapter: VectorStoreAdapter = (
        EdgeVectorStore(tmp_path / "edge") if request.param == "qdrant-edge" else QdrantVectorStore.local()
    )
    yield adapter
    adapter.close()


def test_collections_are_created_once_and_listed(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    store.ensure_collection("cleaned_articles", None)
    assert store.collection_names() == ["cleaned_articles", "embedded_articles"]


def test_upsert_is_idempotent_by_id(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_posts", DIM, sparse=True)
    records = chunks(uuid4(), "a", 300)
    store.upsert("embedded_posts", records)
    store.upsert("embedded_posts", records)
    assert store.count("embedded_posts") == 300
    changed = VectorRecord(id=records[0].id, payload={**records[0].payload, "author_id": "b"}, vector=records[0].vector)
    store.upsert("embedded_posts", [changed])
    assert store.count("embedded_posts") == 300 and store.count("embedded_posts", {"author_id": "b"}) == 1


def test_delete_by_document_leaves_other_documents(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    keep, drop, also = uuid4(), uuid4(), uuid4()
    store.upsert("embedded_articles", chunks(keep, "a", 5) + chunks(drop, "a", 7) + chunks(also, "a", 2))
    store.delete_where("embedded_articles", {"document_id": str(drop)})
    assert store.count("embedded_articles") == 7
    store.delete_where("embedded_articles", {"document_id": [str(also), str(uuid4())]})
    assert store.count("embedded_articles") == store.count("embedded_articles", {"document_id": str(keep)}) == 5
    with pytest.raises(VectorStoreError, match="at least one filter"):
        store.delete_where("embedded_articles", {})
    store.delete_where("missing_collection", {"document_id": str(keep)})


def test_scroll_pages_through_all_points_with_both_vectors(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    records = chunks(uuid4(), "a", 53)
    store.upsert("embedded_articles", records)
    seen = list(store.scroll("embedded_articles", page_size=10, with_vectors=True))
    assert sorted(r.id for r in seen) == sorted(r.id for r in records)
    by_id = {r.id: r for r in seen}
    for record in records:
        got = by_id[record.id]
        assert got.vector == pytest.approx(record.vector, abs=1e-6)
        assert got.sparse is not None and record.sparse is not None
        assert sorted(got.sparse.indices) == sorted(record.sparse.indices)
    bare = list(store.scroll("embedded_articles", page_size=7, payload_fields=["chunk_index"]))
    assert len(bare) == 53 and all(set(r.payload) == {"chunk_index"} and r.vector is None for r in bare)
    assert list(store.scroll("missing_collection")) == []


def test_filtered_scroll_and_counts(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_posts", DIM, sparse=True)
    store.upsert("embedded_posts", chunks(uuid4(), "maya", 12) + chunks(uuid4(), "theo", 30))
    assert store.count("embedded_posts") == 42
    assert store.count("embedded_posts", {"author_id": "maya"}) == 12
    assert store.count("embedded_posts", {"author_id": ["maya", "theo"]}) == 42
    assert store.count("embedded_posts", {"author_id": "nobody"}) == 0
    assert store.count("missing_collection") == 0
    maya = list(store.scroll("embedded_posts", filters={"author_id": "maya"}, page_size=5))
    assert len(maya) == 12 and {r.payload["author_id"] for r in maya} == {"maya"}


def test_filtered_search_returns_only_matching_author(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    maya, theo = chunks(uuid4(), "maya", 20), chunks(uuid4(), "theo", 20)
    store.upsert("embedded_articles", maya + theo)
    target = theo[3]
    assert target.vector is not None
    hits = store.search("embedded_articles", target.vector, k=5, filters={"author_id": "theo"})
    assert len(hits) == 5 and all(hit.record.payload["author_id"] == "theo" for hit in hits)
    assert hits[0].record.id == target.id and hits[0].score == pytest.approx(1.0, abs=1e-5)
    either = store.search("embedded_articles", target.vector, k=40, filters={"author_id": ["maya", "theo"]})
    assert len(either) == 40
    assert store.search("missing_collection", target.vector) == []


def test_hybrid_search_fuses_dense_and_sparse_within_the_filter(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    maya = chunks(uuid4(), "maya", 20, first_term=1000)
    theo = chunks(uuid4(), "theo", 20, first_term=2000)
    store.upsert("embedded_articles", maya + theo)
    store.optimize("embedded_articles")
    target, neighbour = theo[4], theo[5]
    assert target.vector is not None and neighbour.vector is not None
    # The dense side points at a neighbour, the sparse side names only the target's own term: the target is in
    # both candidate lists and the neighbour in one, so fusion ranks the target first.
    query_terms = SparseVector(indices=[2004], values=[1.0])
    hits = store.hybrid_search("embedded_articles", neighbour.vector, query_terms, k=5, filters={"author_id": "theo"})
    assert hits[0].record.id == target.id
    assert len(hits) == 5 and all(hit.record.payload["author_id"] == "theo" for hit in hits)
    assert hits[0].score > hits[-1].score
    lexical_only = store.hybrid_search(
        "embedded_articles", unit(999_999), query_terms, k=3, filters={"author_id": "maya"}
    )
    assert all(hit.record.payload["author_id"] == "maya" for hit in lexical_only)
    assert store.hybrid_search("missing_collection", target.vector, query_terms) == []


def test_sparse_search_ranks_by_bm25_within_the_filter(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    maya = chunks(uuid4(), "maya", 10, first_term=1000)
    theo = chunks(uuid4(), "theo", 10, first_term=2000)
    store.upsert("embedded_articles", maya + theo)
    store.optimize("embedded_articles")
    hits = store.sparse_search("embedded_articles", SparseVector(indices=[2003], values=[1.0]), k=5)
    assert [hit.record.id for hit in hits] == [theo[3].id]
    common = store.sparse_search(
        "embedded_articles", SparseVector(indices=[COMMON_TERM], values=[1.0]), k=50, filters={"author_id": "maya"}
    )
    assert len(common) == 10 and all(hit.record.payload["author_id"] == "maya" for hit in common)
    assert store.sparse_search("missing_collection", SparseVector(indices=[1], values=[1.0])) == []


def test_searches_without_payloads_give_the_same_ids_and_scores(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_posts", DIM, sparse=True)
    store.upsert("embedded_posts", chunks(uuid4(), "maya", 10) + chunks(uuid4(), "theo", 10, first_term=2000))
    store.optimize("embedded_posts")
    terms = SparseVector(indices=[2003, 2004, 2005], values=[3.0, 2.0, 1.0])  # no ties: one order
    theo = {"author_id": "theo"}
    for full, bare in (
        (
            store.search("embedded_posts", unit(3), k=6, filters=theo),
            store.search("embedded_posts", unit(3), k=6, filters=theo, with_payload=False),
        ),
        (
            store.sparse_search("embedded_posts", terms, k=6, filters=theo),
            store.sparse_search("embedded_posts", terms, k=6, filters=theo, with_payload=False),
        ),
        (
            store.hybrid_search("embedded_posts", unit(3), terms, k=6, filters=theo),
            store.hybrid_search("embedded_posts", unit(3), terms, k=6, filters=theo, with_payload=False),
        ),
    ):
        # qdrant-client's local mode may differ in the last float32 digits between two calls.
        assert [hit.record.id for hit in bare] == [hit.record.id for hit in full]
        assert [hit.score for hit in bare] == pytest.approx([hit.score for hit in full], rel=1e-5)
        assert all(hit.record.payload == {} for hit in bare) and all(hit.record.payload for hit in full)


def test_retrieve_by_ids_gives_payloads_in_the_order_asked_and_skips_missing_ids(store: VectorStoreAdapter) -> None:
    store.ensure_collection("embedded_posts", DIM, sparse=True)
    records = chunks(uuid4(), "maya", 5)
    store.upsert("embedded_posts", records)
    wanted = [records[3].id, uuid4(), records[0].id, records[4].id]
    found = store.retrieve("embedded_posts", wanted)
    assert [record.id for record in found] == [records[3].id, records[0].id, records[4].id]
    assert [record.payload for record in found] == [records[3].payload, records[0].payload, records[4].payload]
    assert all(record.vector is None and record.sparse is None for record in found)
    assert store.retrieve("embedded_posts", []) == [] and store.retrieve("missing_collection", wanted) == []


def test_payload_only_collection_stores_documents(store: VectorStoreAdapter) -> None:
    store.ensure_collection("cleaned_posts", None)
    doc = uuid4()
    store.upsert("cleaned_posts", [VectorRecord(id=doc, payload={"content": "clean text", "author_id": "a"})])
    store.optimize("cleaned_posts")
    [record] = list(store.scroll("cleaned_posts", with_vectors=True))
    assert record.id == doc and record.payload["content"] == "clean text"
    assert record.vector is None and record.sparse is None
    assert store.count("cleaned_posts", {"author_id": "a"}) == 1


def test_ensure_collection_rejects_another_dimension(store: VectorStoreAdapter, tmp_path: Path) -> None:
    store.ensure_collection("embedded_articles", DIM, sparse=True)
    store.upsert("embedded_articles", chunks(uuid4(), "a", 2))
    fresh: VectorStoreAdapter
    if isinstance(store, EdgeVectorStore):
        store.close()
        fresh = EdgeVectorStore(store.root)
    else:
        fresh = QdrantVectorStore(store.client, is_local=True)
    with pytest.raises(VectorStoreError, match="TEXT_EMBEDDING_MODEL_ID"):
        fresh.ensure_collection("embedded_articles", DIM * 2, sparse=True)
    assert fresh.count("embedded_articles") == 2
    if isinstance(fresh, EdgeVectorStore):
        fresh.close()


class RecordingClient:
    """A real qdrant-client (local mode) that records the payload indexes asked of it, as a server would build."""

    def __init__(self) -> None:
        self._client = QdrantClient(":memory:")
        self.indexed: dict[str, set[str]] = {}

    def create_payload_index(self, collection_name: str, field_name: str, **kwargs: Any) -> None:
        self.indexed.setdefault(collection_name, set()).add(field_name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_both_backends_index_the_same_payload_fields(tmp_path: Path) -> None:
    edge = EdgeVectorStore(tmp_path / "edge")
    try:
        edge.ensure_collection("embedded_articles", DIM, sparse=True)
        edge.ensure_collection("cleaned_articles", None)
        edge_indexed = {
            name: set(edge._require(name).info().payload_schema) for name in ("embedded_articles", "cleaned_articles")
        }
    finally:
        edge.close()
    recording = RecordingClient()
    server = QdrantVectorStore(cast(QdrantClient, recording), is_local=False)  # the server path's calls
    server.ensure_collection("embedded_articles", DIM, sparse=True)
    server.ensure_collection("cleaned_articles", None)
    assert edge_indexed == recording.indexed
    assert edge_indexed["embedded_articles"] == {"author_id", "document_id"}  # what the pipelines filter on
