"""Run any pipeline of the twin with its YAML config.

    llm-twin run digital-data-etl [--config configs/digital_data_etl_example.yaml] [--no-cache]
    llm-twin run feature-engineering --print-config     # every key the config may hold, with defaults
    llm-twin run continuous-training --schedule "0 3 * * 1"   # on orchestrators that support schedules
    llm-twin run optimize-model --version 3                   # a version other than the config's

Each pipeline reads configs/<pipeline>.yaml unless --config names another file. The file's `parameters:`
are checked against the pipeline's typed config before ZenML starts; a mistake is one line naming the key.
"""

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from llm_engineering.application.run_configs import (
    DigitalDataEtlConfig,
    EndToEndDataConfig,
    ExportArtifactConfig,
    FeatureEngineeringConfig,
    GenerateDatasetsConfig,
    parse_run_config,
    read_config_file,
)
from llm_engineering.domain.config import RunConfig
from llm_engineering.domain.exceptions import ConfigError
from llm_engineering.model.continuous_training import ContinuousTrainingConfig
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.inference.config import OptimizeModelConfig
from tools.cli_logging import configure_logging


class Pipeline(StrEnum):
    """The pipelines `llm-twin run` runs."""

    DIGITAL_DATA_ETL = "digital-data-etl"
    FEATURE_ENGINEERING = "feature-engineering"
    GENERATE_DATASETS = "generate-datasets"
    END_TO_END_DATA = "end-to-end-data"
    EXPORT_ARTIFACT_TO_JSON = "export-artifact-to-json"
    TRAINING = "training"
    EVALUATING = "evaluating"
    OPTIMIZE_MODEL = "optimize-model"
    CONTINUOUS_TRAINING = "continuous-training"


@dataclass(frozen=True)
class PipelineEntry:
    """Where a pipeline lives and which config it reads by default."""

    load: Callable[[], object]  # imports the pipeline (and ZenML), so only once the config is valid
    config: Path
    summary: str
    # The pipeline's typed config: importing it takes no ZenML, so checking a config takes a second.
    config_model: type[RunConfig]


def _digital_data_etl() -> object:
    from pipelines.digital_data_etl import digital_data_etl

    return digital_data_etl


def _feature_engineering() -> object:
    from pipelines.feature_engineering import feature_engineering

    return feature_engineering


def _generate_datasets() -> object:
    from pipelines.generate_datasets import generate_datasets

    return generate_datasets


def _end_to_end_data() -> object:
    from pipelines.end_to_end_data import end_to_end_data

    return end_to_end_data


def _export_artifact_to_json() -> object:
    from pipelines.export_artifact_to_json import export_artifact_to_json

    return export_artifact_to_json


def _training() -> object:
    from pipelines.training import training

    return training


def _evaluating() -> object:
    from pipelines.evaluating import evaluating

    return evaluating


def _optimize_model() -> object:
    from pipelines.optimize_model import optimize_model

    return optimize_model


def _continuous_training() -> object:
    from pipelines.continuous_training import continuous_training

    return continuous_training


