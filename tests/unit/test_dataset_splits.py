from uuid import uuid4

import pytest

from llm_engineering.application.dataset.splits import split_by_document
from llm_engineering.domain.datasets import InstructSample
from llm_engineering.domain.types import DataCategory


def rows(documents: int, per_document: int) -> list[InstructSample]:
    ids = [uuid4() for _ in range(documents)]
    return [
        InstructSample(instruction=f"q{i}", output=f"a{i}", category=DataCategory.ARTICLES, document_id=doc)
        for doc in ids
        for i in range(per_document)
    ]


def test_no_document_on_both_sides_and_nothing_lost() -> None:
    data = rows(20, 5)
    train, test = split_by_document(data, test_fraction=0.2, seed=7)
    assert {r.document_id for r in train}.isdisjoint({r.document_id for r in test})
    assert len(train) + len(test) == len(data)
    assert len({r.document_id for r in test}) == 4


def test_split_is_seeded() -> None:
    data = rows(30, 2)
    assert split_by_document(data, test_fraction=0.3, seed=1) == split_by_document(data, test_fraction=0.3, seed=1)
    assert split_by_document(data, test_fraction=0.3, seed=1) != split_by_document(data, test_fraction=0.3, seed=2)


def test_small_sets_keep_both_sides_when_possible() -> None:
    train, test = split_by_document(rows(2, 3), test_fraction=0.1, seed=0)
    assert len(test) == 3 and len(train) == 3
    train, test = split_by_document(rows(1, 3), test_fraction=0.5, seed=0)
    assert (len(train), len(test)) == (3, 0)


def test_bad_fraction_is_refused() -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        split_by_document(rows(3, 1), test_fraction=1.0, seed=0)
