"""The whole data side in one run: ETL per author → feature store → instruction and preference datasets.

The run is assembled from the other pipelines' own config files, so each parameter lives in one place.
"""

from pathlib import Path
from typing import Any

import yaml
from zenml import pipeline

from steps.authors import resolve_authors
from steps.etl import crawl_links_step
from steps.feature_engineering import update_feature_store
from steps.generate_datasets import generate_instruct_datasets, generate_preference_datasets


def _parameters(path: str) -> dict[str, Any]:
    parameters: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["parameters"]
    return parameters


@pipeline
def end_to_end_data(etl_configs: list[str], feature_config: str, instruct_config: str, preference_config: str) -> None:
    """Unlike the book's version, this also builds the preference dataset."""
    authors = []
    for number, path in enumerate(etl_configs):
        etl = _parameters(path)
        authors.append(etl["user_full_name"])
        crawl_links_step(
            etl["user_full_name"],
            etl["links"],
            etl["crawler"],
            etl["routes"],
            etl["max_failure_fraction"],
            etl["max_workers"],
            etl["max_per_domain"],
            id=f"crawl_links_{number}",
        )
    author_ids = resolve_authors(authors, after=[f"crawl_links_{n}" for n in range(len(etl_configs))])
    features = _parameters(feature_config)
    update_feature_store(
        author_ids,
        features["full"],
        features["chunking"],
        features["embedding_batch_size"],
        features["write_batch_size"],
        id="update_feature_store",
    )
    generate_instruct_datasets(author_ids, _parameters(instruct_config)["dataset"], after="update_feature_store")
    generate_preference_datasets(author_ids, _parameters(preference_config)["dataset"], after="update_feature_store")
