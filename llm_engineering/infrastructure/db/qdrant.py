"""Qdrant feature-store adapter on qdrant-client: a Qdrant server or Qdrant Cloud (and local mode in tests and benches).

The embedded default is Qdrant Edge (qdrant_edge.py); both adapters store the same named vectors.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from loguru import logger
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ports import Filters, SearchHit, SparseVector, VectorRecord
from llm_engineering.infrastructure.db.qdrant_points import (
    DENSE_VECTOR,
    INDEXED_FIELDS,
    RRF_K,
    SPARSE_VECTOR,
    filter_matches,
    named_vectors,
    ordered_as,
    record_from_point,
    scroll_records,
)
from llm_engineering.settings import Settings


def build_qdrant_client(settings: Settings) -> QdrantClient:
    """Qdrant Cloud or a Qdrant server, following the settings."""
    api_key = settings.QDRANT_APIKEY.get_secret_value() if settings.QDRANT_APIKEY else None
    if settings.qdrant_backend == "cloud":
        return QdrantClient(url=settings.QDRANT_CLOUD_URL, api_key=api_key)
    if settings.qdrant_backend == "server":
        return QdrantClient(host=settings.QDRANT_DATABASE_HOST, port=settings.QDRANT_DATABASE_PORT, api_key=api_key)
    raise VectorStoreError(
        "qdrant-client is the adapter for a Qdrant server or Qdrant Cloud; the embedded default is Qdrant Edge "
        "(build the store with build_vector_store(settings), or set QDRANT_DATABASE_HOST)."
    )


def to_qdrant_filter(filters: Filters | None) -> models.Filter | None:
    """{field: value | [values]} → a Qdrant filter that requires every field to match."""
    if not filters:
        return None
    return models.Filter(
        must=[
            models.FieldCondition(
                key=key, match=models.MatchAny(any=value) if isinstance(value, list) else models.MatchValue(value=value)
            )
            for key, value in filter_matches(filters)
        ]
    )


def _sparse(indices: list[int], values: list[float]) -> models.SparseVector:
    return models.SparseVector(indices=indices, values=values)


class QdrantVectorStore:
    """Implements the VectorStore port on qdrant-client; every write waits for Qdrant to acknowledge it."""

    def __init__(self, client: QdrantClient, *, is_local: bool, upsert_batch_size: int = 256) -> None:
        self._client = client
        self._is_local = is_local
        self._batch_size = upsert_batch_size
        self._known: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> "QdrantVectorStore":
        """The store on the Qdrant server or cloud that the settings name."""
        return cls(build_qdrant_client(settings), is_local=False)

    @classmethod
    def local(cls, path: Path | None = None) -> "QdrantVectorStore":
        """qdrant-client's pure-Python local mode, in memory (None) or in a folder: for tests and benchmarks."""
        if path is None:
            return cls(QdrantClient(":memory:"), is_local=True)
        path.mkdir(parents=True, exist_ok=True)
        return cls(QdrantClient(path=str(path)), is_local=True)

    @property
    def client(self) -> QdrantClient:
        """The underlying qdrant_client client."""
        return self._client

    def close(self) -> None:
        """Close the client and its connections (or the local storage)."""
        self._client.close()

    def collection_names(self) -> list[str]:
        """The names of the collections, sorted."""
        return sorted(collection.name for collection in self._client.get_collections().collections)

    def ensure_collection(self, name: str, vector_size: int | None, *, sparse: bool = False) -> None:
        """Create the collection if missing: cosine `dense` vectors of `vector_size` (None: none), `bm25` if sparse."""
        if name in self._known:
            return
        if self._client.collection_exists(name) and not self._has_schema(name, vector_size, sparse=sparse):
            # Written before the named dense + sparse scheme: its points are derived data, and their cleaned
            # records carry an older feature version, so the feature pipeline rebuilds them.
            logger.warning("Qdrant collection {} predates the dense + BM25 scheme: recreating it.", name)
            self._client.delete_collection(name)
        if not self._client.collection_exists(name):
            self._create(name, vector_size, sparse=sparse)
        self._known.add(name)

    def _create(self, name: str, vector_size: int | None, *, sparse: bool) -> None:
        vectors = (
            {}
            if vector_size is None
            else {DENSE_VECTOR: models.VectorParams(size=vector_size, distance=models.Distance.COSINE)}
        )
        sparse_vectors = {SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)} if sparse else None
        self._client.create_collection(
            collection_name=name, vectors_config=vectors, sparse_vectors_config=sparse_vectors
        )
        logger.info(
            "Created Qdrant collection {} ({}{}).",
            name,
            "payload only" if vector_size is None else f"{vector_size}-d cosine",
            " + BM25 sparse" if sparse else "",
        )
        if not self._is_local:
            # Local mode has no payload indexes (it filters by scanning); servers need them for speed.
            for field in INDEXED_FIELDS:
                self._client.create_payload_index(name, field, field_schema=models.PayloadSchemaType.KEYWORD)

    def _has_schema(self, name: str, vector_size: int | None, *, sparse: bool) -> bool:
        """True when the collection holds the wanted vectors; raises when only the dimension differs."""
        params = self._client.get_collection(name).config.params
        dense = params.vectors.get(DENSE_VECTOR) if isinstance(params.vectors, dict) else None
        if vector_size is not None:
            if dense is None:
                return False
            if dense.size != vector_size:
                raise VectorStoreError(
                    f"Collection {name} holds {dense.size}-d vectors but the embedder makes {vector_size}-d ones. "
                    "Rebuild the feature store (feature pipeline with full: true) after changing "
                    "TEXT_EMBEDDING_MODEL_ID."
                )
        return not sparse or SPARSE_VECTOR in (params.sparse_vectors or {})

    def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        """Write records in batches; a failed batch raises with the collection named."""
        for start in range(0, len(records), self._batch_size):
            batch = records[start : start + self._batch_size]
            points = [
                models.PointStruct(id=str(r.id), vector=named_vectors(r, _sparse), payload=r.payload) for r in batch
            ]
            try:
                self._client.upsert(collection_name=collection, points=points, wait=True)
            except (UnexpectedResponse, ResponseHandlingException, ValueError) as error:
                raise VectorStoreError(f"Upsert of {len(points)} points into {collection} failed: {error}") from error

    def delete_where(self, collection: str, filters: Filters) -> None:
        """Delete every point whose payload matches; refuses an empty filter (that would wipe all)."""
        selector = to_qdrant_filter(filters)
        if selector is None:
            raise VectorStoreError("delete_where needs at least one filter field.")
        if not self._client.collection_exists(collection):
            return
        self._client.delete(
            collection_name=collection, points_selector=models.FilterSelector(filter=selector), wait=True
        )

    def scroll(
        self,
        collection: str,
        *,
        filters: Filters | None = None,
        page_size: int = 256,
        with_vectors: bool = False,
        payload_fields: Sequence[str] | None = None,
    ) -> Iterator[VectorRecord]:
        """Every matching point, fetched page by page; `payload_fields` limits what each point carries."""
        if not self._client.collection_exists(collection):
            return
        selector = to_qdrant_filter(filters)
        yield from scroll_records(
            lambda offset: self._client.scroll(
                collection_name=collection,
                scroll_filter=selector,
                limit=page_size,
                offset=offset,
                with_payload=list(payload_fields) if payload_fields is not None else True,
                with_vectors=with_vectors,
            )
        )

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        *,
        k: int = 5,
        filters: Filters | None = None,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """The k nearest points by cosine similarity, among those matching the filter; payloads on request."""
        return self._nearest(collection, list(vector), DENSE_VECTOR, k, filters, with_payload)

    def sparse_search(
        self,
        collection: str,
        sparse: SparseVector,
        *,
        k: int = 5,
        filters: Filters | None = None,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """The k best points by BM25 (the collection's IDF modifier applied), among those matching the filter."""
        query = _sparse(sparse.indices, sparse.values)
        return self._nearest(collection, query, SPARSE_VECTOR, k, filters, with_payload)

    def _nearest(
        self, collection: str, query: Any, using: str, k: int, filters: Filters | None, with_payload: bool
    ) -> list[SearchHit]:
        if not self._client.collection_exists(collection):
            return []
        response = self._client.query_points(
            collection_name=collection,
            query=query,
            using=using,
            query_filter=to_qdrant_filter(filters),
            limit=k,
            with_payload=with_payload,
        )
        return [SearchHit(record=record_from_point(point), score=point.score) for point in response.points]

    def hybrid_search(
        self,
        collection: str,
        vector: Sequence[float],
        sparse: SparseVector,
        *,
        k: int = 5,
        filters: Filters | None = None,
        candidates: int = 50,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """Dense and BM25 candidates (each filtered), fused by reciprocal rank: one query_points call."""
        if not self._client.collection_exists(collection):
            return []
        selector = to_qdrant_filter(filters)
        response = self._client.query_points(
            collection_name=collection,
            prefetch=[
                models.Prefetch(query=list(vector), using=DENSE_VECTOR, filter=selector, limit=candidates),
                models.Prefetch(
                    query=_sparse(sparse.indices, sparse.values), using=SPARSE_VECTOR, filter=selector, limit=candidates
                ),
            ],
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
            limit=k,
            with_payload=with_payload,
        )
        return [SearchHit(record=record_from_point(point), score=point.score) for point in response.points]

    def retrieve(self, collection: str, ids: Sequence[UUID]) -> list[VectorRecord]:
        """The points with these ids and their payloads (no vectors), in the order given; missing ids are skipped."""
        if not ids or not self._client.collection_exists(collection):
            return []
        points = self._client.retrieve(collection_name=collection, ids=[str(i) for i in ids], with_payload=True)
        return ordered_as(ids, [record_from_point(point) for point in points])

    def count(self, collection: str, filters: Filters | None = None) -> int:
        """The exact number of points matching the filter; 0 when the collection does not exist."""
        if not self._client.collection_exists(collection):
            return 0
        return self._client.count(collection_name=collection, count_filter=to_qdrant_filter(filters), exact=True).count

    def optimize(self, collection: str) -> None:
        """A Qdrant server indexes in the background, and local mode has no indexes: nothing to do."""
