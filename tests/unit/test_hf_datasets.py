from pathlib import Path
from uuid import uuid4

import pytest

from llm_engineering.domain.datasets import InstructDataset, InstructSample, InstructSplit
from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.hf_datasets import push_to_hub, to_dataset_dict
from tests.conftest import make_settings


def dataset() -> InstructDataset:
    row = InstructSample(instruction="Why?", output="Because.", category=DataCategory.POSTS, document_id=uuid4())
    return InstructDataset(splits={DataCategory.POSTS: InstructSplit(train=[row], test=[])})


def test_push_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, HUGGINGFACE_ACCESS_TOKEN=None)
    with pytest.raises(SettingsError, match="HUGGINGFACE_ACCESS_TOKEN"):
        push_to_hub(dataset(), "someone/llm-twin", settings)


def test_dataset_dict_has_the_books_columns() -> None:
    converted = to_dataset_dict(dataset())
    assert converted["train"].column_names == ["instruction", "output"]
    assert converted["train"][0] == {"instruction": "Why?", "output": "Because."}
    assert converted["test"].num_rows == 0
