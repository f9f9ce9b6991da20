"""Export the MongoDB data warehouse to JSON files, or import such files (idempotently).

python -m tools.data_warehouse export [--dir output/data_warehouse]
python -m tools.data_warehouse import [--dir data/sample]

`import` also reads the LLM Engineer's Handbook's dump (UserDocument.json, ArticleDocument.json, PostDocument.json,
RepositoryDocument.json) and converts its records to this project's documents.
"""

import argparse
import sys
from pathlib import Path

from loguru import logger

from llm_engineering.application.warehouse_transfer import export_warehouse, import_warehouse
from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging

DEFAULT_DIRS = {"export": Path("output/data_warehouse"), "import": Path("data/sample")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.data_warehouse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["export", "import"])
    parser.add_argument(
        "--dir",
        type=Path,
        help="folder of users.json, articles.json, posts.json, repositories.json (or the Handbook's *Document.json)",
    )
    args = parser.parse_args(argv)
    configure_logging()
    directory: Path = args.dir or DEFAULT_DIRS[args.action]
    try:
        warehouse = MongoDataWarehouse.from_settings(get_settings())
        if args.action == "export":
            counts = export_warehouse(warehouse, directory)
            logger.info("Exported to {}: {}", directory, ", ".join(f"{k} {v}" for k, v in counts.items()))
        else:
            report = import_warehouse(warehouse, directory)
            for name, counts in report.outcomes.items():
                logger.info("{:<24} {}", name, ", ".join(f"{k} {v}" for k, v in counts.items()))
            logger.info(
                "Imported {} users from {} ({} format): {} created, {} updated, {} unchanged.",
                report.users,
                directory,
                report.format,
                report.total(WriteOutcome.CREATED),
                report.total(WriteOutcome.UPDATED),
                report.total(WriteOutcome.UNCHANGED),
            )
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
