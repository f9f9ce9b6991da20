"""`python -m tools.status --json` as a user runs it."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from llm_engineering.application.warehouse_transfer import import_warehouse
from llm_engineering.domain.datasets import InstructSplit
from llm_engineering.domain.reviews import Review, Verdict, sample_key
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.db.mongo_reviews import MongoReviewStore
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.infrastructure.local.loopback import free_port
from tests.conftest import REPO_ROOT, SAMPLE_DIR, run_tool
from tests.training_support import instruct_dataset


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


@pytest.mark.slow
def test_status_shows_the_reviews_of_the_newest_datasets_per_generation_strategy(
    warehouse: MongoDataWarehouse, cli_env: dict[str, str]
) -> None:
    from zenml import save_artifact

    generated = instruct_dataset(train=5, test=1).splits[DataCategory.ARTICLES]
    strategies = ["backtranslation"] * 4 + ["structure"] * 2
    rows = [
        row.model_copy(update={"strategy": strategy})
        for row, strategy in zip(generated.train + generated.test, strategies, strict=True)
    ]
    dataset = instruct_dataset(train=0, test=0).model_copy(
        update={"splits": {DataCategory.ARTICLES: InstructSplit(train=rows[:5], test=rows[5:])}}
    )
    artifact = save_artifact(dataset, name="instruct_datasets")
    store = MongoReviewStore(warehouse.database)
    now = datetime(2030, 1, 2, tzinfo=UTC)
    for row, verdict, texts in [
        (rows[0], Verdict.ACCEPT, {}),
        (rows[1], Verdict.REJECT, {}),
        (rows[2], Verdict.REJECT, {}),
        (rows[4], Verdict.ACCEPT, {}),
        (rows[5], Verdict.EDIT, {"answer": "I measure first."}),
    ]:
        store.save_review(Review(key=sample_key(row), verdict=verdict, reviewer="Maya", reviewed_at=now, **texts))

    report = status(cli_env)
    datasets = report["datasets"]
    assert isinstance(datasets, dict) and "instruction" in datasets
    instruction = datasets["instruction"]
    assert instruction["version"] == f"instruct_datasets version {artifact.version}"
    assert {k: instruction[k] for k in ("total", "reviewed", "accepted", "edited", "rejected", "pending")} == {
        "total": 6,
        "reviewed": 5,
        "accepted": 2,
        "edited": 1,
        "rejected": 2,
        "pending": 1,
    }
    assert instruction["acceptance_rate"] == 0.4
    by_strategy = instruction["strategies"]
    backtranslation, structure = by_strategy["backtranslation"], by_strategy["structure"]
    assert (backtranslation["reviewed"], backtranslation["acceptance_rate"]) == (3, 0.3333)
    assert (structure["reviewed"], structure["acceptance_rate"]) == (2, 0.5)

    table = run_tool("status", env=cli_env)
    counts = "6 rows, 5 reviewed (accepted 2, edited 1, rejected 2), 1 pending; acceptance 40%"
    assert f"instruction (instruct_datasets version {artifact.version}): {counts}" in table
    assert "backtranslation      4 rows     3 reviewed   acceptance 33%" in table
