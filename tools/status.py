"""What the twin holds: MongoDB and Qdrant counts, overall and per author, the reviews of the newest datasets, and the
backends in use.

llm-twin status          # a readable table
llm-twin status --json   # {"mongo": {}, "qdrant": {}, "datasets": {}, "backends": {}, "authors": {}, "errors": [...]}

`datasets` has, per kind of the registry's newest datasets, how many rows are accepted, edited, rejected and pending,
and the acceptance rate (accepted as generated, of the reviewed rows) per generation strategy, so a weak strategy
shows itself. The review page shows the same counts.

A store that cannot be read is listed under `errors`, with the variables to check; the rest is still reported,
and the exit status is 1.
"""

import json
import sys
from typing import Annotated, Any

import typer
from pymongo.errors import PyMongoError

from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.review_desk import SampleFilter
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import USERS, MongoDataWarehouse
from llm_engineering.settings import Settings, get_settings
from tools.cli_logging import configure_logging, zenml_console_to_stderr

QDRANT_COLLECTIONS = [c.cleaned_collection for c in DataCategory] + [c.embedded_collection for c in DataCategory]


def mongo_error(settings: Settings, error: Exception) -> str:
    """The MongoDB failure, with the variables that point the project at its warehouse."""
    variables = (
        "LOCAL_DATABASE_PORT and DATA_DIR (the embedded server), or set DATABASE_HOST"
        if settings.uses_embedded_mongo
        else "DATABASE_HOST"
    )
    return f"mongo: {error} Check {variables}, and DATABASE_NAME={settings.DATABASE_NAME}."


def collect_status(settings: Settings) -> dict[str, Any]:
    """Counts per collection and per author, and the datasets' reviews; a store that cannot be read is reported."""
    from llm_engineering.bootstrap.stores import build_vector_store

    report: dict[str, Any] = {
        "mongo": {},
        "qdrant": {},
        "datasets": {},
        "backends": {
            "mongo": "embedded" if settings.uses_embedded_mongo else "remote",
            "mongo_database": settings.DATABASE_NAME,
            "qdrant": "embedded" if settings.qdrant_backend == "local" else settings.qdrant_backend,
            "data_dir": str(settings.data_dir),
        },
        "authors": {},
        "errors": [],
    }
    users: list[UserDocument] = []
    try:
        warehouse = MongoDataWarehouse.from_settings(settings)
        users = warehouse.list_users()
        mongo = {USERS: len(users)} | {c.value: warehouse.count_documents(c) for c in DataCategory}
        authors = {
            user.full_name: {
                "mongo": {c.value: warehouse.count_documents(c, author_id=user.id) for c in DataCategory},
                "qdrant": {},
            }
            for user in users
        }
    except (LLMTwinError, PyMongoError) as error:
        users = []
        report["errors"].append(mongo_error(settings, error))
    else:
        report["mongo"], report["authors"] = mongo, authors
    try:
        # Opened only for the counts: the embedded store admits one process at a time.
        store = build_vector_store(settings)
        try:
            for name in QDRANT_COLLECTIONS:
                report["qdrant"][name] = store.count(name)
                for user in users:
                    report["authors"][user.full_name]["qdrant"][name] = store.count(name, {"author_id": str(user.id)})
        finally:
            store.close()
    except LLMTwinError as error:
        report["errors"].append(str(error))
    if not report["mongo"]:
        return report
    try:
        report["datasets"] = dataset_reviews(settings)
    except (LLMTwinError, PyMongoError) as error:
        report["errors"].append(f"datasets: {error}")
    return report


def dataset_reviews(settings: Settings) -> dict[str, Any]:
    """Per kind of the newest datasets: its version, the counts of each review status, and the same per strategy."""
    from llm_engineering.bootstrap.review_desk import build_review_desk

    zenml_console_to_stderr()
    desk = build_review_desk(settings)
    try:
        progress = desk.progress(SampleFilter())
    finally:
        desk.close()
    datasets: dict[str, Any] = {}
    for kind in progress.kinds:
        counts = kind.model_dump(exclude={"kind", "strategies"})
        strategies = {row.strategy: row.model_dump(exclude={"strategy"}) for row in kind.strategies}
        datasets[kind.kind] = counts | {"strategies": strategies}
    return datasets


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def render_datasets(datasets: dict[str, Any]) -> list[str]:
    """The review counts of each dataset, then its acceptance rate per generation strategy."""
    lines = ["Datasets (reviews; acceptance = accepted as generated, of the reviewed rows)"]
    if not datasets:
        lines.append("  none in the registry yet")
    for kind, counts in datasets.items():
        lines.append(
            f"  {kind} ({counts['version']}): {counts['total']} rows, {counts['reviewed']} reviewed "
            f"(accepted {counts['accepted']}, edited {counts['edited']}, rejected {counts['rejected']}), "
            f"{counts['pending']} pending; acceptance {_percent(counts['acceptance_rate'])}"
        )
        for strategy, row in counts["strategies"].items():
            lines.append(
                f"    {strategy:<16}{row['total']:>6} rows{row['reviewed']:>6} reviewed   "
                f"acceptance {_percent(row['acceptance_rate'])}"
            )
    return lines


def render_table(report: dict[str, Any]) -> str:
    """The report as aligned text for a terminal."""
    lines = [f"backends: {', '.join(f'{k}={v}' for k, v in report['backends'].items())}", ""]
    width = max((len(name) for name in [*report["mongo"], *report["qdrant"]]), default=10) + 2
    lines.append("MongoDB")
    lines += [f"  {name:<{width}}{count:>8}" for name, count in report["mongo"].items()]
    lines.append("Qdrant")
    lines += [f"  {name:<{width}}{count:>8}" for name, count in report["qdrant"].items()]
    for author, stores in report["authors"].items():
        mongo = ", ".join(f"{k} {v}" for k, v in stores["mongo"].items())
        chunks = sum(v for k, v in stores["qdrant"].items() if k.startswith("embedded_"))
        lines.append(f"{author}: {mongo}; {chunks} embedded chunks")
    if report["datasets"] or report["mongo"]:
        lines += render_datasets(report["datasets"])
    lines += [f"error: {error}" for error in report["errors"]]
    return "\n".join(lines)


def status(
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object instead of a table")] = False,
) -> int:
    """Document and chunk counts per collection and author, dataset reviews, and which backends the settings use."""
    configure_logging()
    try:
        report = collect_status(get_settings())
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, sort_keys=True) if json_output else render_table(report))
    return 1 if report["errors"] else 0
