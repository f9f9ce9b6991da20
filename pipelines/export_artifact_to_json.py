"""Export pipeline: the latest dataset artifacts → JSON files under output/."""

from zenml import pipeline

from steps.export import export_datasets_to_json


@pipeline
def export_artifact_to_json(artifact_names: list[str], output_dir: str) -> None:
    """Plain files for people and for tools outside ZenML."""
    export_datasets_to_json(artifact_names, output_dir)
