"""Review keys and verdicts: a row's key follows its text only, and a verdict carries what it needs and nothing else."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from llm_engineering.domain.datasets import InstructDataset, InstructSample, PreferenceSample
from llm_engineering.domain.reviews import Review, ReviewStatus, SampleKey, Verdict, sample_key
from llm_engineering.domain.types import DataCategory

DOCUMENT = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/article/1")
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def instruct(instruction: str = "Why measure first?", output: str = "Because numbers beat hunches.") -> InstructSample:
    return InstructSample(
        instruction=instruction,
        output=output,
        category=DataCategory.ARTICLES,
        document_id=DOCUMENT,
        strategy="backtranslation",
    )


def preference(rejected: str = "It depends.") -> PreferenceSample:
    return PreferenceSample(
        prompt="Why measure first?",
        chosen="Because numbers beat hunches.",
        rejected=rejected,
        category=DataCategory.ARTICLES,
        document_id=DOCUMENT,
    )


def review(key: SampleKey, verdict: Verdict, **fields: Any) -> Review:
    return Review(key=key, verdict=verdict, reviewer="Maya Okafor", reviewed_at=NOW, **fields)


def test_the_same_row_generated_again_has_the_same_key() -> None:
    first = sample_key(instruct())
    again = sample_key(InstructSample.model_validate(instruct().model_dump(mode="json")))
    assert first == again and first.id == again.id
    assert first.kind == "instruction" and first.document_id == DOCUMENT
    # Neither the strategy nor the category is content: recording them changes no key.
    assert sample_key(instruct().model_copy(update={"strategy": None, "category": DataCategory.POSTS})) == first


def test_a_changed_text_is_a_new_key() -> None:
    keys = {
        sample_key(instruct()).id,
        sample_key(instruct(instruction="Why measure at all?")).id,
        sample_key(instruct(output="Because numbers beat guesses.")).id,
        sample_key(instruct().model_copy(update={"document_id": uuid.uuid4()})).id,
        sample_key(preference()).id,
        sample_key(preference(rejected="There are many views.")).id,
    }
    assert len(keys) == 6
    assert sample_key(preference()).kind == "preference"


def test_an_artifact_made_before_strategies_were_recorded_still_loads() -> None:
    stored = {"instruction": "Q?", "output": "A.", "category": "articles", "document_id": str(DOCUMENT)}
    assert InstructSample.model_validate(stored).strategy is None
    dataset = InstructDataset.model_validate({"splits": {"articles": {"train": [stored], "test": []}}})
    assert dataset.splits[DataCategory.ARTICLES].train[0].instruction == "Q?"


def test_each_verdict_has_its_status() -> None:
    key = sample_key(preference())
    assert review(key, Verdict.ACCEPT).status is ReviewStatus.ACCEPTED
    assert review(key, Verdict.REJECT).status is ReviewStatus.REJECTED
    assert review(key, Verdict.EDIT, answer="I measure, then decide.").status is ReviewStatus.EDITED
    assert review(key, Verdict.SWAP).status is ReviewStatus.EDITED
    assert review(key, Verdict.ACCEPT).version == 0  # not saved yet


@pytest.mark.parametrize(
    ("verdict", "fields", "message"),
    [
        (Verdict.EDIT, {}, "an edit is empty"),
        (Verdict.EDIT, {"answer": "   "}, "an edit is empty"),
        (Verdict.EDIT, {"instruction": "Better?", "answer": ""}, "an edit is empty"),
        (Verdict.ACCEPT, {"answer": "text"}, "accept verdict carries no edited text"),
        (Verdict.SWAP, {}, "swap exchanges a preference pair's answers"),
        (Verdict.ACCEPT, {"reviewer": "  "}, "reviewer's name"),
        (Verdict.ACCEPT, {"reviewed_at": datetime(2030, 1, 1)}, "time zone"),
        (Verdict.ACCEPT, {"version": -1}, "version"),
    ],
)
def test_a_verdict_that_does_not_fit_is_refused_with_the_reason(
    verdict: Verdict, fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"reviewer": "Maya Okafor", "reviewed_at": NOW} | fields
    with pytest.raises(ValidationError, match=message):
        Review(key=sample_key(instruct()), verdict=verdict, **values)
