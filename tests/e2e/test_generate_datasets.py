"""Dataset and export pipelines through ZenML on a slice of the sample corpus, with the real local LLM."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT, SAMPLE_DIR


def write_config(tmp_path: Path, name: str, update: dict[str, Any]) -> Path:
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "configs" / name).read_text())
    for key, value in update.items():
        target = config["parameters"]
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_instruct_and_preference_pipelines_then_export(
    warehouse: MongoDataWarehouse, pipeline_env: Settings, tmp_path: Path
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    features = write_config(tmp_path, "feature_engineering.yaml", {"author_full_names": ["Theo Brandt"]})
    assert llm_twin(["run", "feature-engineering", "--config", str(features)]) == 0
    small = {
        "author_full_names": ["Theo Brandt"],
        "dataset.extracts.categories": ["posts"],
        "dataset.extracts.max_per_category": 4,
        "dataset.generation.max_new_tokens": 24,
        "dataset.generation.rejected_max_new_tokens": 24,
        "dataset.generation.rejected_max_per_category": 4,
    }
    for name in ("generate_instruct_datasets.yaml", "generate_preference_datasets.yaml"):
        assert llm_twin(["run", "generate-datasets", "--config", str(write_config(tmp_path, name, small))]) == 0

    from zenml.client import Client

    instruct = Client().get_artifact_version("instruct_datasets")
    assert instruct.run_metadata["extracts"] == 4
    assert instruct.run_metadata["strategy"] == ["structure", "backtranslation"]
    kept_by_strategy = instruct.run_metadata["kept_by_strategy"]
    assert isinstance(kept_by_strategy, dict) and kept_by_strategy["structure"] == 25  # one per post, no LLM
    assert instruct.run_metadata["llm_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"

    output = tmp_path / "output"
    export = write_config(tmp_path, "export_artifact_to_json.yaml", {"output_dir": str(output)})
    assert llm_twin(["run", "export-artifact-to-json", "--config", str(export)]) == 0
    rows = json.loads((output / "instruct_datasets.json").read_text())
    preference = json.loads((output / "preference_datasets.json").read_text())
    assert set(rows) == set(preference) == {"posts"}
    assert set(rows["posts"]) == {"train", "test"}
    for row in preference["posts"]["train"] + preference["posts"]["test"]:
        assert set(row) >= {"prompt", "chosen", "rejected"}
