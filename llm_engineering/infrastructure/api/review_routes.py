"""The review API under /api/reviews, and the review page at /review that uses it.

The page is one static file that holds no data: like the chat page it asks for the API key, and every row it shows
comes through /api/reviews, which needs the key. The routes are plain functions: FastAPI runs them in worker
threads, where the desk's warehouse and registry calls may block.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from loguru import logger

from llm_engineering.domain.datasets import DatasetType
from llm_engineering.domain.exceptions import (
    DatasetSourceError,
    DataWarehouseUnavailableError,
    InvalidReviewError,
    LLMTwinError,
    ReviewConflictError,
    ReviewSampleNotFoundError,
)
from llm_engineering.domain.review_desk import (
    MAX_PAGE_SIZE,
    ReviewProgress,
    SampleDetail,
    SampleFilter,
    SamplePage,
    SampleQuery,
    SampleView,
    VerdictSubmission,
)
from llm_engineering.domain.reviews import ReviewStatus
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.api.dependencies import ReviewDeskDep

reviews = APIRouter(prefix="/api/reviews", tags=["reviews"])
review_page = APIRouter()

AuthorParam = Annotated[str | None, Query(description="an author's full name")]


@contextmanager
def review_errors() -> Iterator[None]:
    """The desk's failures as HTTP errors: a stale save is 409 with the message that says who saved first."""
    try:
        yield
    except ReviewConflictError as error:
        raise HTTPException(status_code=409, detail=str(error)) from None
    except ReviewSampleNotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except InvalidReviewError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    except DatasetSourceError as error:
        raise HTTPException(status_code=503, detail=str(error)) from None
    except DataWarehouseUnavailableError as error:
        logger.warning("the review desk lost the warehouse: {}", error)
        raise HTTPException(status_code=503, detail="The warehouse is unavailable; retry later.") from None
    except LLMTwinError as error:
        logger.warning("the review desk failed: {}", error)
        raise HTTPException(status_code=503, detail="The review desk cannot answer right now; retry later.") from None


@review_page.get("/review", response_class=HTMLResponse, include_in_schema=False)
async def review_page_html() -> HTMLResponse:
    """The static review page; it holds no data and asks for the API key when the service needs one."""
    return HTMLResponse(files("llm_engineering.infrastructure.api").joinpath("static/review.html").read_text())


@reviews.get("/samples")
def list_samples(
    desk: ReviewDeskDep,
    kind: DatasetType | None = None,
    author: AuthorParam = None,
    category: DataCategory | None = None,
    status: ReviewStatus | Literal["all"] = ReviewStatus.PENDING,
    after: Annotated[str | None, Query(description="a row id: the page starts after that row")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> SamplePage:
    """A page of rows of the newest datasets with this status (pending by default; `all` for any), filtered."""
    query = SampleQuery(
        kind=kind,
        author=author,
        category=category,
        status=None if status == "all" else status,
        after=after,
        offset=offset,
        limit=limit,
    )
    with review_errors():
        return desk.list_samples(query)


@reviews.get("/samples/{sample_id}")
def get_sample(sample_id: str, desk: ReviewDeskDep) -> SampleDetail:
    """One row with its source document's excerpt and its review as stored now (its `version` goes with a verdict)."""
    with review_errors():
        return desk.get_sample(sample_id)


@reviews.post("/samples/{sample_id}/verdict")
def submit_verdict(sample_id: str, body: VerdictSubmission, desk: ReviewDeskDep) -> SampleView:
    """Store a verdict made on the row's review `version`; 409 when someone saved the row since that version."""
    with review_errors():
        return desk.submit_verdict(sample_id, body)


@reviews.get("/progress")
def progress(
    desk: ReviewDeskDep,
    kind: DatasetType | None = None,
    author: AuthorParam = None,
    category: DataCategory | None = None,
) -> ReviewProgress:
    """How many of the selected rows are reviewed, per dataset kind and generation strategy, with acceptance rates."""
    with review_errors():
        return desk.progress(SampleFilter(kind=kind, author=author, category=category))
