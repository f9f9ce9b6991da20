"""User queries for retrieval and the dataset rows the twin is trained on."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.domain.types import DataCategory


class Query(BaseModel):
    """A question to answer from the feature store, optionally restricted to one author."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str = Field(min_length=1)
    author_id: UUID | None = None
    author_full_name: str | None = None


class InstructSample(BaseModel):
    """One supervised fine-tuning row (`instruction` → `output`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instruction: str
    output: str
    category: DataCategory
    document_id: UUID


class PreferenceSample(BaseModel):
    """One DPO row: the author's own text is `chosen`, a generic answer is `rejected`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str
    chosen: str
    rejected: str
    category: DataCategory
    document_id: UUID
