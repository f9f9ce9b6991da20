"""The training step's rows follow the warehouse's reviews as dataset.reviews says (a ZenML artifact, real Mongo)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from llm_engineering.domain.exceptions import TooFewReviewedRowsError
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.db.mongo_reviews import MongoReviewStore
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.settings import Settings
from steps.training.train import training_rows
from tests.training_support import instruct_dataset

NOW = datetime(2030, 1, 2, tzinfo=UTC)


def test_the_rows_training_uses_change_as_the_reviews_say(
    warehouse: MongoDataWarehouse, pipeline_env: Settings
) -> None:
    from zenml import save_artifact

    dataset = instruct_dataset(train=4, test=2)
    artifact = save_artifact(dataset, name="instruct_datasets")
    split = dataset.splits[DataCategory.ARTICLES]
    store = MongoReviewStore(warehouse.database)
    for row, verdict, fields in [
        (split.train[0], Verdict.REJECT, {}),
        (split.train[1], Verdict.EDIT, {"answer": "I measure first, and I write it down."}),
        (split.test[0], Verdict.ACCEPT, {}),
    ]:
        store.save_review(
            Review(key=sample_key(row), verdict=verdict, reviewer="Maya Okafor", reviewed_at=NOW, **fields)
        )

    def rows_under(**dataset_section: Any) -> tuple[list[str], list[str], dict[str, Any]]:
        config = TrainingConfig(dataset={"artifact_version": str(artifact.version), **dataset_section})
        rows, linked, reviews = training_rows(config)
        assert linked is not None and linked.id == artifact.id
        return [row["output"] for row in rows.train], [row["instruction"] for row in rows.test], reviews

    train, test, reviews = rows_under()
    assert train == ["I measure first, and I write it down.", split.train[2].output, split.train[3].output]
    assert test == [row.instruction for row in split.test]
    assert reviews == {"policy": "apply", "accepted": 1, "edited": 1, "rejected": 1, "pending": 3, "applied": True}

    train, test, reviews = rows_under(reviews="require")
    assert (train, test) == (["I measure first, and I write it down."], [split.test[0].instruction])
    assert reviews["policy"] == "require" and reviews["pending"] == 3

    train, _, reviews = rows_under(reviews="ignore")
    assert train == [row.output for row in split.train]
    assert reviews == {"policy": "ignore", "applied": False}

    with pytest.raises(TooFewReviewedRowsError, match=f"artifact instruct_datasets version {artifact.version} has 1"):
        rows_under(reviews="require", min_reviewed_train_rows=2)
