"""People's reviews through Label Studio: review tasks out, annotations back in as reviews.

llm-twin reviews export-tasks [--dir output/label_studio] [--all]
llm-twin reviews import FILE [FILE ...] [--reviewer NAME]

`export-tasks` writes, per dataset kind, the tasks of the newest dataset's pending rows (`--all`: every row) as
`<kind>_tasks.json` and the labeling config to make the project with as `<kind>_config.xml`. `import` reads the
project's JSON export back into the warehouse's reviews; a second import of the same file changes nothing.
"""

import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from pymongo.errors import PyMongoError

from llm_engineering.application.dataset.label_studio import (
    AnnotatedTask,
    export_review_tasks,
    import_annotations,
    parse_export,
)
from llm_engineering.bootstrap.stores import build_review_store
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.infrastructure.dataset_artifacts import ZenMLDatasetArtifacts
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging

DEFAULT_DIR = Path("output/label_studio")
MAKE_DATASETS = "poe run-generate-instruct-datasets-pipeline / poe run-generate-preference-datasets-pipeline"


def export_tasks(
    directory: Annotated[Path, typer.Option("--dir", help="folder for <kind>_tasks.json and <kind>_config.xml")] = (
        DEFAULT_DIR
    ),
    all_rows: Annotated[bool, typer.Option("--all", help="every row, not only the pending ones")] = False,
) -> int:
    """Write Label Studio tasks of the newest datasets' pending rows (--all: every row) and a config per kind."""
    configure_logging()
    try:
        with closing(build_review_store(get_settings())) as store:
            exports = export_review_tasks(ZenMLDatasetArtifacts(), store, include_reviewed=all_rows)
        directory.mkdir(parents=True, exist_ok=True)
    except (LLMTwinError, PyMongoError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for export in exports:
        tasks_file, config_file = directory / f"{export.kind}_tasks.json", directory / f"{export.kind}_config.xml"
        config_file.write_text(export.config, encoding="utf-8")
        tasks_file.write_text(json.dumps(export.tasks, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if export.version is None:
            logger.warning(
                "No {} dataset in the registry yet ({}); wrote no tasks to {}.", export.kind, MAKE_DATASETS, tasks_file
            )
            continue
        which = "" if all_rows else "pending "
        logger.info(
            "{}: {} {}task(s) of {} row(s) in {}; make the project with the labeling config {}.",
            export.version.label,
            len(export.tasks),
            which,
            export.rows,
            tasks_file,
            config_file,
        )
    if all(export.version is None for export in exports):
        print(f"error: the registry has no dataset to review yet; make one first ({MAKE_DATASETS}).", file=sys.stderr)
        return 1
    return 0


def _read_export(path: Path) -> list[AnnotatedTask]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LLMTwinError(f"{path} does not exist; pass the JSON file Label Studio's Export wrote.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LLMTwinError(f"{path} is not JSON ({error}); export the Label Studio project as JSON.") from None
    return parse_export(payload, str(path))


def import_(
    files: Annotated[list[Path], typer.Argument(help="Label Studio's JSON export(s) of the review project(s)")],
    reviewer: Annotated[
        str | None,
        typer.Option(help="the reviewer's name for annotations the export names by Label Studio user id only"),
    ] = None,
) -> int:
    """Read Label Studio's JSON export(s) back into reviews: idempotent; a task that cannot be imported is reported."""
    configure_logging()
    try:
        # Every file is checked before anything is saved: a wrong file refuses the import, not half of it.
        exports = {path: _read_export(path) for path in files}
        with closing(build_review_store(get_settings())) as store:
            artifacts = ZenMLDatasetArtifacts()
            reports = {
                path: import_annotations(tasks, artifacts, store, default_reviewer=reviewer)
                for path, tasks in exports.items()
            }
    except (LLMTwinError, PyMongoError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path, report in reports.items():
        for problem in report.problems:
            logger.warning("{}: {}", path, problem)
        logger.info("Imported {}: {}.", path, report.describe())
    return 1 if any(report.problems for report in reports.values()) else 0
