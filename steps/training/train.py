"""Training step: rows and base model from the stores and the registry, a LoRA run, its results on the model version."""

from typing import Annotated, Any

from loguru import logger
from zenml import get_step_context, log_metadata, step
from zenml.client import Client
from zenml.model.utils import link_artifact_to_model

from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.infrastructure.llm.factory import llm_models_dir
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.tracking import comet_tracker
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import (
    TrainingRows,
    capped,
    load_rows,
    rows_from_dataset,
)
from llm_engineering.model.finetuning.trainer import TrainingOutcome, flat_parameters, run_key, train
from llm_engineering.model.registry import ModelFolder, ModelFolderMaterializer, find_model_version, load_model_folder
from llm_engineering.settings import Settings


@step(
    enable_cache=False,
    output_materializers={"lora_adapter": ModelFolderMaterializer, "merged_model": ModelFolderMaterializer},
)
def train_locally(
    config: TrainingConfig,
) -> tuple[Annotated[ModelFolder, "lora_adapter"], Annotated[ModelFolder, "merged_model"]]:
    """SFT or DPO with LoRA in this process; the adapter and merged model become the model version's artifacts."""
    settings = settings_for_step()
    rows = training_rows(config)
    base_model, base_description = training_base(config, settings)
    context = get_step_context()
    version = context.model.version if context.model else None
    tracker = comet_tracker(
        settings,
        name=f"{config.model_name}-{version}-{config.finetuning_type}",
        tags=[config.finetuning_type, config.model_name],
        run_id=str(context.pipeline_run.id),
    )
    try:
        work_dir = settings.data_dir / "training" / run_key(config, base_description, rows)
        outcome = train(config, base_model, rows, work_dir, tracker)
    finally:
        tracker.end()
    record_outcome(config, outcome, base_description, rows)
    return ModelFolder(outcome.adapter_dir), ModelFolder(outcome.merged_dir)


def training_rows(config: TrainingConfig) -> TrainingRows:
    """The run's rows; an artifact source is also linked to the model version it trains."""
    if config.dataset.source != "artifact":
        return load_rows(config.dataset, config.finetuning_type)
    name = config.dataset_artifact_name
    try:
        artifact = Client().get_artifact_version(name, config.dataset.artifact_version)
    except KeyError:
        pinned = f" version {config.dataset.artifact_version}" if config.dataset.artifact_version else ""
        raise DatasetSourceError(
            f"No artifact {name}{pinned}: run the dataset pipeline first (poe quickstart), pin an existing version "
            "(zenml artifact version list), or set dataset.source: json."
        ) from None
    rows = rows_from_dataset(artifact.load(), config.finetuning_type, f"artifact {name} version {artifact.version}")
    link_artifact_to_model(artifact)
    return capped(rows, config.dataset.max_test_rows)


def training_base(config: TrainingConfig, settings: Settings) -> tuple[str, str]:
    """(model folder or id to load, how to describe it): the configured base for SFT, the registry's SFT for DPO."""
    models_dir = llm_models_dir(settings)
    if config.finetuning_type == "sft":
        return resolve_llm_model(config.base_model, models_dir), config.base_model
    sft = find_model_version(config.model_name, config.dpo.sft_version, tag="sft")
    folder = load_model_folder(config.model_name, sft.number, models_dir / "registry")
    logger.info("DPO starts from {} version {} (sft).", config.model_name, sft.number)
    return str(folder), f"{config.model_name} version {sft.number} (sft)"


def record_outcome(config: TrainingConfig, outcome: TrainingOutcome, base: str, rows: TrainingRows) -> None:
    """The run's measures and hyperparameters, on the model version (what people compare) and on the step."""
    metadata: dict[str, Any] = {
        "finetuning_type": config.finetuning_type,
        "base_model": base,
        "backend": outcome.backend,
        "dataset": rows.source,
        "train_rows": len(rows.train),
        "test_rows": len(rows.test),
        "hyperparameters": flat_parameters(config),
        **outcome.metrics,
    }
    log_metadata(metadata=metadata)
    log_metadata(metadata=metadata, infer_model=True)
    logger.info(
        "Trained {} in {:.0f} s: train loss {}, eval loss {}, held-out perplexity {:.2f} → {:.2f}.",
        config.finetuning_type,
        outcome.metrics["wall_time_s"],
        outcome.metrics.get("train_loss"),
        outcome.metrics.get("eval_loss"),
        outcome.metrics["perplexity_before"],
        outcome.metrics["perplexity_after"],
    )
