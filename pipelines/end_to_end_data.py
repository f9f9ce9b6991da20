"""The whole data side in one run: ETL per author → feature store → instruction and preference datasets.

The run is assembled from the other pipelines' own config files (validated together before anything runs),
so each parameter lives in one place.
"""

from zenml import pipeline

from llm_engineering.application.run_configs import EndToEndDataConfig
from steps.authors import resolve_authors
from steps.etl import crawl_links_step
from steps.feature_engineering import update_feature_store
from steps.generate_datasets import generate_instruct_datasets, generate_preference_datasets


@pipeline
def end_to_end_data(config: EndToEndDataConfig) -> None:
    """Unlike the book's version, this also builds the preference dataset."""
    crawls = [f"crawl_links_{number}" for number in range(len(config.etl_configs))]
    for etl, crawl in zip(config.etl_configs, crawls, strict=True):
        crawl_links_step(etl, id=crawl)
    author_ids = resolve_authors([etl.user_full_name for etl in config.etl_configs], after=crawls)
    update_feature_store(author_ids, config.feature_config, id="update_feature_store")
    generate_instruct_datasets(author_ids, config.instruct_config.dataset, after="update_feature_store")
    generate_preference_datasets(author_ids, config.preference_config.dataset, after="update_feature_store")
