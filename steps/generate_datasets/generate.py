"""Dataset steps: build the instruction or preference dataset from the feature store, optionally push it."""

from typing import Annotated, Any
from uuid import UUID

from loguru import logger
from zenml import log_metadata, step

from llm_engineering.application.dataset.builder import DatasetConfig, build_dataset
from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.infrastructure.db.qdrant import QdrantVectorStore
from llm_engineering.infrastructure.embeddings import SentenceTransformerEmbedder
from llm_engineering.infrastructure.hf_datasets import push_to_hub
from llm_engineering.infrastructure.llm.factory import build_llm_client
from llm_engineering.infrastructure.zenml_settings import settings_for_step


def _build(
    author_ids: list[str], dataset: dict[str, Any]
) -> tuple[InstructDataset | PreferenceDataset, dict[str, Any]]:
    settings = settings_for_step()
    store = QdrantVectorStore.from_settings(settings)
    try:
        built, metadata = build_dataset(
            store,
            build_llm_client(settings),
            DatasetConfig.model_validate(dataset),
            embedder=SentenceTransformerEmbedder(settings.TEXT_EMBEDDING_MODEL_ID, settings.RAG_MODEL_DEVICE),
            author_ids=[UUID(a) for a in author_ids],
        )
    finally:
        store.close()
    log_metadata(metadata=metadata)  # on the step, for the run view
    log_metadata(metadata=metadata, infer_artifact=True)  # on the dataset artifact, where people look it up
    return built, metadata


@step
def generate_instruct_datasets(
    author_ids: list[str], dataset: dict[str, Any]
) -> Annotated[InstructDataset, "instruct_datasets"]:
    """Instruction rows (`instruction` → `output`), split per category by source document."""
    built, _ = _build(author_ids, dataset)
    if not isinstance(built, InstructDataset):
        raise ValueError("configs for generate_instruct_datasets need dataset.dataset_type: instruction")
    return built


@step
def generate_preference_datasets(
    author_ids: list[str], dataset: dict[str, Any]
) -> Annotated[PreferenceDataset, "preference_datasets"]:
    """Preference triples (`prompt`, `chosen` = the author, `rejected` = a generic answer), split by document."""
    built, _ = _build(author_ids, dataset)
    if not isinstance(built, PreferenceDataset):
        raise ValueError("configs for generate_preference_datasets need dataset.dataset_type: preference")
    return built


@step
def push_datasets(dataset: InstructDataset | PreferenceDataset, push_to_huggingface: bool, repo_id: str) -> None:
    """Upload to the Hugging Face Hub when the config asks for it; say plainly when it does not."""
    if not push_to_huggingface:
        logger.info(
            "push_to_huggingface is false: the dataset stays a ZenML artifact (export it with the export pipeline)."
        )
        return
    url = push_to_hub(dataset, repo_id, settings_for_step())
    log_metadata(metadata={"huggingface_url": url})
    logger.info("Pushed the dataset to {}.", url)
