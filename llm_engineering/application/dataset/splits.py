"""Seeded train/test splits by source document, so no document leaks across the split."""

import random
from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

from llm_engineering.domain.datasets import InstructSample, PreferenceSample

Row = TypeVar("Row", InstructSample, PreferenceSample)


def split_by_document(rows: Sequence[Row], *, test_fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    """(train, test): whole documents go to the test side until it holds about test_fraction of the documents."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    documents: list[UUID] = sorted({row.document_id for row in rows}, key=str)
    random.Random(seed).shuffle(documents)  # noqa: S311 - a reproducible split, not security
    test_count = round(len(documents) * test_fraction)
    if test_fraction > 0 and len(documents) > 1:
        test_count = max(1, min(test_count, len(documents) - 1))
    test_documents = set(documents[:test_count])
    train = [row for row in rows if row.document_id not in test_documents]
    test = [row for row in rows if row.document_id in test_documents]
    return train, test
