"""Training step: rows and base model from the stores and the registry, a LoRA run, its results as a model version.

A run whose inputs (config, base model, rows) match a version already in the registry trains nothing and returns
that version: re-running with no new data changes nothing.
"""

from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from loguru import logger
from zenml import get_step_context, log_metadata, save_artifact, step
from zenml.client import Client

from llm_engineering.application.dataset.reviews import review_dataset
from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.bootstrap.stores import build_review_store
from llm_engineering.domain.datasets import InstructDataset, PreferenceDataset
from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.tracking import comet_tracker
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import (
    TrainingRows,
    capped,
    dataset_of_kind,
    load_rows,
    rows_from_dataset,
)
from llm_engineering.model.finetuning.trainer import TrainingOutcome, flat_parameters, run_key, train
from llm_engineering.model.registry import (
    ADAPTER_ARTIFACT,
    MERGED_MODEL_ARTIFACT,
    TRAINING_KEY,
    ModelFolder,
    ModelFolderMaterializer,
    find_model_version,
    find_trained_version,
    load_model_folder,
    register_version,
)
from llm_engineering.settings import Settings

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse


@step(enable_cache=False)
def train_locally(config: TrainingConfig, sft_version: int | None = None) -> Annotated[int, "trained_version"]:
    """SFT or DPO with LoRA in this process (DPO from `sft_version`, else dpo.sft_version); the version it made.

    When a version trained on the same inputs exists, nothing is trained and that version is returned.
    """
    inputs = training_inputs(config, sft_version)
    if inputs.reused_version is not None:
        return inputs.reused_version
    settings = settings_for_step()
    base_model = training_base(config, settings, inputs.sft_number)
    tracker = comet_tracker(
        settings,
        name=f"{config.model_name}-{config.finetuning_type}-{inputs.key}",
        tags=[config.finetuning_type, config.model_name],
        run_id=str(get_step_context().pipeline_run.id),
    )
    try:
        outcome = train(config, base_model, inputs.rows, settings.data_dir / "training" / inputs.key, tracker)
    finally:
        tracker.end()
    return register_outcome(config, outcome, inputs)


@dataclass(frozen=True)
class TrainingInputs:
    """What a run trains on (rows, artifact, reviews applied, base), its key, and the version already made from them."""

    rows: TrainingRows
    dataset: "ArtifactVersionResponse | None"
    reviews: dict[str, Any]
    base_description: str
    sft_number: int | None
    key: str
    reused_version: int | None


def training_inputs(config: TrainingConfig, sft_version: int | None) -> TrainingInputs:
    """The run's inputs and key; `reused_version` is set when a version was already trained on exactly these."""
    rows, dataset, reviews = training_rows(config)
    base_description, sft_number = training_base_description(config, sft_version)
    key = run_key(config, base_description, rows)
    return TrainingInputs(rows, dataset, reviews, base_description, sft_number, key, reusable_version(config, key))


def training_rows(config: TrainingConfig) -> "tuple[TrainingRows, ArtifactVersionResponse | None, dict[str, Any]]":
    """The run's rows, their dataset artifact (None for a JSON or Hub source), and what the reviews did to them.

    The reviews' part (policy, whether they applied, the counts of accepted, edited, rejected and pending rows) goes on
    the model version, so that a version says what it was trained on.
    """
    if config.dataset.source != "artifact":
        rows = load_rows(config.dataset, config.finetuning_type)
        if config.dataset.reviews != "ignore":
            logger.info(
                "Reviews do not apply to {}: its rows are read as plain columns, without the row keys reviews are "
                "found by; train on the dataset artifact (dataset.source: artifact) to use them.",
                rows.source,
            )
        return rows, None, {"policy": config.dataset.reviews, "applied": False}
    name = config.dataset_artifact_name
    try:
        artifact = Client().get_artifact_version(name, config.dataset.artifact_version)
    except KeyError:
        pinned = f" version {config.dataset.artifact_version}" if config.dataset.artifact_version else ""
        raise DatasetSourceError(
            f"No artifact {name}{pinned}: run the dataset pipeline first (poe quickstart), pin an existing version "
            "(zenml artifact version list), or set dataset.source: json."
        ) from None
    source = f"artifact {name} version {artifact.version}"
    dataset, reviews = reviewed(dataset_of_kind(artifact.load(), config.finetuning_type, source), config, source)
    rows = rows_from_dataset(dataset, config.finetuning_type, source)
    return capped(rows, config.dataset.max_test_rows), artifact, reviews


