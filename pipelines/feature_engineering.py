"""Feature pipeline: the warehouse's raw documents → cleaned documents and embedded chunks in Qdrant."""

from zenml import pipeline

from llm_engineering.application.run_configs import FeatureEngineeringConfig
from steps.authors import resolve_authors
from steps.feature_engineering import update_feature_store


@pipeline
def feature_engineering(config: FeatureEngineeringConfig) -> None:
    """Incremental by content hash: unchanged documents cost one hash comparison each."""
    update_feature_store(resolve_authors(config.author_full_names), config)
