"""Export the MongoDB data warehouse (authors, documents, reviews) to JSON files, or import such files (idempotently).

llm-twin warehouse export [--dir output/data_warehouse | s3://bucket/prefix]
llm-twin warehouse import [--dir data/sample | s3://bucket/prefix]

`import` also reads the LLM Engineer's Handbook's dump (UserDocument.json, ArticleDocument.json, PostDocument.json,
RepositoryDocument.json) and converts its records to this project's documents.
"""

import sys
from collections.abc import Callable
from contextlib import closing
from typing import Annotated, TypeVar

import typer
from loguru import logger

from llm_engineering.application.warehouse_transfer import export_warehouse, import_warehouse
from llm_engineering.bootstrap.stores import build_review_store
from llm_engineering.bootstrap.warehouse_files import warehouse_files
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.ports import DocumentRepository, ReviewStore, WarehouseFiles, WriteOutcome
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging

DEFAULT_DIRS = {"export": "output/data_warehouse", "import": "data/sample"}
T = TypeVar("T")


# A string, not a Path: Path("s3://bucket/prefix") would fold the URL's "//" into "/".
DirOption = Annotated[
    str | None,
    typer.Option(
        "--dir",
        help=(
            "folder or s3://bucket/prefix of users.json, articles.json, posts.json, repositories.json "
            "(or the Handbook's *Document.json)"
        ),
    ),
]


def _transfer(folder: str, run: Callable[[DocumentRepository, WarehouseFiles, ReviewStore], T]) -> T | None:
    """`run` on the configured warehouse, the folder's files and the review store; None once a failure is printed."""
    try:
        settings = get_settings()
        with closing(build_review_store(settings)) as reviews:
            return run(MongoDataWarehouse.from_settings(settings), warehouse_files(folder, settings), reviews)
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def export(directory: DirOption = None) -> int:
    """Write the warehouse to JSON files (default folder: output/data_warehouse)."""
    configure_logging()
    target = directory or DEFAULT_DIRS["export"]
    counts = _transfer(target, export_warehouse)
    if counts is None:
        return 1
    logger.info("Exported to {}: {}", target, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def import_(directory: DirOption = None) -> int:
    """Load JSON files into the warehouse, idempotently (default folder: data/sample); also the Handbook's dump."""
    configure_logging()
    source = directory or DEFAULT_DIRS["import"]
    report = _transfer(source, import_warehouse)
    if report is None:
        return 1
    for name, counts in report.outcomes.items():
        logger.info("{:<24} {}", name, ", ".join(f"{k} {v}" for k, v in counts.items()))
    logger.info(
        "Imported {} users from {} ({} format): {} created, {} updated, {} unchanged.",
        report.users,
        source,
        report.format,
        report.total(WriteOutcome.CREATED),
        report.total(WriteOutcome.UPDATED),
        report.total(WriteOutcome.UNCHANGED),
    )
    return 0
