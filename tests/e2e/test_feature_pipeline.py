"""The feature pipeline run through ZenML, checked the way a user checks it: tools.status and tools.search."""

import json
from pathlib import Path

import pytest
import yaml

from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT, SAMPLE_DIR, latest_artifact, run_tool


def config_for(tmp_path: Path, authors: list[str]) -> Path:
    config = yaml.safe_load((REPO_ROOT / "configs" / "feature_engineering.yaml").read_text())
    config["parameters"]["author_full_names"] = authors
    path = tmp_path / "feature_engineering.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_feature_pipeline_fills_the_feature_store_and_reruns_incrementally(
    warehouse: MongoDataWarehouse, pipeline_env: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    config = config_for(tmp_path, ["Theo Brandt"])

    assert llm_twin(["run", "feature-engineering", "--config", str(config)]) == 0
    first = latest_artifact("feature_store_report")
    assert first["documents_changed"] == 32 and first["chunks_written"] > 32

    status = json.loads(run_tool("status", "--json", env=cli_env))
    for category in DataCategory:
        assert status["qdrant"][category.cleaned_collection] == warehouse.count_documents(
            category,
            author_id=warehouse.find_user("Theo Brandt").id,  # type: ignore[union-attr]
        )
    assert sum(status["qdrant"][c.embedded_collection] for c in DataCategory) == first["chunks_written"]
    assert sum(status["authors"]["Maya Okafor"]["qdrant"].values()) == 0

    found = run_tool("search", "is Spark overkill for small data?", "--author", "Theo Brandt", "--k", "3", env=cli_env)
    assert found.count("Theo Brandt") == 3 and "https://" in found

    assert llm_twin(["run", "feature-engineering", "--config", str(config)]) == 0
    second = latest_artifact("feature_store_report")
    assert second["documents_changed"] == 0 and second["chunks_written"] == 0


def test_unknown_author_fails_the_run_with_a_clear_error(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    assert llm_twin(["run", "feature-engineering", "--config", str(config_for(tmp_path, ["Nobody Known"]))]) == 1
    assert "feature-engineering pipeline failed" in capsys.readouterr().err
    assert "No author named Nobody Known in the warehouse" in caplog.text
