"""The review desk over in-memory ports: rows listed and filtered, joined to their documents, judged with a version
check, counted per strategy, and reloaded when the registry has a newer dataset."""

from datetime import UTC, datetime

import pytest

from llm_engineering.application.dataset.review_desk import DatasetReviewDesk, source_excerpt
from llm_engineering.domain.datasets import InstructDataset, InstructSplit
from llm_engineering.domain.exceptions import InvalidReviewError, ReviewConflictError, ReviewSampleNotFoundError
from llm_engineering.domain.review_desk import SampleFilter, SampleQuery, VerdictSubmission
from llm_engineering.domain.reviews import Review, ReviewStatus, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from tests.fakes import MemoryDatasetArtifacts, MemoryDocuments, MemoryReviewStore
from tests.review_support import FORECAST, GENERIC_KAFKA, JOINS, KAFKA, MEASURE, SPOT, ReviewMaterial, review_material

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Desk:
    """A desk on fakes, with the material saved as version 1 of each dataset."""

    def __init__(self, material: ReviewMaterial | None = None, *, refresh_s: float = 10.0, documents: bool = True):
        self.material = material or review_material()
        self.artifacts = MemoryDatasetArtifacts()
        self.artifacts.save("instruction", self.material.instruct)
        self.artifacts.save("preference", self.material.preference)
        self.store = MemoryReviewStore()
        self.clock = Clock()
        self.desk = DatasetReviewDesk(
            self.artifacts,
            self.store,
            MemoryDocuments(self.material.documents if documents else []),
            refresh_s=refresh_s,
            excerpt_chars=200,
            clock=self.clock,
            now=lambda: NOW,
        )

    def pending(self, **query: object) -> list[str]:
        return [item.answer for item in self.desk.list_samples(SampleQuery.model_validate(query)).items]

    def id_of(self, answer: str) -> str:
        """The id of the first row with this answer (an instruction row before a pair)."""
        rows = self.desk.list_samples(SampleQuery(status=None)).items
        return next(item.id for item in rows if item.answer == answer)

    def judge(
        self, row_answer: str, verdict: Verdict, *, version: int = 0, reviewer: str = "Maya", **texts: str
    ) -> None:
        submission = VerdictSubmission(verdict=verdict, reviewer=reviewer, version=version, **texts)
        self.desk.submit_verdict(self.id_of(row_answer), submission)


def test_pending_rows_come_in_the_datasets_order_with_their_authors_and_filters_narrow_them() -> None:
    desk = Desk()
    page = desk.desk.list_samples(SampleQuery())
    assert [item.answer for item in page.items] == [MEASURE, SPOT, FORECAST, KAFKA, KAFKA, JOINS]
    assert page.total == 6 and page.notes == []
    assert [(info.kind, info.version, info.rows) for info in page.datasets] == [
        ("instruction", "instruction datasets version 1", 4),
        ("preference", "preference datasets version 1", 2),
    ]
    first, pair = page.items[0], page.items[4]
    assert (first.kind, first.split, first.author_full_name, first.strategy) == (
        "instruction",
        "train",
        "Maya Okafor",
        "backtranslation",
    )
    assert first.link == "https://medium.com/@maya/measure-before-you-tune"
    assert (first.status, first.version, first.review, first.rejected) == (ReviewStatus.PENDING, 0, None, None)
    assert (pair.instruction, pair.answer, pair.rejected) == ("Do small teams need Kafka?", KAFKA, GENERIC_KAFKA)
    assert first.id == sample_key(desk.material.instruct.splits[DataCategory.ARTICLES].train[0]).id

    assert desk.pending(kind="preference") == [KAFKA, JOINS]
    assert desk.pending(author="Theo Brandt") == [KAFKA, KAFKA]
    assert desk.pending(category="articles") == [MEASURE, SPOT, FORECAST]
    assert desk.pending(kind="instruction", category="posts") == [KAFKA]
    assert desk.pending(author="Nobody") == []


def test_pages_go_by_offset_or_after_a_row_and_the_total_counts_every_match() -> None:
    desk = Desk()
    page = desk.desk.list_samples(SampleQuery(offset=2, limit=2))
    assert ([item.answer for item in page.items], page.total) == ([FORECAST, KAFKA], 6)
    first = desk.id_of(MEASURE)
    desk.judge(SPOT, Verdict.ACCEPT)
    # After the first row: the accepted second row has left the pending list, and nothing is skipped.
    after = desk.desk.list_samples(SampleQuery(after=first, limit=2))
    assert ([item.answer for item in after.items], after.total) == ([FORECAST, KAFKA], 5)
    gone = desk.desk.list_samples(SampleQuery(after="no-such-row", limit=1))
    assert [item.answer for item in gone.items] == [MEASURE]
    assert "no longer in the datasets" in gone.notes[0]


