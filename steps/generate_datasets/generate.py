"""Dataset steps: build the instruction or preference dataset from the feature store, optionally push it."""

from typing import Annotated, TypeVar
from uuid import UUID

from loguru import logger
from zenml import step

from llm_engineering.application.dataset.builder import DatasetBuilderConfig, build_dataset
from llm_engineering.bootstrap.llm import build_llm_client
from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.infrastructure.embeddings import SentenceTransformerEmbedder
from llm_engineering.infrastructure.hf_datasets import push_to_hub
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from steps.metadata import record_metadata

DatasetT = TypeVar("DatasetT", InstructDataset, PreferenceDataset)


def _build(author_ids: list[str], dataset: DatasetBuilderConfig, kind: type[DatasetT]) -> DatasetT:
    expected = "instruction" if kind is InstructDataset else "preference"
    if dataset.dataset_type != expected:
        raise ValueError(f"this step builds {expected} datasets: set dataset.dataset_type: {expected} in its config")
    settings = settings_for_step()
    store = build_vector_store(settings)
    try:
        built, metadata = build_dataset(
            store,
            build_llm_client(settings),
            dataset,
            embedder=SentenceTransformerEmbedder.from_settings(settings),
            author_ids=[UUID(a) for a in author_ids],
        )
    finally:
        store.close()
    record_metadata(metadata, on_output=True)  # on the dataset artifact too, where people look it up
    if not isinstance(built, kind):
        raise TypeError(f"build_dataset returned a {type(built).__name__} for a {expected} config")
    return built


@step
def generate_instruct_datasets(
    author_ids: list[str], dataset: DatasetBuilderConfig
) -> Annotated[InstructDataset, "instruct_datasets"]:
    """Instruction rows (`instruction` → `output`), split per category by source document."""
    return _build(author_ids, dataset, InstructDataset)


@step
def generate_preference_datasets(
    author_ids: list[str], dataset: DatasetBuilderConfig
) -> Annotated[PreferenceDataset, "preference_datasets"]:
    """Preference triples (`prompt`, `chosen` = the author, `rejected` = a generic answer), split by document."""
    return _build(author_ids, dataset, PreferenceDataset)


@step
def push_datasets(dataset: InstructDataset | PreferenceDataset, push_to_huggingface: bool, repo_id: str) -> None:
    """Upload to the Hugging Face Hub when the config asks for it; say plainly when it does not."""
    if not push_to_huggingface:
        logger.info(
            "push_to_huggingface is false: the dataset stays a ZenML artifact (export it with the export pipeline)."
        )
        return
    url = push_to_hub(dataset, repo_id, settings_for_step())
    record_metadata({"huggingface_url": url})
    logger.info("Pushed the dataset to {}.", url)
