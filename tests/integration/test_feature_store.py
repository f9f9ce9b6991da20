"""The feature path with the real packaged embedding model (on the backend the settings ship with), BM25, Qdrant
Edge and the Mongo-wire server."""

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from llm_engineering.application.preprocessing.chunking import CategoryChunking, ChunkingConfig
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.search import search_chunks
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.documents import ArticleDocument, UserDocument
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.queries import Query
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from tests.conftest import SAMPLE_DIR
from tests.rag_support import EMBEDDING_MODEL_ID, shipped_embedder

THEO = user_id("Theo Brandt")
MAYA = user_id("Maya Okafor")
EMBEDDER = shipped_embedder()  # the backend `make run` embeds with
SPARSE = Bm25SparseEmbedder()
CHUNKING = ChunkingConfig(
    articles=CategoryChunking(chunk_tokens=256, overlap_tokens=40),
    posts=CategoryChunking(chunk_tokens=256, overlap_tokens=25),
    repositories=CategoryChunking(chunk_tokens=256, overlap_tokens=20),
)


class RevisedBm25(Bm25SparseEmbedder):
    """BM25 under another scheme (as after a change of its settings or of qdrant-edge-py)."""

    @property
    def scheme(self) -> str:
        return super().scheme + "/revised"


class FailingEmbedder(SentenceTransformerEmbedder):
    """The shipped model, made to crash on its second call: a run that dies half-way."""

    calls = 0

    def __init__(self) -> None:
        super().__init__(
            EMBEDDING_MODEL_ID, backend=EMBEDDER.backend, cache_dir=Path(os.environ["EMBEDDING_CACHE_DIR"])
        )

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("simulated crash while embedding")
        return super().embed(texts, batch_size=batch_size)


def updater(
    warehouse: MongoDataWarehouse,
    store: VectorStoreAdapter,
    embedder: SentenceTransformerEmbedder = EMBEDDER,
    chunking: ChunkingConfig = CHUNKING,
) -> FeatureStoreUpdater:
    return FeatureStoreUpdater(
        warehouse,
        store,
        embedder,
        chunking,
        sparse_embedder=SPARSE,
        embedding_batch_size=16,
        write_batch_size=32,
        progress=False,
    )


@pytest.fixture
def loaded(warehouse: MongoDataWarehouse) -> MongoDataWarehouse:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    return warehouse


def chunk_count(store: VectorStoreAdapter, category: DataCategory, **filters: str) -> int:
    return store.count(category.embedded_collection, filters or None)


