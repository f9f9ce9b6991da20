"""The reviews' store against the real Mongo-wire server: versioned saves, and reviews that outlive regeneration."""

from contextlib import closing
from datetime import UTC, datetime

import pytest

from llm_engineering.application.dataset.reviews import ReviewCounts, review_dataset
from llm_engineering.bootstrap.stores import build_review_store
from llm_engineering.domain.datasets import InstructDataset, InstructSplit
from llm_engineering.domain.exceptions import ReviewConflictError
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.db.mongo_reviews import REVIEWS, MongoReviewStore
from llm_engineering.settings import Settings
from tests.training_support import instruct_dataset, preference_dataset

# Microseconds too: the store keeps milliseconds, as BSON does, and what it returns equals what it reads back.
MORNING = datetime(2030, 1, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_a_save_names_the_version_it_was_made_on_and_an_older_one_is_refused(warehouse: MongoDataWarehouse) -> None:
    store = MongoReviewStore(warehouse.database)
    row = instruct_dataset(train=1, test=0).splits[DataCategory.ARTICLES].train[0]
    key = sample_key(row)
    assert store.find_review(key) is None

    first = store.save_review(Review(key=key, verdict=Verdict.ACCEPT, reviewer="Maya Okafor", reviewed_at=MORNING))
    assert first.version == 1
    assert store.find_review(key) == first
    assert first.reviewed_at == datetime(2030, 1, 2, 9, 30, 15, 123000, tzinfo=UTC)

    # Maya edits the row she read (version 1); Theo, who read version 1 too, saves later and is refused.
    edit = first.model_copy(update={"verdict": Verdict.EDIT, "answer": "I measure first, always."})
    second = store.save_review(edit)
    assert (second.version, store.find_review(key)) == (2, second)
    theo = first.model_copy(update={"verdict": Verdict.REJECT, "reviewer": "Theo Brandt"})
    with pytest.raises(
        ReviewConflictError, match=r"reviewed by Maya Okafor at 2030-01-02 09:30:15 UTC \(version 2, edit\)"
    ):
        store.save_review(theo)
    # A first review of a row someone reviewed meanwhile is refused too, and saying so names what it saw.
    fresh = Review(key=key, verdict=Verdict.REJECT, reviewer="Theo Brandt", reviewed_at=MORNING)
    with pytest.raises(ReviewConflictError, match="made on no review; reload the row"):
        store.save_review(fresh)
    assert store.find_review(key) == second
    assert warehouse.database[REVIEWS].count_documents({}) == 1


def test_reviews_survive_a_regenerated_dataset(settings: Settings, warehouse: MongoDataWarehouse) -> None:
    dataset = instruct_dataset(train=4, test=1)
    split = dataset.splits[DataCategory.ARTICLES]
    with closing(build_review_store(settings)) as store:
        for row, verdict in zip(split.train, (Verdict.ACCEPT, Verdict.REJECT, Verdict.ACCEPT), strict=False):
            store.save_review(Review(key=sample_key(row), verdict=verdict, reviewer="Maya Okafor", reviewed_at=MORNING))
        # Generated again: the first row's answer is rewritten, the others come back in another order.
        rewritten = split.train[0].model_copy(update={"output": "A new answer for the same question."})
        regenerated = InstructDataset(
            splits={
                DataCategory.ARTICLES: InstructSplit(
                    train=[split.train[3], split.train[2], split.train[1], rewritten], test=split.test
                )
            }
        )
        found = store.find_reviews(sample_key(row) for row in regenerated.splits[DataCategory.ARTICLES].train)
        assert {key: review.verdict for key, review in found.items()} == {
            sample_key(split.train[1]): Verdict.REJECT,
            sample_key(split.train[2]): Verdict.ACCEPT,
        }
        result = review_dataset(regenerated, store, "apply")
    assert result.counts == ReviewCounts(accepted=1, rejected=1, pending=3)
    assert result.dataset.splits[DataCategory.ARTICLES].train == [split.train[3], split.train[2], rewritten]


def test_the_reviews_of_a_kind_are_read_in_one_query(warehouse: MongoDataWarehouse) -> None:
    store = MongoReviewStore(warehouse.database)
    rows = instruct_dataset(train=3, test=0).splits[DataCategory.ARTICLES].train
    pair = preference_dataset(train=1, test=0).splits[DataCategory.POSTS].train[0]
    keys = [sample_key(rows[0]), sample_key(rows[1]), sample_key(pair)]
    saved = [
        store.save_review(Review(key=key, verdict=Verdict.ACCEPT, reviewer="Maya", reviewed_at=MORNING)) for key in keys
    ]
    assert store.find_reviews_of_kind("instruction") == {review.key: review for review in saved[:2]}
    assert store.find_reviews_of_kind("preference") == {saved[2].key: saved[2]}
