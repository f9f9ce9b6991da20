"""Each step folder's steps run on their own (`step.entrypoint()`), outside any pipeline run."""

from pathlib import Path

import pytest

from llm_engineering.application.dataset.builder import DatasetBuilderConfig
from llm_engineering.application.dataset.generation import SampleGenerationConfig
from llm_engineering.application.run_configs import DigitalDataEtlConfig, FeatureEngineeringConfig
from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.datasets import InstructDataset
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from steps.authors import resolve_authors
from steps.etl import crawl_links_step
from steps.export import export_datasets_to_json
from steps.feature_engineering import update_feature_store
from steps.generate_datasets import generate_instruct_datasets, generate_preference_datasets, push_datasets
from tests.conftest import SAMPLE_DIR
from tests.crawl_site import BLOG, CrawlSite


def test_resolve_authors_names_every_author_or_fails_on_an_unknown_one(
    warehouse: MongoDataWarehouse, pipeline_env: Settings
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    assert len(resolve_authors.entrypoint([])) == 2
    with pytest.raises(Exception, match="No author named Nobody Known"):
        resolve_authors.entrypoint(["Nobody Known"])


def test_crawl_links_step_reports_every_link(
    warehouse: MongoDataWarehouse, pipeline_env: Settings, crawl_site: CrawlSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    config = DigitalDataEtlConfig(user_full_name="Theo Brandt", links=[crawl_site.url(BLOG.path)])
    report = crawl_links_step.entrypoint(config)
    assert report["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert warehouse.count_documents(DataCategory.ARTICLES) == 1


@pytest.mark.slow
def test_feature_and_dataset_steps_build_one_author(warehouse: MongoDataWarehouse, pipeline_env: Settings) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    author_ids = resolve_authors.entrypoint(["Theo Brandt"])
    report = update_feature_store.entrypoint(author_ids, FeatureEngineeringConfig())
    assert report["documents_seen"] == report["documents_changed"] > 0 and report["chunks_written"] > 0
    # The structure strategy asks no LLM, so the step runs in seconds.
    config = DatasetBuilderConfig(generation=SampleGenerationConfig(strategy=("structure",)))
    dataset = generate_instruct_datasets.entrypoint(author_ids, config)
    assert {category for category, split in dataset.splits.items() if split.train} == set(DataCategory)
    with pytest.raises(ValueError, match=r"dataset\.dataset_type: preference"):
        generate_preference_datasets.entrypoint(author_ids, config)


def test_export_step_says_to_run_the_dataset_pipelines_first(pipeline_env: Settings, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="run the dataset pipelines first"):
        export_datasets_to_json.entrypoint(["no_such_dataset_artifact"], str(tmp_path))


def test_push_step_keeps_the_dataset_local_unless_asked(pipeline_env: Settings) -> None:
    dataset = InstructDataset()
    assert push_datasets.entrypoint(dataset, False, "someone/llm-twin") is None
