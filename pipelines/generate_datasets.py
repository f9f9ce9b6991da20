"""Dataset pipeline: the feature store's cleaned documents → an instruction or a preference dataset."""

from zenml import pipeline

from llm_engineering.application.run_configs import GenerateDatasetsConfig
from steps.authors import resolve_authors
from steps.generate_datasets import generate_instruct_datasets, generate_preference_datasets, push_datasets


@pipeline
def generate_datasets(config: GenerateDatasetsConfig) -> None:
    """dataset.dataset_type picks the kind: `instruction` (SFT) or `preference` (DPO)."""
    author_ids = resolve_authors(config.author_full_names)
    if config.dataset.dataset_type == "instruction":
        built = generate_instruct_datasets(author_ids, config.dataset)
    else:
        built = generate_preference_datasets(author_ids, config.dataset)
    push_datasets(built, config.push_to_huggingface, config.huggingface_dataset_id)
