"""People's verdicts on dataset rows, keyed by the row's content so that they outlive a regenerated dataset.

A review names its row by (source document, dataset kind, hash of the row's text): the same row generated again has
the same key and keeps its review; a row whose text changed has a new key and is pending again.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llm_engineering.domain.datasets import DatasetType, InstructSample, PreferenceSample
from llm_engineering.domain.ids import content_hash, sample_id

# What training does with the reviews (the training config's dataset.reviews): ignore them; apply them (drop the
# rejected rows, use the edits, keep the unreviewed rows); or require them (train on accepted and edited rows only).
ReviewPolicy = Literal["ignore", "apply", "require"]


class Verdict(StrEnum):
    """What a reviewer decided about one row."""

    ACCEPT = "accept"
    REJECT = "reject"
    # A corrected instruction and/or answer; for a preference pair, the prompt and/or a chosen answer written by hand.
    EDIT = "edit"
    # Preference pairs only: the generic answer is the better one, so chosen and rejected change places.
    SWAP = "swap"


class ReviewStatus(StrEnum):
    """Where a row stands once its review (or the lack of one) is known; what the counts count."""

    ACCEPTED = "accepted"
    EDITED = "edited"
    REJECTED = "rejected"
    PENDING = "pending"


class SampleKey(BaseModel):
    """The stable identity of a dataset row: its source document, its kind and the hash of its text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: UUID
    kind: DatasetType
    content_hash: str = Field(min_length=1)

    @property
    def id(self) -> str:
        """The key as one deterministic id, the review's id in the warehouse."""
        return str(sample_id(self.document_id, self.kind, self.content_hash))


def sample_key(sample: InstructSample | PreferenceSample) -> SampleKey:
    """The key of a row: every text column is hashed, and nothing else (category and strategy follow the document)."""
    if isinstance(sample, InstructSample):
        return SampleKey(
            document_id=sample.document_id,
            kind="instruction",
            content_hash=content_hash({"instruction": sample.instruction, "output": sample.output}),
        )
    return SampleKey(
        document_id=sample.document_id,
        kind="preference",
        content_hash=content_hash({"prompt": sample.prompt, "chosen": sample.chosen, "rejected": sample.rejected}),
    )


class Review(BaseModel):
    """One reviewer's verdict on one row, as stored in the warehouse.

    `version` is the stored version the verdict was made on: 0 for a row that had no review. Saving stores it as
    version + 1, and a save made on an older version than the stored one is refused, so that two reviewers of the
    same row never overwrite each other silently.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: SampleKey
    verdict: Verdict
    # Edits only. The corrected instruction (a preference pair's prompt) and the corrected answer (a pair's chosen
    # side, written by hand); one of them may be left out to keep the row's own.
    instruction: str | None = None
    answer: str | None = None
    reviewer: str = Field(min_length=1)
    reviewed_at: datetime
    version: int = Field(default=0, ge=0)

    @field_validator("reviewer")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a review needs the reviewer's name")
        return value.strip()

    @field_validator("reviewed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("reviewed_at needs a time zone (UTC), so reviews from different machines compare")
        return value

    @model_validator(mode="after")
    def _verdict_fits(self) -> "Review":
        texts = [text for text in (self.instruction, self.answer) if text is not None]
        if self.verdict is Verdict.EDIT:
            if not texts or any(not text.strip() for text in texts):
                raise ValueError(
                    "an edit is empty: give a corrected instruction or answer with some text, or accept or reject "
                    "the row instead"
                )
        elif texts:
            raise ValueError(f"a {self.verdict.value} verdict carries no edited text; use verdict edit to change it")
        if self.verdict is Verdict.SWAP and self.key.kind != "preference":
            raise ValueError("swap exchanges a preference pair's answers; an instruction row has one answer to edit")
        return self

    @property
    def status(self) -> ReviewStatus:
        """How the reviewed row counts: a swap or an edit changed it, so both count as edited."""
        if self.verdict is Verdict.ACCEPT:
            return ReviewStatus.ACCEPTED
        if self.verdict is Verdict.REJECT:
            return ReviewStatus.REJECTED
        return ReviewStatus.EDITED
