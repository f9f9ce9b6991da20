"""Qdrant feature-store adapter: local mode on disk by default, server or cloud when configured."""

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from loguru import logger
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from llm_engineering.domain.exceptions import VectorStoreError
from llm_engineering.domain.ports import Filters, SearchHit, VectorRecord
from llm_engineering.settings import Settings

# Payload fields filtered on by the pipelines and the retriever.
INDEXED_FIELDS = ("author_id", "document_id", "author_full_name")


def build_qdrant_client(settings: Settings) -> QdrantClient:
    """Cloud, server or on-disk local mode, following the settings."""
    backend = settings.qdrant_backend
    api_key = settings.QDRANT_APIKEY.get_secret_value() if settings.QDRANT_APIKEY else None
    try:
        if backend == "cloud":
            return QdrantClient(url=settings.QDRANT_CLOUD_URL, api_key=api_key)
        if backend == "server":
            return QdrantClient(host=settings.QDRANT_DATABASE_HOST, port=settings.QDRANT_DATABASE_PORT, api_key=api_key)
        path = settings.data_dir / "qdrant"
        path.mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(path))
    except RuntimeError as error:
        # Local mode takes a file lock: a second process on the same folder fails here.
        raise VectorStoreError(
            f"Cannot open the local Qdrant store in {settings.data_dir / 'qdrant'}: {error}. "
            "Another process (a pipeline or the API) holds it; stop it or set QDRANT_DATABASE_HOST to a Qdrant server."
        ) from error


def to_qdrant_filter(filters: Filters | None) -> models.Filter | None:
    """{field: value | [values]} → a Qdrant filter that requires every field to match."""
    if not filters:
        return None
    conditions: list[models.Condition] = []
    for key, value in filters.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            match: Any = models.MatchAny(any=[str(v) if isinstance(v, UUID) else v for v in value])
        else:
            match = models.MatchValue(value=str(value) if isinstance(value, UUID) else value)
        conditions.append(models.FieldCondition(key=key, match=match))
    return models.Filter(must=conditions)


class QdrantVectorStore:
    """Implements the VectorStore port; every write waits for Qdrant to acknowledge it."""

    def __init__(self, client: QdrantClient, *, is_local: bool, upsert_batch_size: int = 256) -> None:
        self._client = client
        self._is_local = is_local
        self._batch_size = upsert_batch_size
        self._known: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> "QdrantVectorStore":
        return cls(build_qdrant_client(settings), is_local=settings.qdrant_backend == "local")

    @property
    def client(self) -> QdrantClient:
        return self._client

    def close(self) -> None:
        self._client.close()

    def collection_names(self) -> list[str]:
        return sorted(collection.name for collection in self._client.get_collections().collections)

    def ensure_collection(self, name: str, vector_size: int | None) -> None:
        """Create the collection if missing: cosine vectors of `vector_size`, or payload only."""
        if name in self._known:
            return
        if not self._client.collection_exists(name):
            vectors: Any = (
                {} if vector_size is None else models.VectorParams(size=vector_size, distance=models.Distance.COSINE)
            )
            self._client.create_collection(collection_name=name, vectors_config=vectors)
            logger.info(
                "Created Qdrant collection {} ({}).",
                name,
                "payload only" if vector_size is None else f"{vector_size}-d cosine",
            )
            if not self._is_local:
                # Local mode has no payload indexes (it filters by scanning); servers need them for speed.
                for field in INDEXED_FIELDS:
                    self._client.create_payload_index(name, field, field_schema=models.PayloadSchemaType.KEYWORD)
        else:
            self._check_dimension(name, vector_size)
        self._known.add(name)

    def _check_dimension(self, name: str, vector_size: int | None) -> None:
        if vector_size is None:
            return
        params = self._client.get_collection(name).config.params.vectors
        size = getattr(params, "size", None)
        if size is not None and size != vector_size:
            raise VectorStoreError(
                f"Collection {name} holds {size}-d vectors but the embedder makes {vector_size}-d ones. "
                "Rebuild the feature store (feature pipeline with --full) after changing TEXT_EMBEDDING_MODEL_ID."
            )

    def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        """Write records in batches; a failed batch raises with the collection named."""
        for start in range(0, len(records), self._batch_size):
            batch = records[start : start + self._batch_size]
            points = [
                models.PointStruct(
                    id=str(record.id), vector=record.vector if record.vector is not None else {}, payload=record.payload
                )
                for record in batch
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
        offset: Any = None
        while True:
            points, offset = self._client.scroll(
                collection_name=collection,
                scroll_filter=to_qdrant_filter(filters),
                limit=page_size,
                offset=offset,
                with_payload=list(payload_fields) if payload_fields is not None else True,
                with_vectors=with_vectors,
            )
            for point in points:
                vector = point.vector if isinstance(point.vector, list) else None
                yield VectorRecord(id=UUID(str(point.id)), payload=dict(point.payload or {}), vector=vector)  # type: ignore[arg-type]
            if offset is None:
                return

    def search(
        self, collection: str, vector: Sequence[float], *, k: int = 5, filters: Filters | None = None
    ) -> list[SearchHit]:
        """The k nearest points by cosine similarity, among those matching the filter."""
        response = self._client.query_points(
            collection_name=collection,
            query=list(vector),
            query_filter=to_qdrant_filter(filters),
            limit=k,
            with_payload=True,
        )
        return [
            SearchHit(record=VectorRecord(id=UUID(str(point.id)), payload=dict(point.payload or {})), score=point.score)
            for point in response.points
        ]

    def count(self, collection: str, filters: Filters | None = None) -> int:
        if not self._client.collection_exists(collection):
            return 0
        return self._client.count(collection_name=collection, count_filter=to_qdrant_filter(filters), exact=True).count