def reviewed(
    dataset: InstructDataset | PreferenceDataset, config: TrainingConfig, source: str
) -> tuple[InstructDataset | PreferenceDataset, dict[str, Any]]:
    """The dataset with the warehouse's reviews applied as dataset.reviews says, and the counts, logged in one line."""
    policy = config.dataset.reviews
    if policy == "ignore":
        logger.info(
            "dataset.reviews is ignore: every row of {} is used as generated; the warehouse is not read.", source
        )
        return dataset, {"policy": policy, "applied": False}
    with closing(build_review_store(settings_for_step())) as store:
        result = review_dataset(
            dataset, store, policy, min_train_rows=config.dataset.min_reviewed_train_rows, source=source
        )
    logger.info("Reviews of {} (dataset.reviews: {}): {}.", source, policy, result.describe())
    return result.dataset, {**result.as_metadata(), "applied": True}


def training_base_description(config: TrainingConfig, sft_version: int | None = None) -> tuple[str, int | None]:
    """(how the base is named in the run key and metadata, the SFT version number DPO starts from, None for SFT)."""
    if config.finetuning_type == "sft":
        return config.base_model, None
    requested = sft_version if sft_version is not None else config.dpo.sft_version
    sft = find_model_version(config.model_name, requested, tag="sft")
    return f"{config.model_name} version {sft.number} (sft)", int(sft.number)


def training_base(config: TrainingConfig, settings: Settings, sft_number: int | None) -> str:
    """The model folder (or id) to load: the configured base for SFT, the registry's SFT version's weights for DPO."""
    models_dir = llm_models_dir(settings)
    if sft_number is None:
        return resolve_llm_model(config.base_model, models_dir)
    folder = load_model_folder(config.model_name, sft_number, models_dir / "registry")
    logger.info("DPO starts from {} version {} (sft).", config.model_name, sft_number)
    return str(folder)


def reusable_version(config: TrainingConfig, key: str) -> int | None:
    """The version an earlier run made from these exact inputs (logged in one line), or None: train."""
    existing = find_trained_version(config.model_name, config.finetuning_type, key)
    if existing is None:
        return None
    logger.info(
        "Training inputs unchanged (same rows, config and base; key {}): reusing {} version {} ({}), nothing trained.",
        key,
        config.model_name,
        existing.number,
        config.finetuning_type,
    )
    log_metadata(metadata={"reused_version": int(existing.number), TRAINING_KEY: key})
    return int(existing.number)


def register_outcome(config: TrainingConfig, outcome: TrainingOutcome, inputs: TrainingInputs) -> int:
    """Store the adapter and merged model, and make them, the dataset and the measures a new version; its number."""
    artifacts = [
        save_artifact(ModelFolder(outcome.adapter_dir), ADAPTER_ARTIFACT, materializer=ModelFolderMaterializer),
        save_artifact(ModelFolder(outcome.merged_dir), MERGED_MODEL_ARTIFACT, materializer=ModelFolderMaterializer),
    ]
    if inputs.dataset is not None:
        artifacts.append(inputs.dataset)
    metadata: dict[str, Any] = {
        "finetuning_type": config.finetuning_type,
        "base_model": inputs.base_description,
        "backend": outcome.backend,
        "dataset": inputs.rows.source,
        "train_rows": len(inputs.rows.train),
        "test_rows": len(inputs.rows.test),
        "reviews": inputs.reviews,
        "hyperparameters": flat_parameters(config),
        TRAINING_KEY: inputs.key,
        **outcome.metrics,
    }
    version = register_version(
        config.model_name,
        config.finetuning_type,
        artifacts,
        metadata,
        pipeline_run_id=get_step_context().pipeline_run.id,
    )
    log_metadata(metadata={**metadata, "model_version": int(version.number)})
    logger.info(
        "Trained {} in {:.0f} s, registered as {} version {}: train loss {}, eval loss {}, "
        "held-out perplexity {:.2f} → {:.2f}.",
        config.finetuning_type,
        outcome.metrics["wall_time_s"],
        config.model_name,
        version.number,
        outcome.metrics.get("train_loss"),
        outcome.metrics.get("eval_loss"),
        outcome.metrics["perplexity_before"],
        outcome.metrics["perplexity_after"],
    )
    return int(version.number)