def test_a_row_opens_with_its_source_excerpt_around_the_answer() -> None:
    desk = Desk()
    detail = desk.desk.get_sample(desk.id_of(SPOT))
    assert detail.source.found and detail.source.answer_found
    assert (detail.source.title, detail.source.platform) == ("Measure before you tune", "medium")
    assert detail.source.link == "https://medium.com/@maya/measure-before-you-tune"
    assert detail.source.excerpt.startswith("…") and "Spot instances cut the bill" in detail.source.excerpt
    post = desk.desk.get_sample(desk.id_of(JOINS))
    assert post.source.excerpt == JOINS and post.source.title is None


def test_a_row_whose_document_left_the_warehouse_still_opens_and_says_so() -> None:
    desk = Desk(documents=False)
    detail = desk.desk.get_sample(desk.id_of(MEASURE))
    assert detail.author_full_name is None and detail.link is None
    assert not detail.source.found
    assert "no longer in the warehouse" in detail.source.excerpt


def test_verdicts_are_stored_with_the_reviewer_and_change_the_rows_status() -> None:
    desk = Desk()
    desk.judge(MEASURE, Verdict.ACCEPT)
    desk.judge(SPOT, Verdict.EDIT, answer="  Spot instances halved it.\n")
    desk.judge(KAFKA, Verdict.REJECT)  # the instruction row
    pair_id = desk.desk.list_samples(SampleQuery(kind="preference")).items[0].id
    saved = desk.desk.submit_verdict(pair_id, VerdictSubmission(verdict=Verdict.SWAP, reviewer="Theo", version=0))
    assert (saved.status, saved.version) == (ReviewStatus.EDITED, 1)
    assert saved.review is not None and (saved.review.reviewer, saved.review.reviewed_at) == ("Theo", NOW)
    assert desk.pending() == [FORECAST, JOINS]
    edited = desk.desk.list_samples(SampleQuery(status=ReviewStatus.EDITED)).items
    assert [(item.answer, item.review and item.review.answer) for item in edited] == [
        (SPOT, "Spot instances halved it."),
        (KAFKA, None),
    ]
    [rejected] = desk.desk.list_samples(SampleQuery(status=ReviewStatus.REJECTED)).items
    assert rejected.kind == "instruction"
    stored = desk.store.reviews[desk.id_of(MEASURE)]
    assert (stored.verdict, stored.reviewer, stored.version) == (Verdict.ACCEPT, "Maya", 1)


def test_a_stale_save_is_refused_and_the_list_shows_the_saved_verdict() -> None:
    desk = Desk()
    desk.judge(MEASURE, Verdict.ACCEPT, reviewer="Theo")
    with pytest.raises(ReviewConflictError, match="reviewed by Theo"):
        desk.judge(MEASURE, Verdict.REJECT, version=0)
    detail = desk.desk.get_sample(desk.id_of(MEASURE))
    assert (detail.status, detail.version) == (ReviewStatus.ACCEPTED, 1)
    desk.judge(MEASURE, Verdict.REJECT, version=1)  # made on what is stored now: saved
    assert desk.desk.get_sample(desk.id_of(MEASURE)).status is ReviewStatus.REJECTED


@pytest.mark.parametrize(
    ("verdict", "edited_answer", "message"),
    [
        (Verdict.EDIT, "   ", "an edit is empty"),
        (Verdict.EDIT, MEASURE, "changes nothing"),
        (Verdict.EDIT, None, "changes nothing"),
        (Verdict.SWAP, None, "swap exchanges a preference pair"),
        (Verdict.ACCEPT, "Other.", "carries no edited text"),
    ],
)
def test_a_verdict_that_cannot_apply_is_refused_with_one_clear_line(
    verdict: Verdict, edited_answer: str | None, message: str
) -> None:
    desk = Desk()
    submission = VerdictSubmission(verdict=verdict, reviewer="Maya", version=0, answer=edited_answer)
    with pytest.raises(InvalidReviewError, match=message):
        desk.desk.submit_verdict(desk.id_of(MEASURE), submission)
    assert desk.store.reviews == {}


