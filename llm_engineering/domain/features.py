"""Feature-store records: cleaned documents, chunks and embedded chunks."""

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.domain.types import DataCategory


class FeatureModel(BaseModel):
    """Base of the feature models: frozen, and unknown fields are rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CleanedDocument(FeatureModel):
    """A raw document reduced to clean text; its id is the raw document's id."""

    id: UUID
    category: DataCategory
    author_id: UUID
    author_full_name: str
    platform: str
    link: str
    content: str
    source_hash: str = Field(description="content_hash of the raw document this was cleaned from")
    metadata: dict[str, Any] = Field(default_factory=dict)


class Chunk(FeatureModel):
    """The chunk_index-th piece of a cleaned document; id = chunk_id(document_id, chunk_index)."""

    id: UUID
    document_id: UUID
    chunk_index: int = Field(ge=0)
    category: DataCategory
    author_id: UUID
    author_full_name: str
    platform: str
    link: str
    content: str
    source_hash: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ScoredChunk(FeatureModel):
    """A search hit: the chunk payload and its similarity score."""

    chunk: Chunk
    score: float
