"""The retriever on the real stores and models: hybrid search's rare-term recall, author filtering, bad input,
the refusal of a feature store built otherwise, and the same ranking on qdrant-client as on Qdrant Edge (MiniLM, BM25,
the embedded Mongo-wire server)."""

from collections.abc import Iterator
from uuid import uuid4

import pytest

from llm_engineering.application.rag.retriever import ContextRetriever, RetrieverConfig
from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.exceptions import IncompatibleFeatureStoreError, InvalidQueryError
from llm_engineering.domain.features import Chunk
from llm_engineering.domain.ids import chunk_id, user_id
from llm_engineering.domain.ports import VectorRecord
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from tests.conftest import stores_of_their_own
from tests.rag_support import EMBEDDING_MODEL_ID, load_sample_features, shipped_embedder

EMBEDDER = shipped_embedder()
SPARSE = Bm25SparseEmbedder()
PRODUCT_CODE = "QX-7731-ZB"


def retriever(store: VectorStoreAdapter, warehouse: MongoDataWarehouse, **config: object) -> ContextRetriever:
    return ContextRetriever(
        store=store,
        embedder=EMBEDDER,
        sparse_embedder=SPARSE,
        authors=warehouse,
        config=RetrieverConfig(**config),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def sample_stores(
    mongo_server: LocalMongoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MongoDataWarehouse, VectorStoreAdapter]]:
    """The sample corpus in a warehouse and a feature store of their own, built once for the module's tests: they
    only read them (the one that adds a chunk adds it to a copy)."""
    with stores_of_their_own(mongo_server, tmp_path_factory.mktemp("rag-sample")) as (warehouse, store):
        load_sample_features(warehouse, store, EMBEDDER)
        yield warehouse, store


@pytest.fixture
def sample(sample_stores: tuple[MongoDataWarehouse, VectorStoreAdapter]) -> ContextRetriever:
    warehouse, store = sample_stores
    return retriever(store, warehouse)


def copy_features(source: VectorStoreAdapter, target: VectorStoreAdapter) -> None:
    """Every embedded collection of `source`, points and vectors as they are, into `target`."""
    for category in DataCategory:
        collection = category.embedded_collection
        target.ensure_collection(collection, EMBEDDER.dimension, sparse=True)
        target.upsert(collection, list(source.scroll(collection, with_vectors=True)))


def add_product_code_chunk(store: VectorStoreAdapter) -> str:
    """One post among the sample's that names a made-up product code once, in text about something else."""
    document = uuid4()
    chunk = Chunk(
        id=chunk_id(document, 0),
        document_id=document,
        chunk_index=0,
        category=DataCategory.POSTS,
        author_id=user_id("Theo Brandt"),
        author_full_name="Theo Brandt",
        platform="linkedin",
        link="https://www.linkedin.com/posts/theobrandt_warehouse-move",
        content=(
            "We moved the nightly ingestion off the old cluster last week. Batch windows shrank, on-call got "
            f"quieter, and the only job left on the legacy scheduler is the {PRODUCT_CODE} reconciliation in the "
            "finance stack."
        ),
        source_hash="x",
    )
    [vector] = EMBEDDER.embed([chunk.content])
    [sparse] = SPARSE.embed_documents([chunk.content])
    payload = chunk.model_dump(mode="json", exclude={"id"}) | {
        "embedding_model_id": EMBEDDER.model_id,
        "embedding_variant": EMBEDDER.variant,
        "sparse_scheme": SPARSE.scheme,
    }
    store.upsert("embedded_posts", [VectorRecord(id=chunk.id, payload=payload, vector=vector, sparse=sparse)])
    return str(chunk.id)


@pytest.mark.slow
def test_hybrid_search_finds_a_rare_product_code_that_dense_search_misses(
    sample_stores: tuple[MongoDataWarehouse, VectorStoreAdapter], vector_store: VectorStoreAdapter
) -> None:
    warehouse = sample_stores[0]
    copy_features(sample_stores[1], vector_store)  # the shared store stays as built
    target = add_product_code_chunk(vector_store)
    # About GPU bills, which the corpus covers at length: only the code ties the question to the target chunk.
    question = f"Which GPU bills mention {PRODUCT_CODE}?"
    [vector] = EMBEDDER.embed([question])
    dense_top = sorted(
        (hit for c in DataCategory for hit in vector_store.search(c.embedded_collection, vector, k=5)),
        key=lambda hit: hit.score,
        reverse=True,
    )[:5]
    assert target not in [str(hit.record.id) for hit in dense_top], "dense search alone should miss the code"
    retrieval = retriever(vector_store, warehouse).search(question, k=5)
    [found] = [chunk for chunk in retrieval.chunks if chunk.chunk_id == target]
    lexical_top = max(c.scores.get("lexical", 0.0) for c in retrieval.chunks)
    assert found.scores["lexical"] == lexical_top, "the code should make it the best BM25 match"


