"""Reviews applied to datasets under each policy: which rows training keeps, with which text, and the counts."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from llm_engineering.application.dataset.reviews import (
    ReviewCounts,
    apply_reviews,
    count_reviews,
    dataset_samples,
    reviewed_sample,
)
from llm_engineering.domain.datasets import InstructSample, PreferenceDataset, PreferenceSample, PreferenceSplit
from llm_engineering.domain.exceptions import DatasetSourceError, TooFewReviewedRowsError
from llm_engineering.domain.reviews import Review, SampleKey, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from tests.training_support import instruct_dataset, preference_dataset

NOW = datetime(2030, 1, 2, tzinfo=UTC)


def verdict(sample: InstructSample | PreferenceSample, verdict: Verdict, **fields: Any) -> Review:
    return Review(key=sample_key(sample), verdict=verdict, reviewer="Maya Okafor", reviewed_at=NOW, **fields)


def by_key(*reviews: Review) -> dict[SampleKey, Review]:
    return {review.key: review for review in reviews}


def test_apply_drops_the_rejected_uses_the_edits_and_keeps_the_unreviewed() -> None:
    dataset = instruct_dataset(train=5, test=2)
    split = dataset.splits[DataCategory.ARTICLES]
    reviews = by_key(
        verdict(split.train[0], Verdict.ACCEPT),
        verdict(split.train[1], Verdict.REJECT),
        verdict(split.train[2], Verdict.EDIT, answer="I measure, then I decide."),
        verdict(split.test[0], Verdict.EDIT, instruction="What is your rule for GPU bills?"),
        verdict(split.test[1], Verdict.REJECT),
    )
    result = apply_reviews(dataset, reviews, "apply")
    kept = result.dataset.splits[DataCategory.ARTICLES]
    assert [row.output for row in kept.train] == [
        split.train[0].output,
        "I measure, then I decide.",
        split.train[3].output,
        split.train[4].output,
    ]
    assert kept.train[1].instruction == split.train[2].instruction  # only the edited side changes
    assert [row.instruction for row in kept.test] == ["What is your rule for GPU bills?"]
    assert kept.test[0].output == split.test[0].output
    assert result.counts == ReviewCounts(accepted=1, edited=2, rejected=2, pending=2)
    assert result.as_metadata() == {"policy": "apply", "accepted": 1, "edited": 2, "rejected": 2, "pending": 2}
    assert "the 2 rejected row(s) are left out" in result.describe()
    assert dataset.splits[DataCategory.ARTICLES].train == split.train  # the artifact's value is left as it was


def test_require_trains_on_the_accepted_and_edited_rows_only() -> None:
    dataset = instruct_dataset(train=4, test=2)
    split = dataset.splits[DataCategory.ARTICLES]
    reviews = by_key(
        verdict(split.train[0], Verdict.ACCEPT),
        verdict(split.train[1], Verdict.EDIT, answer="Edited."),
        verdict(split.train[2], Verdict.REJECT),
        verdict(split.test[1], Verdict.ACCEPT),
    )
    result = apply_reviews(dataset, reviews, "require", min_train_rows=2)
    kept = result.dataset.splits[DataCategory.ARTICLES]
    assert [row.output for row in kept.train] == [split.train[0].output, "Edited."]
    assert kept.test == [split.test[1]]
    assert result.counts == ReviewCounts(accepted=2, edited=1, rejected=1, pending=2)
    assert "only the 3 accepted and edited row(s)" in result.describe()


@pytest.mark.parametrize(
    ("reviewed", "min_train_rows", "message"),
    [
        ({"train": [0, 1], "test": []}, 1, "has 2 accepted or edited train row(s) and 0 test row(s)"),
        ({"train": [0], "test": [0]}, 2, "needs at least 2 train row(s)"),
        ({"train": [], "test": []}, 1, "accepted 0, edited 0, rejected 0, pending 6"),
    ],
)
def test_require_with_too_few_reviewed_rows_fails_in_one_line(
    reviewed: dict[str, list[int]], min_train_rows: int, message: str
) -> None:
    dataset = instruct_dataset(train=4, test=2)
    split = dataset.splits[DataCategory.ARTICLES]
    accepted = [getattr(split, side)[index] for side, indices in reviewed.items() for index in indices]
    reviews = by_key(*(verdict(row, Verdict.ACCEPT) for row in accepted))
    with pytest.raises(TooFewReviewedRowsError, match=re.escape(message)) as raised:
        apply_reviews(dataset, reviews, "require", min_train_rows=min_train_rows, source="artifact instruct_datasets")
    assert isinstance(raised.value, DatasetSourceError)
    assert "\n" not in str(raised.value)
    assert "artifact instruct_datasets" in str(raised.value) and "dataset.reviews: apply" in str(raised.value)


def test_ignore_trains_on_every_row_as_generated_and_counts_nothing() -> None:
    dataset = instruct_dataset(train=3, test=1)
    rejected = verdict(dataset.splits[DataCategory.ARTICLES].train[0], Verdict.REJECT)
    result = apply_reviews(dataset, by_key(rejected), "ignore")
    assert result.dataset is dataset
    assert result.counts is None
    assert result.as_metadata() == {"policy": "ignore"}


def test_preference_pairs_take_a_swap_or_a_chosen_answer_written_by_hand() -> None:
    dataset = preference_dataset(train=3, test=1)
    pairs = dataset.splits[DataCategory.POSTS].train
    reviews = by_key(
        verdict(pairs[0], Verdict.SWAP),
        verdict(pairs[1], Verdict.EDIT, answer="I write the numbers down before I argue."),
        verdict(pairs[2], Verdict.EDIT, instruction="How do you start on GPU bills?"),
    )
    swapped, handwritten, reprompted = apply_reviews(dataset, reviews, "apply").dataset.splits[DataCategory.POSTS].train
    assert (swapped.chosen, swapped.rejected) == (pairs[0].rejected, pairs[0].chosen)
    assert (handwritten.chosen, handwritten.rejected) == ("I write the numbers down before I argue.", pairs[1].rejected)
    assert (reprompted.prompt, reprompted.chosen) == ("How do you start on GPU bills?", pairs[2].chosen)


def test_reviews_outlive_a_regenerated_dataset_and_a_changed_row_is_pending_again() -> None:
    first = preference_dataset(train=3, test=1)
    pairs = first.splits[DataCategory.POSTS].train
    reviews = by_key(verdict(pairs[0], Verdict.REJECT), verdict(pairs[1], Verdict.ACCEPT))
    # Generated again: the same rows in another order, with the second pair's generic answer rewritten by the LLM.
    regenerated = PreferenceDataset(
        splits={
            DataCategory.POSTS: PreferenceSplit(
                train=[pairs[2], pairs[1].model_copy(update={"rejected": "Several approaches exist."}), pairs[0]],
                test=first.splits[DataCategory.POSTS].test,
            )
        }
    )
    assert count_reviews(dataset_samples(regenerated), reviews) == ReviewCounts(accepted=0, rejected=1, pending=3)
    kept = apply_reviews(regenerated, reviews, "apply").dataset.splits[DataCategory.POSTS].train
    assert pairs[0] not in kept and len(kept) == 2


def test_one_row_under_each_policy() -> None:
    row = instruct_dataset(train=1, test=0).splits[DataCategory.ARTICLES].train[0]
    rejected = verdict(row, Verdict.REJECT)
    assert reviewed_sample(row, None, "apply") == row
    assert reviewed_sample(row, None, "require") is None
    assert reviewed_sample(row, rejected, "apply") is None
    assert reviewed_sample(row, rejected, "ignore") == row