PIPELINES: dict[Pipeline, PipelineEntry] = {
    Pipeline.DIGITAL_DATA_ETL: PipelineEntry(
        _digital_data_etl,
        Path("configs/digital_data_etl_example.yaml"),
        "crawl an author's links into MongoDB",
        DigitalDataEtlConfig,
    ),
    Pipeline.FEATURE_ENGINEERING: PipelineEntry(
        _feature_engineering,
        Path("configs/feature_engineering.yaml"),
        "clean, chunk and embed the warehouse into Qdrant",
        FeatureEngineeringConfig,
    ),
    Pipeline.GENERATE_DATASETS: PipelineEntry(
        _generate_datasets,
        Path("configs/generate_instruct_datasets.yaml"),
        "build instruction or preference datasets from the feature store",
        GenerateDatasetsConfig,
    ),
    Pipeline.END_TO_END_DATA: PipelineEntry(
        _end_to_end_data,
        Path("configs/end_to_end_data.yaml"),
        "ETL per author, then features, then both datasets",
        EndToEndDataConfig,
    ),
    Pipeline.EXPORT_ARTIFACT_TO_JSON: PipelineEntry(
        _export_artifact_to_json,
        Path("configs/export_artifact_to_json.yaml"),
        "write the latest dataset artifacts to output/ as JSON",
        ExportArtifactConfig,
    ),
    Pipeline.TRAINING: PipelineEntry(
        _training,
        Path("configs/training.yaml"),
        "LoRA SFT then DPO of the twin",
        TrainingConfig,
    ),
    Pipeline.EVALUATING: PipelineEntry(
        _evaluating,
        Path("configs/evaluating.yaml"),
        "measure the latest TwinLlama against production and the base; promote it when it wins",
        EvaluationConfig,
    ),
    Pipeline.OPTIMIZE_MODEL: PipelineEntry(
        _optimize_model,
        Path("configs/optimize_model.yaml"),
        "export a TwinLlama version for OpenVINO GenAI (int8), measure it, register it on the version",
        OptimizeModelConfig,
    ),
    Pipeline.CONTINUOUS_TRAINING: PipelineEntry(
        _continuous_training,
        Path("configs/continuous_training.yaml"),
        "data side, SFT, DPO, evaluation and promotion in one run",
        ContinuousTrainingConfig,
    ),
}


def load_pipeline(name: str) -> object:
    """Import the pipeline object (this imports ZenML, so it happens only once the config is valid)."""
    return PIPELINES[Pipeline(name)].load()


def schedule_refusal(pipeline: str, cron: str) -> str | None:
    """Why the active stack cannot run `pipeline` on `cron` (None when it can); the local orchestrator cannot."""
    from zenml.client import Client

    orchestrator = Client().active_stack.orchestrator
    if orchestrator.config.is_schedulable:
        return None
    return (
        f"the active ZenML orchestrator ({orchestrator.name}, {orchestrator.flavor}) cannot run on a schedule; "
        f"run it from cron instead ('{cron} cd {Path.cwd()} && llm-twin run {pipeline}') or switch to a stack "
        "whose orchestrator supports schedules (Kubeflow, Airflow, SageMaker, Vertex, Kubernetes)."
    )


def load_config(name: str, path: Path, version: str | None = None) -> tuple[RunConfig, dict[str, object]]:
    """The pipeline's typed config from `path` (ConfigError, one line, when it is wrong) and ZenML's run options."""
    entry = PIPELINES[Pipeline(name)]
    model = entry.config_model
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


def run(
    pipeline: Annotated[Pipeline, typer.Argument(help="the pipeline (see the list below)", show_default=False)],
    config_path: Annotated[
        Path | None, typer.Option("--config", help="YAML run configuration (default: configs/<pipeline>.yaml)")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="re-run every step instead of reusing cached outputs")
    ] = False,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print-config", help="print the effective config (every key, defaults included) as YAML, then exit"
        ),
    ] = False,
    version: Annotated[
        str | None,
        typer.Option(
            metavar="N",
            help="the model version to work on, instead of the config's (optimize-model: production by default)",
        ),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(metavar="CRON", help='run on a cron schedule ("0 3 * * 1"), on orchestrators with schedules'),
    ] = None,
) -> int:
    """Run a pipeline of the twin with its YAML config, checked against the pipeline's typed config first."""
    entry = PIPELINES[pipeline]
    path: Path = config_path or entry.config
    try:
        config, run_options = load_config(pipeline, path, version)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if print_config:
        effective = {**run_options, "parameters": config.model_dump(mode="json")}
        print(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), end="")
        return 0
    configure_logging()
    if schedule:
        refusal = schedule_refusal(pipeline, schedule)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return 2
        run_options["schedule"] = {"cron_expression": schedule}
    if no_cache:
        run_options["enable_cache"] = False
    try:
        launch(pipeline, config, run_options)
    except RuntimeError as error:
        # ZenML has already logged the failing step's traceback; end with one line that says what failed.
        print(f"error: the {pipeline} pipeline failed: {error}", file=sys.stderr)
        return 1
    return 0


def pipeline_listing() -> str:
    """The pipelines and what each does, for --help."""
    return "\n".join(f"  {name:<26}{entry.summary}" for name, entry in PIPELINES.items())
