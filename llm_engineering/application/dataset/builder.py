"""Build the instruction or preference dataset from the feature store: extract → generate → filter → split."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.application.dataset.extracts import ExtractConfig, extracts_from, load_cleaned_documents
from llm_engineering.application.dataset.filters import FilterConfig, filter_instruct, filter_preference
from llm_engineering.application.dataset.generation import (
    GenerationConfig,
    GenerationStats,
    add_rejected_answers,
    generate_instructions,
)
from llm_engineering.application.dataset.splits import split_by_document
from llm_engineering.domain.datasets import (
    DatasetType,
    Extract,
    InstructDataset,
    InstructSplit,
    PreferenceDataset,
    PreferenceSplit,
)
from llm_engineering.domain.ports import LLMClient, VectorStore


class DatasetConfig(BaseModel):
    """Everything configs/generate_*_datasets.yaml sets besides the authors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset_type: DatasetType
    extracts: ExtractConfig
    generation: GenerationConfig
    filters: FilterConfig
    test_fraction: float = Field(ge=0, lt=1)
    seed: int


def collect_extracts(
    store: VectorStore, config: ExtractConfig, *, author_ids: Collection[UUID] | None
) -> list[Extract]:
    """Extracts of the configured categories, capped per category when the config asks for a quick run."""
    extracts: list[Extract] = []
    for category in config.categories:
        found = extracts_from(load_cleaned_documents(store, category, author_ids=author_ids), config)
        extracts += found[: config.max_per_category] if config.max_per_category else found
    return extracts


def build_dataset(
    store: VectorStore,
    client: LLMClient,
    config: DatasetConfig,
    *,
    author_ids: Collection[UUID] | None = None,
    progress: bool = True,
) -> tuple[InstructDataset | PreferenceDataset, dict[str, Any]]:
    """The dataset and the metadata a person reads on the dashboard (counts, filters, LLM time and model)."""
    extracts = collect_extracts(store, config.extracts, author_ids=author_ids)
    if not extracts:
        raise ValueError(
            "The feature store has no extracts for these authors and categories. "
            "Run the feature pipeline first, or lower extracts.min_words."
        )
    stats = GenerationStats()
    instructions = generate_instructions(client, extracts, config.generation, stats, progress=progress)
    metadata: dict[str, Any] = {
        "dataset_type": config.dataset_type,
        "extracts": len(extracts),
        "llm_backend": client.backend,
        "llm_model": client.model_id,
        "strategy": config.generation.strategy,
    }
    dataset: InstructDataset | PreferenceDataset
    if config.dataset_type == "instruction":
        kept, filter_counts = filter_instruct(instructions, config.filters)
        instruct = InstructDataset()
        for category in config.extracts.categories:
            train, test = split_by_document(
                [s for s in kept if s.category is category], test_fraction=config.test_fraction, seed=config.seed
            )
            instruct.splits[category] = InstructSplit(train=train, test=test)
        dataset = instruct
    else:
        # Instruction-level filters first: no generic answer is generated for a row that would be dropped anyway.
        usable, instruction_counts = filter_instruct(instructions, config.filters)
        triples = add_rejected_answers(client, usable, config.generation, stats, progress=progress)
        kept_triples, filter_counts = filter_preference(triples, config.filters)
        filter_counts |= {k: v for k, v in instruction_counts.items() if k != "kept"}
        preference = PreferenceDataset()
        for category in config.extracts.categories:
            train_p, test_p = split_by_document(
                [s for s in kept_triples if s.category is category],
                test_fraction=config.test_fraction,
                seed=config.seed,
            )
            preference.splits[category] = PreferenceSplit(train=train_p, test=test_p)
        dataset = preference
    metadata["filters"] = filter_counts | {f"dropped_{k}": v for k, v in stats.drop_reasons.items()}
    metadata["counts"] = {
        category.value: {"train": len(split.train), "test": len(split.test)}
        for category, split in dataset.splits.items()
    }
    metadata |= stats.as_metadata()
    logger.info(
        "{} dataset: {} extracts → {} rows kept ({}); {:.1f} s of LLM time on {}/{}.",
        config.dataset_type,
        len(extracts),
        filter_counts.get("kept", 0),
        ", ".join(f"{k} {v}" for k, v in filter_counts.items() if k != "kept") or "nothing filtered",
        stats.seconds,
        client.backend,
        client.model_id,
    )
    return dataset, metadata


def dataset_rows(dataset: InstructDataset | PreferenceDataset) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Plain JSON rows per category and split, with the book's columns first."""
    return {
        category.value: {
            "train": [row.model_dump(mode="json") for row in split.train],
            "test": [row.model_dump(mode="json") for row in split.test],
        }
        for category, split in dataset.splits.items()
    }
