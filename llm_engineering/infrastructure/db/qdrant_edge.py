"""The embedded feature store on Qdrant Edge: the real Qdrant engine in-process, one shard per collection.

A shard is a folder under DATA_DIR/qdrant_edge. Qdrant Edge locks it for one process at a time; the store writes
a small owner file beside each shard it opens, so a second process is told who holds it and what to do.
The lock itself is the operating system's and ends with its process: there is never a lock file to delete.
"""

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import qdrant_edge as edge
from loguru import logger

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
from llm_engineering.infrastructure.local.processes import pid_alive
from llm_engineering.settings import Settings

EDGE_DIR = "qdrant_edge"
# Where the previous embedded default, qdrant-client's local mode, kept its data.
LEGACY_LOCAL_DIR = "qdrant"
CONFIG_FILE = "edge_config.json"
OWNER_SUFFIX = ".owner.json"


def edge_root(settings: Settings) -> Path:
    """The folder holding one Qdrant Edge shard per collection."""
    return settings.data_dir / EDGE_DIR


def legacy_local_store(data_dir: Path) -> Path | None:
    """The folder of a feature store written by qdrant-client's local mode (before Qdrant Edge), if there is one."""
    folder = data_dir / LEGACY_LOCAL_DIR
    return folder if (folder / "meta.json").is_file() else None


def _is_lock_error(error: Exception) -> bool:
    return "WouldBlock" in str(error)


def _edge_filter(filters: Filters | None) -> edge.Filter | None:
    """{field: value | [values]} → a Qdrant Edge filter that requires every field to match."""
    if not filters:
        return None
    return edge.Filter(
        must=[
            edge.FieldCondition(
                key=key, match=edge.MatchAny(value) if isinstance(value, list) else edge.MatchValue(value)
            )
            for key, value in filter_matches(filters)
        ]
    )

    return True


