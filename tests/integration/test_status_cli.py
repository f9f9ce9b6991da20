"""`python -m tools.status --json` as a user runs it."""

import json

from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from tests.conftest import SAMPLE_DIR, run_tool


def status(env: dict[str, str]) -> dict[str, object]:
    report: dict[str, object] = json.loads(run_tool("tools.status", "--json", env=env))
    return report


def test_status_reports_counts_per_collection_and_author(
    warehouse: MongoDataWarehouse, cli_env: dict[str, str]
) -> None:
    import_warehouse(warehouse, SAMPLE_DIR)
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
    import_warehouse(warehouse, SAMPLE_DIR)
    table = run_tool("tools.status", env=cli_env)
    assert "MongoDB" in table and "Qdrant" in table and "Maya Okafor" in table