@pytest.mark.slow
def test_author_filter_self_query_and_unknown_authors(sample: ContextRetriever) -> None:
    by_name = sample.search("Theo, is Spark worth it for small data?", k=8)
    assert by_name.author_full_name == "Theo Brandt"
    assert by_name.chunks and {c.author_full_name for c in by_name.chunks} == {"Theo Brandt"}
    stages = by_name.stage_times
    assert list(stages) == ["self-query", "retrieval", "rerank"]
    assert stages["self-query"].end <= stages["retrieval"].start and stages["retrieval"].end <= stages["rerank"].start
    given = sample.search("How do you keep GPU costs down?", k=8, author_full_name="maya  okafor")
    assert given.author_full_name == "Maya Okafor"
    assert {c.author_full_name for c in given.chunks} == {"Maya Okafor"}
    unknown = sample.search("How do you keep GPU costs down?", k=8, author_full_name="Ada Lovelace")
    assert unknown.author_full_name is None and unknown.chunks
    assert any("unknown author 'Ada Lovelace'" in note for note in unknown.notes)
    anyone = sample.search("data pipelines and GPU budgets", k=20)
    assert anyone.author_full_name is None
    assert {c.author_full_name for c in anyone.chunks} == {"Maya Okafor", "Theo Brandt"}
    fused = [c.scores["fused"] for c in anyone.chunks]
    assert fused == sorted(fused, reverse=True)
    assert len({c.chunk_id for c in anyone.chunks}) == len(anyone.chunks)
    stop_words_only = sample.search("What is it about?", k=3)  # BM25 keeps no term: ranked by the dense list alone
    assert len(stop_words_only.chunks) == 3 and all("lexical" not in c.scores for c in stop_words_only.chunks)


@pytest.mark.slow
def test_bad_questions_get_clear_errors_and_an_empty_store_finds_no_context(
    warehouse: MongoDataWarehouse, vector_store: VectorStoreAdapter
) -> None:
    empty = retriever(vector_store, warehouse, max_query_chars=100)
    for question, message in (("", "empty"), ("x" * 101, "more than the 100"), ("Как снизить расходы?", "cannot read")):
        with pytest.raises(InvalidQueryError, match=message):
            empty.search(question)
    retrieval = empty.search("How do you keep GPU costs down?")
    assert retrieval.chunks == [] and "no context found" in retrieval.notes


@pytest.mark.slow
def test_a_store_built_with_another_embedding_model_variant_or_sparse_scheme_is_refused(
    sample_stores: tuple[MongoDataWarehouse, VectorStoreAdapter],
) -> None:
    warehouse, vector_store = sample_stores
    other = ContextRetriever(
        store=vector_store,
        embedder=SentenceTransformerEmbedder("some-org/another-embedder"),
        sparse_embedder=SPARSE,
        authors=warehouse,
        config=RetrieverConfig(),
    )
    with pytest.raises(IncompatibleFeatureStoreError, match=r"another-embedder.*Rebuild it"):
        other.search("How do you keep GPU costs down?")
    german = ContextRetriever(
        store=vector_store,
        embedder=EMBEDDER,
        sparse_embedder=Bm25SparseEmbedder(language="german"),
        authors=warehouse,
        config=RetrieverConfig(),
    )
    with pytest.raises(IncompatibleFeatureStoreError, match=r"german.*Rebuild it"):
        german.search("How do you keep GPU costs down?")
    torch_fp32 = ContextRetriever(
        store=vector_store,
        embedder=SentenceTransformerEmbedder(EMBEDDING_MODEL_ID, backend="torch"),
        sparse_embedder=SPARSE,
        authors=warehouse,
        config=RetrieverConfig(),
    )
    with pytest.raises(IncompatibleFeatureStoreError, match=r"\(openvino-int8/.*\(torch-fp32\).*Rebuild it"):
        torch_fp32.search("How do you keep GPU costs down?")


@pytest.mark.slow
def test_the_ranking_across_collections_is_the_same_on_both_vector_store_adapters(
    sample: ContextRetriever, sample_stores: tuple[MongoDataWarehouse, VectorStoreAdapter]
) -> None:
    warehouse, vector_store = sample_stores
    client_store = QdrantVectorStore.local()
    try:
        copy_features(vector_store, client_store)
        on_client = retriever(client_store, warehouse)
        for question in ("How do you keep GPU costs down?", "Theo, is Spark worth it for small data?"):
            edge_chunks = sample.search(question, k=10).chunks
            client_chunks = on_client.search(question, k=10).chunks
            assert {c.category for c in edge_chunks} != {edge_chunks[0].category}, "should rank several collections"
            assert [c.chunk_id for c in client_chunks] == [c.chunk_id for c in edge_chunks]
            for edge_chunk, client_chunk in zip(edge_chunks, client_chunks, strict=True):
                assert client_chunk.scores == pytest.approx(edge_chunk.scores, rel=1e-4)
    finally:
        client_store.close()
