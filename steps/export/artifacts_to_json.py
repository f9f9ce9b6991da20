"""Write the latest dataset artifacts as plain JSON files a person can open."""

import json
from pathlib import Path
from typing import Annotated

from loguru import logger
from zenml import step
from zenml.client import Client

from llm_engineering.application.dataset.builder import dataset_rows
from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from steps.metadata import record_metadata


@step
def export_datasets_to_json(artifact_names: list[str], output_dir: str) -> Annotated[list[str], "exported_files"]:
    """One `<artifact>.json` per artifact name: {category: {"train": [rows], "test": [rows]}}."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    missing: list[str] = []
    for name in artifact_names:
        try:
            dataset = Client().get_artifact_version(name).load()
        except KeyError:
            missing.append(name)
            continue
        if not isinstance(dataset, (InstructDataset, PreferenceDataset)):
            raise TypeError(f"Artifact {name} holds a {type(dataset).__name__}, not a dataset.")
        path = folder / f"{name}.json"
        path.write_text(json.dumps(dataset_rows(dataset), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(str(path))
        logger.info("Wrote {}.", path)
    if missing and not written:
        raise KeyError(f"No artifact named {', '.join(missing)} yet: run the dataset pipelines first.")
    for name in missing:
        logger.warning("No artifact named {} yet; skipped it.", name)
    record_metadata({"files": written})
    return written
