"""Run any pipeline of the twin with its YAML config.

    python -m tools.run digital-data-etl [--config configs/digital_data_etl_example.yaml] [--no-cache]
    python -m tools.run feature-engineering --print-config     # every key the config may hold, with defaults
    python -m tools.run continuous-training --schedule "0 3 * * 1"   # on orchestrators that support schedules
    python -m tools.run optimize-model --version 3                   # a version other than the config's

Each pipeline reads configs/<pipeline>.yaml unless --config names another file. The file's `parameters:`
are checked against the pipeline's typed config before ZenML starts; a mistake is one line naming the key.
"""

import argparse
import importlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from llm_engineering.application.run_configs import parse_run_config, read_config_file
from llm_engineering.domain.config import RunConfig
from llm_engineering.domain.exceptions import ConfigError
from tools.cli_logging import configure_logging


@dataclass(frozen=True)
class PipelineEntry:
    """Where a pipeline lives and which config it reads by default."""

    module: str
    function: str
    config: Path
    summary: str
    config_model: str  # "module:Class" of the pipeline's typed config

    def load_config_model(self) -> type[RunConfig]:
        """The pipeline's config class, imported without ZenML so that checking a config takes a second."""
        module_name, _, class_name = self.config_model.partition(":")
        model: type[RunConfig] = getattr(importlib.import_module(module_name), class_name)
        return model


PIPELINES: dict[str, PipelineEntry] = {
    "digital-data-etl": PipelineEntry(
        "pipelines.digital_data_etl",
        "digital_data_etl",
        Path("configs/digital_data_etl_example.yaml"),
        "crawl an author's links into MongoDB",
        "llm_engineering.application.run_configs:EtlConfig",
    ),
    "feature-engineering": PipelineEntry(
        "pipelines.feature_engineering",
        "feature_engineering",
        Path("configs/feature_engineering.yaml"),
        "clean, chunk and embed the warehouse into Qdrant",
        "llm_engineering.application.run_configs:FeatureConfig",
    ),
    "generate-datasets": PipelineEntry(
        "pipelines.generate_datasets",
        "generate_datasets",
        Path("configs/generate_instruct_datasets.yaml"),
        "build instruction or preference datasets from the feature store",
        "llm_engineering.application.run_configs:DatasetsConfig",
    ),
    "end-to-end-data": PipelineEntry(
        "pipelines.end_to_end_data",
        "end_to_end_data",
        Path("configs/end_to_end_data.yaml"),
        "ETL per author, then features, then both datasets",
        "llm_engineering.application.run_configs:EndToEndDataConfig",
    ),
    "export-artifact-to-json": PipelineEntry(
        "pipelines.export_artifact_to_json",
        "export_artifact_to_json",
        Path("configs/export_artifact_to_json.yaml"),
        "write the latest dataset artifacts to output/ as JSON",
        "llm_engineering.application.run_configs:ExportConfig",
    ),
    "training": PipelineEntry(
        "pipelines.training",
        "training",
        Path("configs/training.yaml"),
        "LoRA SFT then DPO of the twin",
        "llm_engineering.model.finetuning.config:TrainingConfig",
    ),
    "evaluating": PipelineEntry(
        "pipelines.evaluating",
        "evaluating",
        Path("configs/evaluating.yaml"),
        "measure the latest TwinLlama against production and the base; promote it when it wins",
        "llm_engineering.model.evaluation.config:EvaluationConfig",
    ),
    "optimize-model": PipelineEntry(
        "pipelines.optimize_model",
        "optimize_model",
        Path("configs/optimize_model.yaml"),
        "export a TwinLlama version for OpenVINO GenAI (int8), measure it, register it on the version",
        "llm_engineering.model.inference.config:OptimizeModelConfig",
    ),
    "continuous-training": PipelineEntry(
        "pipelines.continuous_training",
        "continuous_training",
        Path("configs/continuous_training.yaml"),
        "data side, SFT, DPO, evaluation and promotion in one run",
        "llm_engineering.model.continuous_training:ContinuousTrainingConfig",
    ),
}


def load_pipeline(name: str) -> object:
    """Import the pipeline object (this imports ZenML, so it happens only once the config is valid)."""
    entry = PIPELINES[name]
    return getattr(importlib.import_module(entry.module), entry.function)


def schedule_refusal(pipeline: str, cron: str) -> str | None:
    """Why the active stack cannot run `pipeline` on `cron` (None when it can); the local orchestrator cannot."""
    from zenml.client import Client

    orchestrator = Client().active_stack.orchestrator
    if orchestrator.config.is_schedulable:
        return None
    return (
        f"the active ZenML orchestrator ({orchestrator.name}, {orchestrator.flavor}) cannot run on a schedule; "
        f"run it from cron instead ('{cron} cd {Path.cwd()} && python -m tools.run {pipeline}') or switch to a stack "
        "whose orchestrator supports schedules (Kubeflow, Airflow, SageMaker, Vertex, Kubernetes)."
    )


def load_config(name: str, path: Path, version: str | None = None) -> tuple[RunConfig, dict[str, object]]:
    """The pipeline's typed config from `path` (ConfigError, one line, when it is wrong) and ZenML's run options."""
    entry = PIPELINES[name]
    model = entry.load_config_model()
    content = read_config_file(path)
    parameters = content.get("parameters")
    if version is not None:
        if "version" not in model.model_fields:
            raise ConfigError(f"--version is for pipelines whose config has a version; {name} has none.")
        parameters = {**(parameters or {}), "version": version}
    config = parse_run_config(parameters, model, source=str(path))
    return config, {key: value for key, value in content.items() if key != "parameters"}


def launch(name: str, config: RunConfig, run_options: dict[str, object]) -> None:
    """Run the pipeline with ZenML's own run options (enable_cache, settings, ...); RuntimeError when it fails."""
    pipeline = load_pipeline(name)
    with tempfile.TemporaryDirectory(prefix="llm-twin-run-") as folder:
        # ZenML's own run options keep their usual YAML form.
        options_file = Path(folder) / "run.yaml"
        options_file.write_text(yaml.safe_dump(run_options), encoding="utf-8")
        pipeline.with_options(config_path=str(options_file))(config=config)  # type: ignore[attr-defined]


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
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective config (every key, defaults included) as YAML, then exit without running",
    )
    parser.add_argument(
        "--version",
        metavar="N",
        help="the model version to work on, instead of the config's `version` (optimize-model: production by default)",
    )
    parser.add_argument(
        "--schedule",
        metavar="CRON",
        help='run on a cron schedule ("0 3 * * 1"), on orchestrators that support schedules',
    )
    args = parser.parse_args(argv)
    entry = PIPELINES[args.pipeline]
    path: Path = args.config or entry.config
    try:
        config, run_options = load_config(args.pipeline, path, args.version)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        effective = {**run_options, "parameters": config.model_dump(mode="json")}
        print(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), end="")
        return 0
    configure_logging()
    if args.schedule:
        refusal = schedule_refusal(args.pipeline, args.schedule)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return 2
        run_options["schedule"] = {"cron_expression": args.schedule}
    if args.no_cache:
        run_options["enable_cache"] = False
    try:
        launch(args.pipeline, config, run_options)
    except RuntimeError as error:
        # ZenML has already logged the failing step's traceback; end with one line that says what failed.
        print(f"error: the {args.pipeline} pipeline failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
