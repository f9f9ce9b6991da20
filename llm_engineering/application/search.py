"""Search over every embedded collection, dense or hybrid (dense + BM25): the feature store's smoke test, RAG's base."""

from collections.abc import Iterable

from llm_engineering.domain.features import Chunk, ScoredChunk
from llm_engineering.domain.ports import Embedder, SparseEmbedder, VectorStore
from llm_engineering.domain.queries import Query
from llm_engineering.domain.types import DataCategory

# Payload fields of an embedded chunk that say what built it, not what it is.
FEATURE_PROVENANCE = frozenset({"embedding_model_id", "embedding_variant", "sparse_scheme"})


def search_chunks(
    query: Query,
    *,
    store: VectorStore,
    embedder: Embedder,
    k: int = 5,
    categories: Iterable[DataCategory] = tuple(DataCategory),
    sparse_embedder: SparseEmbedder | None = None,
) -> list[ScoredChunk]:
    """The k chunks closest to the query across categories, optionally from one author only.

    With a sparse embedder the search is hybrid: dense and BM25 candidates fused by reciprocal rank (scores are then
    RRF scores, comparable across categories); without one it ranks by cosine similarity.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    [vector] = embedder.embed([query.content])
    sparse = sparse_embedder.embed_query(query.content) if sparse_embedder is not None else None
    filters = {"author_id": str(query.author_id)} if query.author_id is not None else None
    hits: list[ScoredChunk] = []
    for category in categories:
        collection = category.embedded_collection
        found = (
            store.search(collection, vector, k=k, filters=filters)
            if sparse is None
            else store.hybrid_search(collection, vector, sparse, k=k, filters=filters)
        )
        for hit in found:
            payload = {key: value for key, value in hit.record.payload.items() if key not in FEATURE_PROVENANCE}
            hits.append(ScoredChunk(chunk=Chunk.model_validate({"id": hit.record.id, **payload}), score=hit.score))
    return sorted(hits, key=lambda scored: scored.score, reverse=True)[:k]
