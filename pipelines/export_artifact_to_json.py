"""Export pipeline: the latest dataset artifacts → JSON files under output/."""

from zenml import pipeline

from llm_engineering.application.run_configs import ExportArtifactConfig
from steps.export import export_datasets_to_json


@pipeline
def export_artifact_to_json(config: ExportArtifactConfig) -> None:
    """Plain files for people and for tools outside ZenML."""
    export_datasets_to_json(config.artifact_names, config.output_dir)
