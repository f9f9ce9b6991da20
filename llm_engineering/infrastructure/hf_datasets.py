"""Hugging Face `datasets` conversion and Hub upload of the twin's datasets."""

from typing import TYPE_CHECKING

from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.domain.exceptions import SettingsError
from llm_engineering.settings import Settings

if TYPE_CHECKING:
    from datasets import DatasetDict

BOOK_COLUMNS = {"instruction": ["instruction", "output"], "preference": ["prompt", "chosen", "rejected"]}


def to_dataset_dict(dataset: InstructDataset | PreferenceDataset) -> "DatasetDict":
    """{"train", "test"} with the book's columns (all categories together), as TRL's trainers expect."""
    from datasets import Dataset, DatasetDict

    kind = "instruction" if isinstance(dataset, InstructDataset) else "preference"
    columns = BOOK_COLUMNS[kind]
    result = {}
    for side in ("train", "test"):
        rows = [row for split in dataset.splits.values() for row in getattr(split, side)]
        result[side] = Dataset.from_dict({column: [getattr(row, column) for row in rows] for column in columns})
    return DatasetDict(result)


def push_to_hub(dataset: InstructDataset | PreferenceDataset, repo_id: str, settings: Settings) -> str:
    """Upload the dataset as a private Hub dataset; returns its URL."""
    if settings.HUGGINGFACE_ACCESS_TOKEN is None:
        raise SettingsError(
            "push_to_huggingface is true but HUGGINGFACE_ACCESS_TOKEN is not set. "
            "Set it in .env (a token with write access), or set push_to_huggingface: false in the config."
        )
    to_dataset_dict(dataset).push_to_hub(
        repo_id, token=settings.HUGGINGFACE_ACCESS_TOKEN.get_secret_value(), private=True
    )
    return f"https://huggingface.co/datasets/{repo_id}"
