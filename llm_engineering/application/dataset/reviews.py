"""People's reviews applied to a dataset: the rows training keeps, with their edits, and how many of each status.

`apply` drops the rejected rows, uses the edits and swaps, and keeps the rows nobody reviewed; `require` keeps only the
accepted and edited rows; `ignore` leaves the dataset as it was generated.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from llm_engineering.domain.datasets import (
    DatasetType,
    InstructDataset,
    InstructSample,
    PreferenceDataset,
    PreferenceSample,
)
from llm_engineering.domain.exceptions import TooFewReviewedRowsError
from llm_engineering.domain.ports import ReviewStore
from llm_engineering.domain.reviews import Review, ReviewPolicy, ReviewStatus, SampleKey, Verdict, sample_key

Sample = TypeVar("Sample", InstructSample, PreferenceSample)
DatasetT = TypeVar("DatasetT", bound=InstructDataset | PreferenceDataset)


@dataclass(frozen=True)
class ReviewCounts:
    """How many rows of a dataset are accepted, edited (or swapped), rejected, and not reviewed yet."""

    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    pending: int = 0

    def as_metadata(self) -> dict[str, int]:
        """The four counts by name, as run metadata."""
        return {"accepted": self.accepted, "edited": self.edited, "rejected": self.rejected, "pending": self.pending}

    def describe(self) -> str:
        """The counts in one phrase, for logs and errors."""
        return ", ".join(f"{name} {count}" for name, count in self.as_metadata().items())


@dataclass(frozen=True)
class ReviewedDataset(Generic[DatasetT]):
    """A dataset with the reviews applied under a policy, and the counts of its generated rows (None: not read)."""

    dataset: DatasetT
    policy: ReviewPolicy
    counts: ReviewCounts | None

    def as_metadata(self) -> dict[str, str | int]:
        """The policy and the counts, recorded on the model version trained on the rows."""
        counts = self.counts.as_metadata() if self.counts is not None else {}
        return {"policy": self.policy, **counts}

    def describe(self) -> str:
        """What the reviews did to the rows, in one phrase for the training log."""
        counts = self.counts
        if counts is None:
            return "not read; every row is used as generated"
        if self.policy == "require":
            kept = f"only the {counts.accepted + counts.edited} accepted and edited row(s) are used"
        else:
            kept = (
                f"the {counts.rejected} rejected row(s) are left out, the {counts.edited} edited ones used as edited, "
                f"the {counts.pending} pending ones as generated"
            )
        return f"{counts.describe()}; {kept}"


def review_status(review: Review | None) -> ReviewStatus:
    """The status a row has with this review, or pending without one."""
    return ReviewStatus.PENDING if review is None else review.status


def dataset_samples(dataset: InstructDataset | PreferenceDataset) -> Iterator[InstructSample | PreferenceSample]:
    """Every row of the dataset: each category's train rows, then its test rows."""
    for split in dataset.splits.values():
        yield from split.train
        yield from split.test


def count_reviews(
    samples: Iterable[InstructSample | PreferenceSample], reviews: Mapping[SampleKey, Review]
) -> ReviewCounts:
    """How many of the rows are accepted, edited, rejected and pending, by their reviews."""
    tally = dict.fromkeys(ReviewStatus, 0)
    for sample in samples:
        tally[review_status(reviews.get(sample_key(sample)))] += 1
    return ReviewCounts(
        accepted=tally[ReviewStatus.ACCEPTED],
        edited=tally[ReviewStatus.EDITED],
        rejected=tally[ReviewStatus.REJECTED],
        pending=tally[ReviewStatus.PENDING],
    )


def reviewed_sample(sample: Sample, review: Review | None, policy: ReviewPolicy) -> Sample | None:
    """The row as training uses it under the policy, or None when training leaves it out."""
    if policy == "ignore":
        return sample
    if review is None:
        return None if policy == "require" else sample
    if review.verdict is Verdict.REJECT:
        return None
    if review.verdict is Verdict.ACCEPT:
        return sample
    if isinstance(sample, InstructSample):
        return sample.model_copy(
            update={"instruction": review.instruction or sample.instruction, "output": review.answer or sample.output}
        )
    if review.verdict is Verdict.SWAP:
        return sample.model_copy(update={"chosen": sample.rejected, "rejected": sample.chosen})
    return sample.model_copy(
        update={"prompt": review.instruction or sample.prompt, "chosen": review.answer or sample.chosen}
    )


def _kept(rows: Sequence[Sample], reviews: Mapping[SampleKey, Review], policy: ReviewPolicy) -> list[Sample]:
    kept = (reviewed_sample(row, reviews.get(sample_key(row)), policy) for row in rows)
    return [row for row in kept if row is not None]


def apply_reviews(
    dataset: DatasetT,
    reviews: Mapping[SampleKey, Review],
    policy: ReviewPolicy,
    *,
    min_train_rows: int = 1,
    source: str = "the dataset",
) -> ReviewedDataset[DatasetT]:
    """The dataset as training uses it under the policy, and the counts of its rows' statuses.

    Under `require`, fewer than `min_train_rows` accepted or edited train rows, or no such test row, is an error: the
    eval loss and held-out perplexity need a test row, and a run on a handful of rows teaches the model nothing.
    """
    if policy == "ignore":
        return ReviewedDataset(dataset, policy, None)
    counts = count_reviews(dataset_samples(dataset), reviews)
    splits = {
        category: split.model_copy(
            update={"train": _kept(split.train, reviews, policy), "test": _kept(split.test, reviews, policy)}
        )
        for category, split in dataset.splits.items()
    }
    # model_copy returns the dataset's own type; mypy widens it to the TypeVar's union bound.
    reviewed = cast(DatasetT, dataset.model_copy(update={"splits": splits}))
    if policy == "require":
        train = sum(len(split.train) for split in reviewed.splits.values())
        test = sum(len(split.test) for split in reviewed.splits.values())
        if train < min_train_rows or test == 0:
            raise TooFewReviewedRowsError(
                f"dataset.reviews is require, and {source} has {train} accepted or edited train row(s) and {test} "
                f"test row(s) ({counts.describe()}); it needs at least {min_train_rows} train row(s) "
                "(dataset.min_reviewed_train_rows) and 1 test row. Review more rows, or set dataset.reviews: apply."
            )
    return ReviewedDataset(reviewed, policy, counts)


def review_dataset(
    dataset: DatasetT,
    store: ReviewStore,
    policy: ReviewPolicy,
    *,
    min_train_rows: int = 1,
    source: str = "the dataset",
) -> ReviewedDataset[DatasetT]:
    """The dataset with its rows' stored reviews applied (the store is not read under `ignore`).

    The kind's reviews are read in one query, as the review desk reads them: rows are matched by key, so the reviews
    of rows no longer generated are read but not used.
    """
    kind: DatasetType = "instruction" if isinstance(dataset, InstructDataset) else "preference"
    reviews = {} if policy == "ignore" else store.find_reviews_of_kind(kind)
    return apply_reviews(dataset, reviews, policy, min_train_rows=min_train_rows, source=source)
