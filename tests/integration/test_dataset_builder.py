"""Dataset building on a slice of the sample corpus with the real packaged SmolLM2 and the real feature store."""

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.application.dataset.builder import DatasetBuilderConfig, build_dataset, dataset_rows
from llm_engineering.application.preprocessing.feature_store import FeatureStoreUpdater
from llm_engineering.application.run_configs import FeatureEngineeringConfig, GenerateDatasetsConfig, load_run_config
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.bootstrap.stores import VectorStoreAdapter
from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.domain.ids import user_id
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.embeddings import Bm25SparseEmbedder, SentenceTransformerEmbedder
from llm_engineering.infrastructure.hf_datasets import to_dataset_dict
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from tests.conftest import REPO_ROOT, SAMPLE_DIR, stores_of_their_own
from tests.fakes import ScriptedLLM
from tests.rag_support import shipped_embedder

THEO = user_id("Theo Brandt")


def dataset_config(kind: str, strategy: str | list[str] = "backtranslation", **extracts: Any) -> DatasetBuilderConfig:
    path = REPO_ROOT / "configs" / f"generate_{'instruct' if kind == 'instruction' else 'preference'}_datasets.yaml"
    values = load_run_config(path, GenerateDatasetsConfig).dataset.model_dump(mode="json")
    values["extracts"] |= extracts
    values["generation"] |= {"max_new_tokens": 24, "rejected_max_new_tokens": 32, "strategy": strategy}
    return DatasetBuilderConfig.model_validate(values)


@pytest.fixture
def embedder() -> SentenceTransformerEmbedder:
    return shipped_embedder()


@pytest.fixture(scope="module")
def features(mongo_server: LocalMongoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStoreAdapter]:
    """Theo Brandt's cleaned documents in a feature store built once for the module's tests, which only read it."""
    with stores_of_their_own(mongo_server, tmp_path_factory.mktemp("dataset-features")) as (warehouse, store):
        import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
        chunking = load_run_config(
            REPO_ROOT / "configs" / "feature_engineering.yaml", FeatureEngineeringConfig
        ).chunking
        FeatureStoreUpdater(
            warehouse,
            store,
            shipped_embedder(),
            chunking,
            sparse_embedder=Bm25SparseEmbedder(),
            embedding_batch_size=32,
            write_batch_size=256,
            progress=False,
        ).run(author_ids=[THEO])
        yield store


@pytest.fixture
def llm(llm_models_dir: Path, tmp_path: Path) -> CachedLLMClient:
    inner = LocalTransformersClient(
        "HuggingFaceTB/SmolLM2-135M-Instruct", models_dir=llm_models_dir, device="cpu", batch_size=8, timeout_s=600
    )
    return CachedLLMClient(inner, tmp_path / "llm-cache", chunk_size=8)


