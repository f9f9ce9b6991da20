"""Build the instruction or preference dataset from the feature store: extract → generate → filter → split."""

import random
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.application.dataset.extracts import ExtractConfig, extracts_from, load_cleaned_documents
from llm_engineering.application.dataset.filters import FilterConfig, filter_instruct, filter_preference
from llm_engineering.application.dataset.generation import (
    GenerationStats,
    SampleGenerationConfig,
    add_rejected_answers,
    generate_instructions,
)
from llm_engineering.application.dataset.splits import split_by_document
from llm_engineering.application.dataset.structure import structure_rows
from llm_engineering.domain.datasets import (
    DatasetType,
    Extract,
    InstructDataset,
    InstructSample,
    InstructSplit,
    PreferenceDataset,
    PreferenceSample,
    PreferenceSplit,
)
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.ports import Embedder, LLMClient, VectorStore
from llm_engineering.domain.types import DataCategory

Row = TypeVar("Row", InstructSample, PreferenceSample)


class DatasetBuilderConfig(BaseModel):
    """Everything configs/generate_*_datasets.yaml sets besides the authors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset_type: DatasetType = "instruction"
    extracts: ExtractConfig = ExtractConfig()
    generation: SampleGenerationConfig = SampleGenerationConfig()
    filters: FilterConfig = FilterConfig()
    test_fraction: float = Field(default=0.2, ge=0, lt=1, description="share of each category's documents held out")
    seed: int = 42


def collect_extracts(documents: Sequence[CleanedDocument], config: ExtractConfig) -> list[Extract]:
    """Extracts of the configured categories, capped per category when the config asks for a quick run."""
    extracts: list[Extract] = []
    for category in config.categories:
        found = extracts_from((d for d in documents if d.category is category), config)
        extracts += found[: config.max_per_category] if config.max_per_category else found
    return extracts


def cap_per_category(rows: Sequence[Row], limit: int | None, seed: int) -> set[int]:
    """Indices of at most `limit` rows per category, a seeded draw over all of them; every index when None."""
    if limit is None:
        return set(range(len(rows)))
    chosen: set[int] = set()
    for category in sorted({row.category for row in rows}):
        indices = [i for i, row in enumerate(rows) if row.category is category]
        random.Random(f"{seed}:{category.value}").shuffle(indices)  # noqa: S311 - a reproducible draw
        chosen.update(indices[:limit])
    return chosen


def _merge(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in counts:
        total.update(part)
    return dict(total)


def _split(rows: Sequence[Row], config: DatasetBuilderConfig) -> dict[DataCategory, tuple[list[Row], list[Row]]]:
    return {
        category: split_by_document(
            [row for row in rows if row.category is category], test_fraction=config.test_fraction, seed=config.seed
        )
        for category in config.extracts.categories
    }


def build_dataset(
    store: VectorStore,
    client: LLMClient,
    config: DatasetBuilderConfig,
    *,
    embedder: Embedder | None = None,
    author_ids: Collection[UUID] | None = None,
    progress: bool = True,
) -> tuple[InstructDataset | PreferenceDataset, dict[str, Any]]:
    """The dataset and the metadata a person reads on the dashboard (counts, filters, LLM time and model).

    Each strategy's rows are filtered on their own, so the same passage may give one row per strategy.
    """
    documents = [
        document
        for category in config.extracts.categories
        for document in load_cleaned_documents(store, category, author_ids=author_ids)
    ]
    llm_strategies = [name for name in config.generation.strategy if name != "structure"]
    extracts = collect_extracts(documents, config.extracts) if llm_strategies else []
    if not documents or (llm_strategies and not extracts):
        raise ValueError(
            "The feature store has no extracts for these authors and categories. "
            "Run the feature pipeline first, or lower extracts.min_words."
        )
    stats = GenerationStats()
    by_strategy = generate_instructions(client, extracts, config.generation, stats, progress=progress)
    if "structure" in config.generation.strategy:
        by_strategy["structure"] = structure_rows(documents, embedder)
    metadata: dict[str, Any] = {
        "dataset_type": config.dataset_type,
        "extracts": len(extracts),
        "llm_backend": client.backend,
        "llm_model": client.model_id,
        "strategy": list(config.generation.strategy),
    }
    filtered = {name: filter_instruct(rows, config.filters) for name, rows in by_strategy.items()}
    dataset: InstructDataset | PreferenceDataset
    if config.dataset_type == "instruction":
        kept = [row for rows, _ in filtered.values() for row in rows]
        filter_counts = _merge(counts for _, counts in filtered.values())
        metadata["kept_by_strategy"] = {name: len(rows) for name, (rows, _) in filtered.items()}
        dataset = InstructDataset(
            splits={c: InstructSplit(train=tr, test=te) for c, (tr, te) in _split(kept, config).items()}
        )
    else:
        # Instruction-level filters first: no generic answer is generated for a row that would be dropped anyway.
        # The LLM answers at most rejected_max_per_category rows per category, drawn from every strategy's rows.
        pooled = [(name, row) for name, (rows, _) in filtered.items() for row in rows]
        drawn = cap_per_category([row for _, row in pooled], config.generation.rejected_max_per_category, config.seed)
        usable: dict[str, list[InstructSample]] = {name: [] for name in filtered}
        for index, (name, row) in enumerate(pooled):
            if index in drawn:
                usable[name].append(row)
        everything = [row for rows in usable.values() for row in rows]
        triples = add_rejected_answers(client, everything, config.generation, stats, progress=progress)
        kept_triples: list[PreferenceSample] = []
        counts: list[dict[str, int]] = []
        start = 0
        metadata["kept_by_strategy"] = {}
        for name, rows in usable.items():
            kept_part, part_counts = filter_preference(triples[start : start + len(rows)], config.filters)
            start += len(rows)
            kept_triples += kept_part
            counts.append(part_counts)
            metadata["kept_by_strategy"][name] = len(kept_part)
        filter_counts = _merge([*counts, *({k: v for k, v in c.items() if k != "kept"} for _, c in filtered.values())])
        if len(pooled) > len(everything):
            filter_counts["over_rejected_max_per_category"] = len(pooled) - len(everything)
        dataset = PreferenceDataset(
            splits={c: PreferenceSplit(train=tr, test=te) for c, (tr, te) in _split(kept_triples, config).items()}
        )
    metadata["filters"] = filter_counts | {f"dropped_{k}": v for k, v in stats.drop_reasons.items()}
    metadata["counts"] = {
        category.value: {"train": len(split.train), "test": len(split.test)}
        for category, split in dataset.splits.items()
    }
    metadata |= stats.as_metadata()
    logger.info(
        "{} dataset: {} extracts, strategies {} → {} rows kept ({}; {}); {:.1f} s of LLM time on {}/{}.",
        config.dataset_type,
        len(extracts),
        "+".join(config.generation.strategy),
        filter_counts.get("kept", 0),
        ", ".join(f"{k} {v}" for k, v in metadata["kept_by_strategy"].items()),
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