class EdgeVectorStore:
    """Implements the VectorStore port on Qdrant Edge; shards open on first use and stay open until close()."""

    def __init__(self, root: Path, *, lock_wait_s: float = 3.0, upsert_batch_size: int = 1024) -> None:
        self._root = root
        self._lock_wait_s = lock_wait_s
        self._batch_size = upsert_batch_size
        self._shards: dict[str, edge.EdgeShard] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, lock_wait_s: float = 3.0) -> "EdgeVectorStore":
        """The store under DATA_DIR; warns while the old local-mode store is still there."""
        legacy = legacy_local_store(settings.data_dir)
        if legacy is not None:
            logger.warning(
                "{} holds a feature store written by qdrant-client's local mode, which this version no longer reads. "
                "The feature pipeline rebuilds the features into {} from MongoDB on its next run (MongoDB is not "
                "touched); afterwards delete {} to free its space.",
                legacy,
                edge_root(settings),
                legacy,
            )
        return cls(edge_root(settings), lock_wait_s=lock_wait_s)

    @property
    def root(self) -> Path:
        """The directory holding one folder per collection."""
        return self._root

    def close(self) -> None:
        """Close every open shard and release its lock, so another process can open the store."""
        for name, shard in self._shards.items():
            shard.close()
            self._owner_file(name).unlink(missing_ok=True)
        self._shards.clear()

    def collection_names(self) -> list[str]:
        """The collections on disk (folders with a config file), sorted."""
        if not self._root.is_dir():
            return []
        return sorted(path.name for path in self._root.iterdir() if (path / CONFIG_FILE).is_file())

    def _path(self, name: str) -> Path:
        return self._root / name

    def _owner_file(self, name: str) -> Path:
        return self._root / f"{name}{OWNER_SUFFIX}"

    def _open(self, name: str) -> edge.EdgeShard | None:
        """The open shard of a collection, loading it on first use; None when the collection does not exist."""
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        if not (self._path(name) / CONFIG_FILE).is_file():
            return None
        return self._acquire(name, lambda: edge.EdgeShard.load(str(self._path(name))))

    def _acquire(self, name: str, opener: Any) -> edge.EdgeShard:
        """Open a shard, waiting up to lock_wait_s for another process to let go of it."""
        deadline = time.monotonic() + self._lock_wait_s
        while True:
            try:
                shard: edge.EdgeShard = opener()
                break
            except Exception as error:  # qdrant_edge raises plain Exception
                if not _is_lock_error(error):
                    raise VectorStoreError(f"Cannot open the Qdrant Edge shard {self._path(name)}: {error}") from error
                if time.monotonic() >= deadline or self._held_here(name):
                    raise VectorStoreError(self._locked_message(name)) from error
                time.sleep(0.1)
        self._owner_file(name).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": " ".join(sys.argv) or sys.executable,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        self._shards[name] = shard
        return shard

    def _held_here(self, name: str) -> bool:
        try:
            return int(json.loads(self._owner_file(name).read_text())["pid"]) == os.getpid()
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def _locked_message(self, name: str) -> str:
        holder = "another process"
        try:
            owner = json.loads(self._owner_file(name).read_text())
            pid = int(owner["pid"])
            if pid == os.getpid():
                holder = "another store object in this same process (close it first)"
            elif pid_alive(pid):
                holder = f"process {pid} (`{owner.get('command', '?')}`, since {owner.get('since', '?')})"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return (
            f"The embedded feature store {self._path(name)} is open in {holder}. Qdrant Edge lets one process at a "
            "time use it: wait for that process to finish (a pipeline run, llm-twin search or the API), then try "
            "again; or run a Qdrant server, which any number of processes can share (`docker-compose up -d qdrant`, "
            "then set QDRANT_DATABASE_HOST=localhost and rebuild the features with the feature pipeline)."
        )

    def ensure_collection(self, name: str, vector_size: int | None, *, sparse: bool = False) -> None:
        """Create the shard if missing: cosine `dense` vectors of `vector_size`, `bm25` sparse ones with IDF."""
        shard = self._open(name)
        if shard is None:
            self._create(name, vector_size, sparse=sparse)
            return
        self._check_schema(name, shard, vector_size, sparse=sparse)

    def _create(self, name: str, vector_size: int | None, *, sparse: bool) -> None:
        vectors = (
            {}
            if vector_size is None
            else {DENSE_VECTOR: edge.EdgeVectorParams(size=vector_size, distance=edge.Distance.Cosine)}
        )
        # Qdrant Edge needs at least one vector: a payload-only collection gets the (unused) sparse one.
        sparse_vectors = (
            {SPARSE_VECTOR: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)}
            if sparse or vector_size is None
            else None
        )
        config = edge.EdgeConfig(vectors=vectors, sparse_vectors=sparse_vectors)
        self._root.mkdir(parents=True, exist_ok=True)
        shard = self._acquire(name, lambda: edge.EdgeShard.create(str(self._path(name)), config))
        for field in INDEXED_FIELDS:
            shard.update(edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Keyword))
        logger.info(
            "Created Qdrant Edge shard {} ({}{}).",
            self._path(name),
            "payload only" if vector_size is None else f"{vector_size}-d cosine",
            " + BM25 sparse" if sparse else "",
        )

    def _check_schema(self, name: str, shard: edge.EdgeShard, vector_size: int | None, *, sparse: bool) -> None:
        config = json.loads((self._path(name) / CONFIG_FILE).read_text())
        if vector_size is not None:
            size = config.get("vectors", {}).get(DENSE_VECTOR, {}).get("size")
            if size != vector_size:
                raise VectorStoreError(
                    f"Collection {name} holds {size}-d vectors but the embedder makes {vector_size}-d ones. "
                    "Rebuild the feature store (feature pipeline with full: true) after changing "
                    "TEXT_EMBEDDING_MODEL_ID."
                )
        if sparse and SPARSE_VECTOR not in config.get("sparse_vectors", {}):
            shard.update(edge.UpdateOperation.create_sparse_vector(SPARSE_VECTOR, modifier=edge.Modifier.Idf))

    def _require(self, name: str) -> edge.EdgeShard:
        shard = self._open(name)
        if shard is None:
            raise VectorStoreError(f"Collection {name} does not exist: call ensure_collection first.")
        return shard

    def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        """Write records in batches; a failed batch raises with the collection named."""
        shard = self._require(collection)
        for start in range(0, len(records), self._batch_size):
            batch = records[start : start + self._batch_size]
            points = [
                edge.Point(record.id, named_vectors(record, edge.SparseVector), record.payload) for record in batch
            ]
            try:
                shard.update(edge.UpdateOperation.upsert_points(points))
            except Exception as error:  # qdrant_edge raises plain Exception
                raise VectorStoreError(f"Upsert of {len(points)} points into {collection} failed: {error}") from error

    def delete_where(self, collection: str, filters: Filters) -> None:
        """Delete every point whose payload matches; refuses an empty filter (that would wipe all)."""
        selector = _edge_filter(filters)
        if selector is None:
            raise VectorStoreError("delete_where needs at least one filter field.")
        shard = self._open(collection)
        if shard is not None:
            shard.update(edge.UpdateOperation.delete_points_by_filter(selector))

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
        shard = self._open(collection)
        if shard is None:
            return
        selector = _edge_filter(filters)
        yield from scroll_records(
            lambda offset: shard.scroll(
                edge.ScrollRequest(
                    offset=offset,
                    limit=page_size,
                    filter=selector,
                    with_payload=list(payload_fields) if payload_fields is not None else True,
                    with_vector=with_vectors,
                )
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
        query = edge.Query.Nearest(list(vector), using=DENSE_VECTOR)
        return self._nearest(collection, query, k, filters, with_payload)

    def sparse_search(
        self,
        collection: str,
        sparse: SparseVector,
        *,
        k: int = 5,
        filters: Filters | None = None,
        with_payload: bool = True,
    ) -> list[SearchHit]:
        """The k best points by BM25 (the shard's IDF modifier applied), among those matching the filter."""
        query = edge.Query.Nearest(edge.SparseVector(sparse.indices, sparse.values), using=SPARSE_VECTOR)
        return self._nearest(collection, query, k, filters, with_payload)

    def _nearest(
        self, collection: str, query: Any, k: int, filters: Filters | None, with_payload: bool
    ) -> list[SearchHit]:
        shard = self._open(collection)
        if shard is None:
            return []
        request = edge.QueryRequest(limit=k, query=query, filter=_edge_filter(filters), with_payload=with_payload)
        points = shard.query(request)
        return [SearchHit(record=record_from_point(point), score=point.score) for point in points]

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
        """Dense and BM25 candidates (each filtered), fused by reciprocal rank, in one engine query."""
        shard = self._open(collection)
        if shard is None:
            return []
        selector = _edge_filter(filters)
        points = shard.query(
            edge.QueryRequest(
                limit=k,
                prefetches=[
                    edge.Prefetch(
                        limit=candidates, query=edge.Query.Nearest(list(vector), using=DENSE_VECTOR), filter=selector
                    ),
                    edge.Prefetch(
                        limit=candidates,
                        query=edge.Query.Nearest(edge.SparseVector(sparse.indices, sparse.values), using=SPARSE_VECTOR),
                        filter=selector,
                    ),
                ],
                query=edge.Fusion.Rrf(RRF_K),  # type: ignore[arg-type]  # the stubs omit Fusion's variants
                with_payload=with_payload,
            )
        )
        return [SearchHit(record=record_from_point(point), score=point.score) for point in points]

    def retrieve(self, collection: str, ids: Sequence[UUID]) -> list[VectorRecord]:
        """The points with these ids and their payloads (no vectors), in the order given; missing ids are skipped."""
        shard = self._open(collection)
        if not ids or shard is None:
            return []
        points = shard.retrieve(list(ids), with_payload=True, with_vector=False)
        return ordered_as(ids, [record_from_point(point) for point in points])

    def count(self, collection: str, filters: Filters | None = None) -> int:
        """The number of points matching the filter; 0 when the collection does not exist."""
        shard = self._open(collection)
        if shard is None:
            return 0
        return shard.count(edge.CountRequest(exact=True, filter=_edge_filter(filters)))

    def optimize(self, collection: str) -> None:
        """Merge segments and build HNSW and payload indexes after a bulk load; blocks until done."""
        shard = self._open(collection)
        if shard is not None:
            tic = time.perf_counter()
            if shard.optimize():
                logger.info("Optimized {} in {:.2f} s.", collection, time.perf_counter() - tic)
