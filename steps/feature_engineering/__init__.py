"""Steps of the feature pipeline."""

from steps.feature_engineering.update_feature_store import update_feature_store

__all__ = ["update_feature_store"]
