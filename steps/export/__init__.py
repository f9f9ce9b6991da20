"""Steps of the export pipeline."""

from steps.export.artifacts_to_json import export_datasets_to_json

__all__ = ["export_datasets_to_json"]
