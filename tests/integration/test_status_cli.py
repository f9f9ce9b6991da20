"""`python -m tools.status --json` as a user runs it."""

import json
import subprocess
import sys

from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from tests.conftest import REPO_ROOT, SAMPLE_DIR, run_tool
from tests.uvicorn_support import free_port


def status(env: dict[str, str]) -> dict[str, object]:
    report: dict[str, object] = json.loads(run_tool("status", "--json", env=env))
    return report


def test_status_reports_counts_per_collection_and_author(
    warehouse: MongoDataWarehouse, cli_env: dict[str, str]
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    report = status(cli_env)
    assert {"mongo", "qdrant", "backends"} <= set(report)
    mongo = report["mongo"]
    assert isinstance(mongo, dict)
    assert mongo["users"] == 2
    for category in DataCategory:
        assert mongo[category.value] == warehouse.count_documents(category)
    assert report["backends"] == {
        "mongo": "embedded",
        "mongo_database": cli_env["DATABASE_NAME"],
        "qdrant": "embedded",
        "data_dir": cli_env["DATA_DIR"],
    }
    qdrant = report["qdrant"]
    assert isinstance(qdrant, dict) and qdrant["embedded_articles"] == 0
    authors = report["authors"]
    assert isinstance(authors, dict) and set(authors) == {"Maya Okafor", "Theo Brandt"}


def test_status_table_is_readable(warehouse: MongoDataWarehouse, cli_env: dict[str, str]) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    table = run_tool("status", env=cli_env)
    assert "MongoDB" in table and "Qdrant" in table and "Maya Okafor" in table


def test_unreachable_mongo_is_listed_under_errors_and_exits_non_zero(cli_env: dict[str, str]) -> None:
    env = cli_env | {"DATABASE_HOST": f"mongodb://127.0.0.1:{free_port()}", "DATABASE_TIMEOUT_MS": "300"}
    result = subprocess.run(
        [sys.executable, "-m", "tools", "status", "--json"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    [error] = report["errors"]
    assert error.startswith("mongo: ") and "DATABASE_HOST" in error
    assert report["mongo"] == {} and report["authors"] == {}
    assert report["qdrant"]["embedded_articles"] == 0  # the store that works is still reported
    assert report["backends"]["mongo"] == "remote"
