"""Vector search over every embedded collection: the smoke test of the feature store, and RAG's base."""

from collections.abc import Iterable

from llm_engineering.domain.features import Chunk, ScoredChunk
from llm_engineering.domain.ports import Embedder, VectorStore
from llm_engineering.domain.queries import Query
from llm_engineering.domain.types import DataCategory


def search_chunks(
    query: Query,
    *,
    store: VectorStore,
    embedder: Embedder,
    k: int = 5,
    categories: Iterable[DataCategory] = tuple(DataCategory),
) -> list[ScoredChunk]:
    """The k chunks most similar to the query across categories, optionally from one author only."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    [vector] = embedder.embed([query.content])
    filters = {"author_id": str(query.author_id)} if query.author_id is not None else None
    hits: list[ScoredChunk] = []
    for category in categories:
        for hit in store.search(category.embedded_collection, vector, k=k, filters=filters):
            payload = {key: value for key, value in hit.record.payload.items() if key != "embedding_model_id"}
            hits.append(ScoredChunk(chunk=Chunk.model_validate({"id": hit.record.id, **payload}), score=hit.score))
    return sorted(hits, key=lambda scored: scored.score, reverse=True)[:k]
