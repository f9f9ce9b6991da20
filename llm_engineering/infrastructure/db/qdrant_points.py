"""What both Qdrant adapters store, and how the port's records and filters become it.

qdrant-client and Qdrant Edge each have their own point, vector and filter classes, but the same named vectors, the
same fusion constant and the same meaning of a filter: this module is their one home, and each adapter only wraps
the result in its library's classes.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from llm_engineering.domain.ports import Filters, SparseVector, VectorRecord

# The named vectors of an embedded collection, the same in every backend.
DENSE_VECTOR = "dense"
SPARSE_VECTOR = "bm25"
# Payload fields with a keyword index in every backend: the feature pipeline deletes by document, and the retriever
# and the dataset builders filter by author.
INDEXED_FIELDS = ("author_id", "document_id")
# Reciprocal rank fusion constant: the usual 60 (qdrant-client local mode would use 2 if left unset).
RRF_K = 60


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def filter_matches(filters: Filters) -> list[tuple[str, Any]]:
    """Each filtered field with what it must match: one value, or a list of values any of which will do.

    UUIDs become their text, as the payloads hold them; every field must match.
    """
    return [
        (key, [_plain(v) for v in value] if isinstance(value, (list, tuple, set, frozenset)) else _plain(value))
        for key, value in filters.items()
    ]


def record_from_point(point: Any) -> VectorRecord:
    """A point as either library returns it (id, payload, named vectors) → the port's record."""
    vectors = point.vector if isinstance(point.vector, dict) else {}
    dense = vectors.get(DENSE_VECTOR)
    sparse = vectors.get(SPARSE_VECTOR)
    return VectorRecord(
        id=point.id if isinstance(point.id, UUID) else UUID(str(point.id)),
        payload=dict(point.payload or {}),
        vector=list(dense) if dense is not None else None,
        sparse=SparseVector(indices=list(sparse.indices), values=list(sparse.values)) if sparse is not None else None,
    )


def scroll_records(page: Callable[[Any], tuple[Sequence[Any], Any]]) -> Iterator[VectorRecord]:
    """Every point of a scroll as records: `page(offset)` fetches one page and the next offset (None: the last)."""
    offset: Any = None
    while True:
        points, offset = page(offset)
        yield from (record_from_point(point) for point in points)
        if offset is None:
            return


def ordered_as(ids: Sequence[UUID], records: Sequence[VectorRecord]) -> list[VectorRecord]:
    """The records in the order of `ids` (a retrieve by ids may return them in any order); missing ids skipped."""
    by_id = {record.id: record for record in records}
    return [by_id[i] for i in ids if i in by_id]


def named_vectors(record: VectorRecord, sparse_vector: Callable[[list[int], list[float]], Any]) -> dict[str, Any]:
    """The record's vectors by name; `sparse_vector` builds the library's sparse vector from indices and values."""
    vectors: dict[str, Any] = {}
    if record.vector is not None:
        vectors[DENSE_VECTOR] = record.vector
    if record.sparse is not None:
        vectors[SPARSE_VECTOR] = sparse_vector(record.sparse.indices, record.sparse.values)
    return vectors
