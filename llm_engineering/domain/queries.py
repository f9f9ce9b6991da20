"""User queries for retrieval."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Query(BaseModel):
    """A question to answer from the feature store, optionally restricted to one author."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str = Field(min_length=1)
    author_id: UUID | None = None
    author_full_name: str | None = None