@pytest.mark.slow
def test_instruction_dataset_is_built_filtered_split_and_cached(
    features: VectorStoreAdapter, llm: CachedLLMClient, tmp_path: Path
) -> None:
    config = dataset_config("instruction", categories=[DataCategory.POSTS, DataCategory.ARTICLES], max_per_category=6)
    dataset, metadata = build_dataset(features, llm, config, author_ids=[THEO], progress=False)
    assert isinstance(dataset, InstructDataset)
    assert metadata["extracts"] == 12 and metadata["llm_prompts"] == 12
    assert metadata["llm_backend"] == "local" and metadata["llm_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    filters = metadata["filters"]
    assert sum(v for k, v in filters.items() if not k.startswith("dropped_")) == 12  # every extract accounted for
    rows = [row for split in dataset.splits.values() for row in split.train + split.test]
    assert len(rows) == filters["kept"]
    for split in dataset.splits.values():
        assert {r.document_id for r in split.train}.isdisjoint({r.document_id for r in split.test})
    for row in rows:
        assert row.instruction and row.output and row.instruction not in row.output

    # A re-run asks the model nothing: every completion comes from the disk cache.
    misses = llm.misses
    again, again_metadata = build_dataset(features, llm, config, author_ids=[THEO], progress=False)
    assert llm.misses == misses and llm.hits >= 12
    assert again == dataset and again_metadata["llm_seconds"] < 2

    exported = tmp_path / "instruct.json"
    exported.write_text(json.dumps(dataset_rows(dataset)))
    reloaded = InstructDataset.model_validate(
        {"splits": {category: split for category, split in json.loads(exported.read_text()).items()}}
    )
    assert reloaded == dataset
    hf = to_dataset_dict(dataset)
    assert set(hf) == {"train", "test"} and hf["train"].column_names == ["instruction", "output"]
    assert hf["train"].num_rows + hf["test"].num_rows == len(rows)


@pytest.mark.slow
def test_preference_dataset_pairs_the_author_with_a_generic_answer(
    features: VectorStoreAdapter, llm: CachedLLMClient
) -> None:
    config = dataset_config("preference", categories=[DataCategory.POSTS], max_per_category=4)
    dataset, metadata = build_dataset(features, llm, config, author_ids=[THEO], progress=False)
    assert isinstance(dataset, PreferenceDataset)
    assert metadata["llm_prompts"] >= 4  # instructions, then one generic answer per surviving row
    for split in dataset.splits.values():
        for row in split.train + split.test:
            assert row.chosen != row.rejected and row.rejected
            assert len(row.chosen) >= 100 and row.chosen[0].isupper()
    hf = to_dataset_dict(dataset)
    assert hf["train"].column_names == ["prompt", "chosen", "rejected"]


def test_structure_rows_come_from_the_documents_without_the_llm(
    features: VectorStoreAdapter, embedder: SentenceTransformerEmbedder
) -> None:
    config = dataset_config("instruction", "structure")
    no_llm = ScriptedLLM([])  # any call would fail: the structure strategy asks the LLM nothing
    dataset, metadata = build_dataset(features, no_llm, config, embedder=embedder, author_ids=[THEO], progress=False)
    assert isinstance(dataset, InstructDataset)
    assert metadata["llm_prompts"] == 0 and metadata["strategy"] == ["structure"]
    posts = dataset.splits[DataCategory.POSTS]
    rows = posts.train + posts.test
    assert len(rows) == 25  # one row per post of Theo's 25
    assert metadata["kept_by_strategy"]["structure"] == sum(len(s.train) + len(s.test) for s in dataset.splits.values())
    assert posts.train and posts.test
    assert all(row.instruction.startswith("Write a LinkedIn post about ") for row in rows)
    repository = dataset.splits[DataCategory.REPOSITORIES]
    assert any("`lint_text`" in row.instruction for row in repository.train + repository.test)


def test_two_strategies_are_filtered_apart_and_rejected_answers_capped(
    features: VectorStoreAdapter, embedder: SentenceTransformerEmbedder
) -> None:
    config = dataset_config("preference", ["structure", "backtranslation"], categories=[DataCategory.POSTS])
    config = config.model_copy(
        update={"generation": config.generation.model_copy(update={"rejected_max_per_category": 5})}
    )
    # Backtranslation questions that pass the filters, then one generic answer per capped row.
    llm = ScriptedLLM(["How do you pick a data tool?"] * 8 + ["A generic answer."] * 10)
    dataset, metadata = build_dataset(features, llm, config, embedder=embedder, author_ids=[THEO], progress=False)
    assert isinstance(dataset, PreferenceDataset)
    assert len(llm.asked) == 8 + 5  # 8 extracts, then 5 rows (of both strategies) for a generic answer
    assert set(metadata["kept_by_strategy"]) == {"structure", "backtranslation"}
    assert metadata["filters"]["over_rejected_max_per_category"] > 0
    # Each pair records the strategy of the row it was made from, as the per-strategy counts say.
    pairs = [pair for split in dataset.splits.values() for pair in split.train + split.test]
    assert Counter(pair.strategy for pair in pairs) == metadata["kept_by_strategy"]


def test_empty_feature_store_gives_a_clear_error(vector_store: VectorStoreAdapter, llm: CachedLLMClient) -> None:
    config = dataset_config("instruction", categories=[DataCategory.POSTS])
    with pytest.raises(ValueError, match="Run the feature pipeline first"):
        build_dataset(vector_store, llm, config, author_ids=[THEO], progress=False)