def test_an_unknown_row_is_not_found() -> None:
    desk = Desk()
    with pytest.raises(ReviewSampleNotFoundError, match="reload the list"):
        desk.desk.get_sample("no-such-row")
    with pytest.raises(ReviewSampleNotFoundError):
        desk.desk.submit_verdict("no-such-row", VerdictSubmission(verdict=Verdict.ACCEPT, reviewer="Maya", version=0))


def test_progress_counts_each_kind_and_strategy_with_its_acceptance_rate() -> None:
    desk = Desk()
    desk.judge(MEASURE, Verdict.ACCEPT)
    desk.judge(FORECAST, Verdict.REJECT)
    desk.judge(SPOT, Verdict.ACCEPT)
    progress = desk.desk.progress(SampleFilter())
    instruction, preference = progress.kinds
    assert (instruction.kind, instruction.total, instruction.reviewed, instruction.pending) == ("instruction", 4, 3, 1)
    assert instruction.acceptance_rate == pytest.approx(2 / 3, abs=1e-4)
    by_strategy = {
        s.strategy: (s.total, s.reviewed, s.accepted, s.rejected, s.acceptance_rate) for s in instruction.strategies
    }
    assert by_strategy == {"backtranslation": (3, 2, 1, 1, 0.5), "structure": (1, 1, 1, 0, 1.0)}
    assert (preference.reviewed, preference.acceptance_rate) == (0, None)
    assert progress.authors == ["Maya Okafor", "Theo Brandt"]
    assert progress.categories == [DataCategory.ARTICLES, DataCategory.POSTS]
    [theo] = desk.desk.progress(SampleFilter(kind="instruction", author="Theo Brandt")).kinds
    assert (theo.total, theo.reviewed) == (1, 0)


def test_a_newer_dataset_and_reviews_saved_elsewhere_show_once_the_refresh_time_has_passed() -> None:
    desk = Desk(refresh_s=10)
    assert len(desk.pending()) == 6 and desk.artifacts.loads == 2
    material = desk.material
    regenerated = InstructDataset(
        splits={DataCategory.ARTICLES: InstructSplit(train=material.instruct.splits[DataCategory.ARTICLES].train)}
    )
    desk.artifacts.save("instruction", regenerated)
    row = material.instruct.splits[DataCategory.ARTICLES].train[0]
    desk.store.save_review(Review(key=sample_key(row), verdict=Verdict.ACCEPT, reviewer="Theo", reviewed_at=NOW))
    desk.clock.now = 9.0
    assert len(desk.pending()) == 6  # within refresh_s: the held datasets and reviews
    desk.clock.now = 10.0
    assert desk.pending() == [SPOT, KAFKA, JOINS]
    assert desk.artifacts.loads == 3  # only the kind with a newer version is loaded again
    assert desk.desk.list_samples(SampleQuery()).datasets[0].version == "instruction datasets version 2"


def test_a_row_generated_twice_is_one_row_to_review() -> None:
    material = review_material()
    split = material.instruct.splits[DataCategory.ARTICLES]
    doubled = InstructDataset(splits={DataCategory.ARTICLES: InstructSplit(train=[*split.train, split.train[0]])})
    desk = Desk(ReviewMaterial(material.documents, doubled, material.preference))
    assert desk.pending(kind="instruction") == [MEASURE, SPOT]


def test_with_no_dataset_in_the_registry_the_desk_says_how_to_make_one() -> None:
    desk = Desk()
    desk.artifacts.versions.clear()
    fresh = DatasetReviewDesk(desk.artifacts, desk.store, MemoryDocuments([]), refresh_s=0)
    page = fresh.list_samples(SampleQuery())
    assert page.items == [] and page.total == 0
    assert page.notes == [
        "No instruction dataset in the registry yet: make one with `poe run-generate-instruct-datasets-pipeline`.",
        "No preference dataset in the registry yet: make one with `poe run-generate-preference-datasets-pipeline`.",
    ]
    assert fresh.progress(SampleFilter()).kinds == []


def test_the_excerpt_starts_a_little_before_the_answer_and_marks_its_cuts() -> None:
    text = " ".join(f"word{i}" for i in range(200)) + " The answer starts here and goes on. " + "tail " * 100
    excerpt, found = source_excerpt(text, "The answer starts here", max_chars=120)
    assert found
    assert excerpt.startswith("…word") and excerpt.endswith("…")
    assert "The answer starts here" in excerpt and len(excerpt) <= 122
    beginning, found = source_excerpt(text, "Words that are nowhere in it", max_chars=40)
    assert not found and beginning.startswith("word0 word1") and beginning.endswith("…")
    assert source_excerpt("short text", "short", max_chars=40) == ("short text", True)
