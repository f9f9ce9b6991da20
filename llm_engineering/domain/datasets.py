"""Training datasets: instruction rows for SFT and preference triples for DPO, split by source document."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.domain.types import DataCategory

DatasetType = Literal["instruction", "preference"]
# How a row was made: an LLM wrote its instruction (backtranslation) or the whole pair (generate), or the shape of the
# author's document gave it (structure). Recorded beside the row's content, never part of it: reviews key a row by its
# content, and knowing the strategy must not make a reviewed row pending again.
GenerationStrategy = Literal["backtranslation", "generate", "structure"]


class Extract(BaseModel):
    """A passage of an author's own writing, the unit datasets are built from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: UUID
    category: DataCategory
    author_full_name: str
    link: str
    text: str


class InstructSample(BaseModel):
    """One supervised fine-tuning row (`instruction` → `output`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instruction: str
    output: str
    category: DataCategory
    document_id: UUID
    # None: a dataset artifact made before the strategy was recorded.
    strategy: GenerationStrategy | None = None


class PreferenceSample(BaseModel):
    """One DPO row: the author's own text is `chosen`, a generic answer is `rejected`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str
    chosen: str
    rejected: str
    category: DataCategory
    document_id: UUID
    # The strategy of the instruction row the pair was made from; None in artifacts made before it was recorded.
    strategy: GenerationStrategy | None = None


class InstructSplit(BaseModel):
    """The train and test samples of an instruction dataset."""

    model_config = ConfigDict(extra="forbid")

    train: list[InstructSample] = Field(default_factory=list)
    test: list[InstructSample] = Field(default_factory=list)


class PreferenceSplit(BaseModel):
    """The train and test samples of a preference dataset."""

    model_config = ConfigDict(extra="forbid")

    train: list[PreferenceSample] = Field(default_factory=list)
    test: list[PreferenceSample] = Field(default_factory=list)


class InstructDataset(BaseModel):
    """Per-category train/test splits; no source document appears on both sides."""

    model_config = ConfigDict(extra="forbid")

    splits: dict[DataCategory, InstructSplit] = Field(default_factory=dict)


class PreferenceDataset(BaseModel):
    """Per-category train/test splits of preference triples."""

    model_config = ConfigDict(extra="forbid")

    splits: dict[DataCategory, PreferenceSplit] = Field(default_factory=dict)
