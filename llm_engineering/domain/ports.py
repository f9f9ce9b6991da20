"""Ports: what the application needs from outside systems. Adapters live in infrastructure/."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from llm_engineering.domain.documents import Document, UserDocument
from llm_engineering.domain.types import DataCategory

# A filter is {payload field: value or list of accepted values}; all fields must match.
Filters = Mapping[str, Any]


class WriteOutcome(StrEnum):
    """What an upsert did to one document."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class DocumentRepository(Protocol):
    """The data warehouse: authors and their raw documents, upserted by natural key."""

    def upsert_user(self, user: UserDocument) -> UserDocument: ...

    def find_user(self, full_name: str) -> UserDocument | None: ...

    def list_users(self) -> list[UserDocument]: ...

    def upsert_documents(self, documents: Iterable[Document]) -> dict[UUID, WriteOutcome]: ...

    def find_documents(
        self,
        category: DataCategory,
        *,
        author_id: UUID | None = None,
        platform: str | None = None,
        link: str | None = None,
    ) -> list[Document]: ...

    def iter_documents(
        self, category: DataCategory, *, author_id: UUID | None = None, batch_size: int = 500
    ) -> Iterator[Document]: ...

    def delete_documents(self, category: DataCategory, ids: Iterable[UUID]) -> int: ...

    def count_documents(self, category: DataCategory, *, author_id: UUID | None = None) -> int: ...


@dataclass(frozen=True)
class VectorRecord:
    """A point of the vector store: deterministic id, JSON payload, optional vector."""

    id: UUID
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None


@dataclass(frozen=True)
class SearchHit:
    record: VectorRecord
    score: float


class VectorStore(Protocol):
    """The feature store: payload-only and vector collections with filtered search."""

    def ensure_collection(self, name: str, vector_size: int | None) -> None: ...

    def collection_names(self) -> list[str]: ...

    def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None: ...

    def delete_where(self, collection: str, filters: Filters) -> None: ...

    def scroll(
        self, collection: str, *, filters: Filters | None = None, page_size: int = 256, with_vectors: bool = False
    ) -> Iterator[VectorRecord]: ...

    def search(
        self, collection: str, vector: Sequence[float], *, k: int = 5, filters: Filters | None = None
    ) -> list[SearchHit]: ...

    def count(self, collection: str, filters: Filters | None = None) -> int: ...


class Embedder(Protocol):
    """Turns texts into fixed-size vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_input_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]: ...
