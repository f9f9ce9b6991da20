"""The review desk in the domain's terms: what a reviewer asks for and sees, and the port the service calls.

The review page and the JSON API under /api/reviews use the port; the dataset use case implements it over the
registry's newest datasets, the warehouse's documents and the stored reviews; nothing here does I/O.
"""

from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.domain.datasets import DatasetType, GenerationStrategy
from llm_engineering.domain.reviews import ReviewStatus, Verdict
from llm_engineering.domain.types import DataCategory

# The strategy of rows made before it was recorded, in the per-strategy counts.
UNRECORDED_STRATEGY = "unrecorded"
MAX_PAGE_SIZE = 200


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SampleFilter(_View):
    """Which rows: of one dataset kind, one author, one category; None means any."""

    kind: DatasetType | None = None
    author: str | None = None
    category: DataCategory | None = None


class SampleQuery(SampleFilter):
    """A page of rows in the datasets' own order: those with `status` (None: any), after the row `after` if given."""

    status: ReviewStatus | None = ReviewStatus.PENDING
    # A row id: the page starts after that row, wherever it stands now (a reviewed row leaves the pending list,
    # and a reviewer going through it must not skip or repeat rows because of that).
    after: str | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class VerdictSubmission(_View):
    """A reviewer's verdict on one row, made on the row's review `version` they saw (0: it had none)."""

    verdict: Verdict
    reviewer: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=0)
    # Edits only: the corrected instruction (a pair's prompt) and answer (a pair's chosen side); None keeps the row's.
    instruction: str | None = None
    answer: str | None = None


class ReviewView(_View):
    """The stored review of a row: who decided what, when, and the version a later save must name."""

    verdict: Verdict
    reviewer: str
    reviewed_at: datetime
    version: int
    instruction: str | None = None
    answer: str | None = None


class SampleView(_View):
    """One row as a reviewer sees it, with its status and review.

    For a preference pair `instruction` is the prompt, `answer` the author's side (chosen) and `rejected` the generic
    one; an instruction row has no `rejected`.
    """

    id: str
    kind: DatasetType
    split: Literal["train", "test"]
    category: DataCategory
    strategy: GenerationStrategy | None
    document_id: UUID
    # None when the source document is no longer in the warehouse.
    author_full_name: str | None
    link: str | None
    instruction: str
    answer: str
    rejected: str | None = None
    status: ReviewStatus
    # The version a verdict on this row must name: the stored review's, 0 when it has none.
    version: int
    review: ReviewView | None = None


class SourceExcerpt(_View):
    """The part of the row's source document where its answer comes from (else the document's beginning)."""

    found: bool
    link: str | None = None
    platform: str | None = None
    title: str | None = None
    excerpt: str = ""
    # Whether the answer's opening words were found in the document, so the excerpt is centred on them.
    answer_found: bool = False


class SampleDetail(SampleView):
    """One row with its source excerpt, and its review as stored now."""

    source: SourceExcerpt


class DatasetInfo(_View):
    """A loaded dataset: its kind, the registry's version of it, and how many rows it has."""

    kind: DatasetType
    version: str
    rows: int


class SamplePage(_View):
    """A page of rows, the number matching the query before paging, and the datasets they come from."""

    items: list[SampleView]
    total: int
    offset: int
    limit: int
    datasets: list[DatasetInfo]
    notes: list[str] = Field(default_factory=list)


class StatusCounts(_View):
    """How many rows have each status, and the share of the reviewed ones accepted as generated (None: none yet)."""

    total: int = 0
    reviewed: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    pending: int = 0
    acceptance_rate: float | None = None


class StrategyProgress(StatusCounts):
    """The counts of the rows one generation strategy made."""

    strategy: str


class KindProgress(StatusCounts):
    """The counts of one dataset kind, overall and per generation strategy."""

    kind: DatasetType
    version: str
    strategies: list[StrategyProgress]


class ReviewProgress(_View):
    """Review progress per dataset kind (under the filter), and the authors and categories the datasets have."""

    kinds: list[KindProgress]
    authors: list[str]
    categories: list[DataCategory]
    notes: list[str] = Field(default_factory=list)


class ReviewDesk(Protocol):
    """Rows of the newest generated datasets with their reviews: list, read, judge, count."""

    def list_samples(self, query: SampleQuery) -> SamplePage:
        """The page of rows the query asks for, in the datasets' order."""
        ...

    def get_sample(self, sample_id: str) -> SampleDetail:
        """One row with its source excerpt and its stored review; ReviewSampleNotFoundError for an unknown id."""
        ...

    def submit_verdict(self, sample_id: str, submission: VerdictSubmission) -> SampleView:
        """Store the verdict and return the row as it now stands.

        ReviewConflictError when someone saved the row after the version it names, InvalidReviewError when the
        verdict cannot apply to the row, ReviewSampleNotFoundError for an unknown id.
        """
        ...

    def progress(self, selection: SampleFilter) -> ReviewProgress:
        """How many of the selected rows are reviewed, per kind and generation strategy."""
        ...

    def close(self) -> None:
        """Release what the desk holds (its warehouse connection)."""
        ...
