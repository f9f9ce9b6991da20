"""Run any pipeline of the twin with its YAML config.

    python -m tools.run digital-data-etl [--config configs/digital_data_etl_example.yaml] [--no-cache]

Each pipeline reads configs/<pipeline>.yaml unless --config names another file.
"""

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_engineering.domain.exceptions import PipelineNotAvailableError
from tools.cli_logging import configure_logging


@dataclass(frozen=True)
class PipelineEntry:
    """Where a pipeline lives and which config it reads by default."""

    module: str
    function: str
    config: Path
    summary: str


PIPELINES: dict[str, PipelineEntry] = {
    "digital-data-etl": PipelineEntry(
        "pipelines.digital_data_etl",
        "digital_data_etl",
        Path("configs/digital_data_etl_example.yaml"),
        "crawl an author's links into MongoDB",
    ),
    "feature-engineering": PipelineEntry(
        "pipelines.feature_engineering",
        "feature_engineering",
        Path("configs/feature_engineering.yaml"),
        "clean, chunk and embed the warehouse into Qdrant",
    ),
    "generate-datasets": PipelineEntry(
        "pipelines.generate_datasets",
        "generate_datasets",
        Path("configs/generate_instruct_datasets.yaml"),
        "build instruction or preference datasets from the feature store",
    ),
    "end-to-end-data": PipelineEntry(
        "pipelines.end_to_end_data",
        "end_to_end_data",
        Path("configs/end_to_end_data.yaml"),
        "ETL per author, then features, then both datasets",
    ),
    "export-artifact-to-json": PipelineEntry(
        "pipelines.export_artifact_to_json",
        "export_artifact_to_json",
        Path("configs/export_artifact_to_json.yaml"),
        "write the latest dataset artifacts to output/ as JSON",
    ),
    "training": PipelineEntry(
        "pipelines.training", "training", Path("configs/training.yaml"), "LoRA SFT then DPO of the twin"
    ),
    "evaluating": PipelineEntry(
        "pipelines.evaluating", "evaluating", Path("configs/evaluating.yaml"), "LLM-as-judge and objective metrics"
    ),
}


def load_pipeline(name: str) -> object:
    """Import the pipeline object, or say plainly that it is not part of this build yet."""
    entry = PIPELINES[name]
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as error:
        if error.name != entry.module:
            raise
        raise PipelineNotAvailableError(f"The {name} pipeline is not built yet in this version of LLM Twin.") from None
    return getattr(module, entry.function)


def main(argv: list[str] | None = None) -> int:
    listing = "\n".join(f"  {name:<26}{entry.summary}" for name, entry in PIPELINES.items())
    parser = argparse.ArgumentParser(
        prog="python -m tools.run",
        description=f"{__doc__}\npipelines:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pipeline", choices=list(PIPELINES), metavar="PIPELINE", help="one of the pipelines listed above"
    )
    parser.add_argument("--config", type=Path, help="YAML run configuration (default: configs/<pipeline>.yaml)")
    parser.add_argument("--no-cache", action="store_true", help="re-run every step instead of reusing cached outputs")
    args = parser.parse_args(argv)
    configure_logging()
    config: Path = args.config or PIPELINES[args.pipeline].config
    try:
        pipeline = load_pipeline(args.pipeline)
    except PipelineNotAvailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not config.exists():
        print(f"error: config file {config} does not exist.", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"config_path": str(config)}
    if args.no_cache:
        options["enable_cache"] = False
    try:
        pipeline.with_options(**options)()  # type: ignore[attr-defined]
    except RuntimeError as error:
        # ZenML has already logged the failing step's traceback; end with one line that says what failed.
        print(f"error: the {args.pipeline} pipeline failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
