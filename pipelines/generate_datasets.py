"""Dataset pipeline: the feature store's cleaned documents → an instruction or a preference dataset."""

from typing import Any

from zenml import pipeline

from steps.authors import resolve_authors
from steps.generate_datasets import generate_instruct_datasets, generate_preference_datasets, push_datasets


@pipeline
def generate_datasets(
    author_full_names: list[str], dataset: dict[str, Any], push_to_huggingface: bool, huggingface_dataset_id: str
) -> None:
    """dataset.dataset_type picks the kind: `instruction` (SFT) or `preference` (DPO)."""
    author_ids = resolve_authors(author_full_names)
    if dataset["dataset_type"] == "instruction":
        built = generate_instruct_datasets(author_ids, dataset)
    else:
        built = generate_preference_datasets(author_ids, dataset)
    push_datasets(built, push_to_huggingface, huggingface_dataset_id)