def test_build_writes_cleaned_documents_and_chunks_with_payload(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    report = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    for category in DataCategory:
        documents = loaded.count_documents(category, author_id=THEO)
        assert vector_store.count(category.cleaned_collection) == documents
        assert chunk_count(vector_store, category) >= documents
    assert report["documents_changed"] == report["documents_seen"] == 32
    assert report["chunks_written"] == sum(chunk_count(vector_store, c) for c in DataCategory)
    assert report["embedding_seconds"] > 0
    assert chunk_count(vector_store, DataCategory.ARTICLES, author_id=str(MAYA)) == 0
    [record] = list(vector_store.scroll("embedded_posts", page_size=1, with_vectors=True))[:1]
    assert record.vector is not None and len(record.vector) == 384
    [expected] = SPARSE.embed_documents([record.payload["content"]])
    assert record.sparse is not None and sorted(record.sparse.indices) == sorted(expected.indices)
    for field in ("author_id", "author_full_name", "document_id", "platform", "link", "category", "chunk_index"):
        assert field in record.payload
    assert record.payload["embedding_model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert record.payload["embedding_variant"] == EMBEDDER.variant
    assert EMBEDDER.variant.startswith("openvino-int8/")
    assert record.payload["author_full_name"] == "Theo Brandt"
    [cleaned] = list(vector_store.scroll("cleaned_articles", page_size=1))[:1]
    assert cleaned.payload["content"].startswith("# ")


def test_second_run_over_unchanged_data_embeds_nothing(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    updater(loaded, vector_store).run(author_ids=[THEO])
    before = {c: chunk_count(vector_store, c) for c in DataCategory}
    report = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert report["documents_changed"] == 0 and report["documents_skipped"] == 32
    assert report["chunks_written"] == 0 and report["embedding_seconds"] == 0
    assert {c: chunk_count(vector_store, c) for c in DataCategory} == before
    revised = FeatureStoreUpdater(
        loaded,
        vector_store,
        EMBEDDER,
        CHUNKING,
        sparse_embedder=RevisedBm25(),
        embedding_batch_size=16,
        write_batch_size=32,
        progress=False,
    )
    assert revised.run(author_ids=[THEO]).summary()["documents_changed"] == 32
    assert {c: chunk_count(vector_store, c) for c in DataCategory} == before


def test_edited_document_replaces_its_chunks(loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter) -> None:
    updater(loaded, vector_store).run(author_ids=[THEO])
    [article] = loaded.find_documents(DataCategory.ARTICLES, author_id=THEO)[:1]
    assert chunk_count(vector_store, DataCategory.ARTICLES, document_id=str(article.id)) > 1
    others = chunk_count(vector_store, DataCategory.ARTICLES) - chunk_count(
        vector_store, DataCategory.ARTICLES, document_id=str(article.id)
    )
    edited = ArticleDocument.create(
        author=UserDocument.from_full_name("Theo Brandt"),
        platform=article.platform,
        link=article.link,
        content={"title": "Short now", "subtitle": "", "content": "One short paragraph replaces the essay."},
    )
    loaded.upsert_documents([edited])
    report = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert report["documents_changed"] == 1
    chunks = list(vector_store.scroll("embedded_articles", filters={"document_id": str(article.id)}))
    assert [c.payload["content"] for c in chunks] == ["# Short now\n\nOne short paragraph replaces the essay."]
    assert chunks[0].payload["source_hash"] == edited.content_hash
    assert chunk_count(vector_store, DataCategory.ARTICLES) == others + 1


def test_deleted_document_disappears(loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter) -> None:
    updater(loaded, vector_store).run(author_ids=[THEO])
    [post] = loaded.find_documents(DataCategory.POSTS, author_id=THEO)[:1]
    loaded.delete_documents(DataCategory.POSTS, [post.id])
    report = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert report["documents_deleted"] == 1
    assert chunk_count(vector_store, DataCategory.POSTS, document_id=str(post.id)) == 0
    assert vector_store.count("cleaned_posts", {"document_id": str(post.id)}) == 0
    assert vector_store.count("cleaned_posts") == 24


def test_author_filtered_search_returns_only_that_author(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    updater(loaded, vector_store).run(author_ids=None)
    query = Query(content="Should I use Spark for a 20 GB dataset?", author_id=MAYA)
    hits = search_chunks(query, store=vector_store, embedder=EMBEDDER, k=8)
    assert len(hits) == 8 and all(hit.chunk.author_id == MAYA for hit in hits)
    unfiltered = search_chunks(query.model_copy(update={"author_id": None}), store=vector_store, embedder=EMBEDDER)
    assert unfiltered[0].chunk.author_full_name == "Theo Brandt"
    assert unfiltered[0].score >= hits[0].score
    hybrid = search_chunks(query, store=vector_store, embedder=EMBEDDER, k=8, sparse_embedder=SPARSE)
    assert len(hybrid) == 8 and all(hit.chunk.author_id == MAYA for hit in hybrid)
    assert {hit.chunk.id for hit in hybrid} & {hit.chunk.id for hit in hits}


def test_crash_half_way_resumes_without_duplicates(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    with pytest.raises(RuntimeError, match="simulated crash"):
        updater(loaded, vector_store, FailingEmbedder()).run(author_ids=[THEO])
    assert vector_store.count("cleaned_posts") == 0  # nothing was marked complete
    resumed = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert resumed["documents_changed"] == 32
    after = {c: chunk_count(vector_store, c) for c in DataCategory}
    assert sum(after.values()) == resumed["chunks_written"]


def test_crash_in_a_full_rebuild_leaves_no_marked_document_without_chunks(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    built = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    reference = {c: chunk_count(vector_store, c) for c in DataCategory}
    with pytest.raises(RuntimeError, match="simulated crash"):
        updater(loaded, vector_store, FailingEmbedder()).run(author_ids=[THEO], full=True)
    # Every document still marked complete still has its chunks; the others are left for the next run.
    marked = 0
    for category in DataCategory:
        for record in vector_store.scroll(category.cleaned_collection, payload_fields=["document_id"]):
            assert chunk_count(vector_store, category, document_id=str(record.id)) > 0
            marked += 1
    assert marked < 32
    resumed = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert resumed["documents_changed"] == 32 - marked
    assert {c: chunk_count(vector_store, c) for c in DataCategory} == reference
    assert sum(vector_store.count(c.cleaned_collection) for c in DataCategory) == built["documents_seen"]
    again = updater(loaded, vector_store).run(author_ids=[THEO]).summary()
    assert again["documents_changed"] == 0


def test_changed_chunking_rebuilds_and_full_rebuilds_everything(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    updater(loaded, vector_store).run(author_ids=[THEO])
    smaller = CHUNKING.model_copy(update={"posts": CategoryChunking(chunk_tokens=64, overlap_tokens=8)})
    report = updater(loaded, vector_store, chunking=smaller).run(author_ids=[THEO]).summary()
    assert report["documents_changed"] == 32
    assert chunk_count(vector_store, DataCategory.POSTS) > 25
    full = updater(loaded, vector_store, chunking=smaller).run(author_ids=[THEO], full=True).summary()
    assert full["documents_changed"] == 32 and full["chunks_written"] == report["chunks_written"]


def test_another_embedding_variant_rebuilds_every_chunk_and_is_recorded(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    updater(loaded, vector_store).run(author_ids=[THEO])
    before = {c: chunk_count(vector_store, c) for c in DataCategory}
    torch_fp32 = SentenceTransformerEmbedder(EMBEDDER.model_id, backend="torch")
    report = updater(loaded, vector_store, embedder=torch_fp32).run(author_ids=[THEO]).summary()
    assert report["documents_changed"] == 32 and report["chunks_written"] == sum(before.values())
    assert {c: chunk_count(vector_store, c) for c in DataCategory} == before
    variants = {
        record.payload["embedding_variant"]
        for category in DataCategory
        for record in vector_store.scroll(category.embedded_collection, payload_fields=["embedding_variant"])
    }
    assert variants == {"torch-fp32"}  # not one int8 vector left beside the torch ones
    assert updater(loaded, vector_store, embedder=torch_fp32).run(author_ids=[THEO]).summary()["documents_changed"] == 0


@pytest.mark.slow
def test_whole_sample_corpus_fills_all_six_collections(
    loaded: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    report = updater(loaded, vector_store).run().summary()
    assert report["documents_seen"] == 52
    for category in DataCategory:
        assert vector_store.count(category.cleaned_collection) == loaded.count_documents(category)
        assert chunk_count(vector_store, category, author_id=str(MAYA)) > 0
        assert chunk_count(vector_store, category, author_id=str(THEO)) > 0
