"""Optimize step: a registered version's merged weights exported for OpenVINO GenAI, measured, and registered on it.

The export's held-out perplexity is measured against its source's, on the version's own held-out rows, by the
evaluation's measure. An export more than `max_perplexity_increase` above its source is registered with a warning
and marked not served: the service then answers with the source weights and says why. Re-running on a version
already exported in the same format from the same weights does nothing.
"""

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from loguru import logger
from zenml import log_metadata, save_artifact, step
from zenml.model.utils import link_artifact_version_to_model_version

from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.domain.exceptions import DatasetSourceError, RegistryError
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.evaluation.evaluator import model_perplexity
from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.inference.config import OptimizeModelConfig
from llm_engineering.model.inference.openvino_export import export_openvino
from llm_engineering.model.inference.openvino_perplexity import openvino_inference_precision, openvino_perplexity
from llm_engineering.model.registry import (
    MERGED_MODEL_ARTIFACT,
    OPTIMIZATION_METADATA,
    OPTIMIZED_MODEL_ARTIFACT,
    ModelFolder,
    ModelFolderMaterializer,
    find_model_version,
    load_model_folder,
    uninterrupted,
    version_artifact,
)
from steps.evaluating.evaluate import instruct_test_rows
from steps.metadata import record_metadata

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse, ModelVersionResponse

ENGINE = "openvino-genai"


@step(enable_cache=False)
def optimize_version(config: OptimizeModelConfig) -> Annotated[dict[str, Any], "optimization"]:
    """Export, measure and register; the summary (also the version's `optimized_model` metadata)."""
    version = find_model_version(config.model_name, config.version)
    source_artifact = merged_artifact(version, config.model_name)
    existing = earlier_export(
        version,
        source_artifact,
        OPTIMIZED_MODEL_ARTIFACT,
        OPTIMIZATION_METADATA,
        export_format=("weight_format", config.weight_format),
        detail="perplexity_ratio",
    )
    if existing is not None:
        return existing
    number = int(version.number)
    settings = settings_for_step()
    models_dir = llm_models_dir(settings)
    source = load_model_folder(config.model_name, number, models_dir / "registry")
    rows = held_out_rows(version, config)
    with tempfile.TemporaryDirectory(prefix="llm-twin-optimize-", dir=settings.data_dir) as work:
        target = Path(work) / f"{config.model_name}-v{number}-{config.weight_format}"
        export = export_openvino(source, target, config.weight_format, timeout_s=config.export_timeout_s)
        logger.info("Measuring the held-out perplexity of the source and the export on {} rows.", len(rows))
        source_perplexity = model_perplexity(source, rows, config.max_length)
        export_perplexity = openvino_perplexity(export.folder, rows, config.max_length)
        ratio = export_perplexity / source_perplexity
        served = ratio <= 1.0 + config.max_perplexity_increase
        limit = f"{1.0 + config.max_perplexity_increase:.2f}x"
        reason = (
            f"perplexity {export_perplexity:.3f} is {ratio:.4f}x its source's {source_perplexity:.3f} (limit {limit})"
        )
        summary: dict[str, Any] = {
            "engine": ENGINE,
            "weight_format": config.weight_format,
            "inference_precision": openvino_inference_precision(export.folder),
            "size_mb": round(export.size_mb, 1),
            "perplexity": export_perplexity,
            "source_perplexity": source_perplexity,
            "perplexity_ratio": ratio,
            "max_perplexity_ratio": 1.0 + config.max_perplexity_increase,
            "export_s": round(export.export_s, 1),
            "served": served,
            "reason": reason,
            "test_rows": len(rows),
            "source_artifact_id": str(source_artifact.id),
        }
        artifact = save_artifact(
            ModelFolder(export.folder), OPTIMIZED_MODEL_ARTIFACT, materializer=ModelFolderMaterializer
        )
        shutil.rmtree(export.folder, ignore_errors=True)
    with uninterrupted(f"the export of {config.model_name} version {number}"):
        link_artifact_version_to_model_version(artifact, version)
        log_metadata(metadata={OPTIMIZATION_METADATA: summary}, model_version_id=version.id)
        log_metadata(metadata=summary, artifact_version_id=artifact.id)
    record_metadata(summary)
    if served:
        logger.info(
            "{} version {}: {} export, {:.1f} MB, {}; it is what the service serves.",
            config.model_name,
            number,
            config.weight_format,
            export.size_mb,
            reason,
        )
    else:
        logger.warning(
            "{} version {}: the {} export is registered but NOT served: {}. The service answers with the source "
            "weights; try weight_format int8 or fp16.",
            config.model_name,
            number,
            config.weight_format,
            reason,
        )
    return summary


def earlier_export(
    version: "ModelVersionResponse",
    source_artifact: "ArtifactVersionResponse",
    artifact_name: str,
    metadata_key: str,
    *,
    export_format: tuple[str, str],
    detail: str,
) -> dict[str, Any] | None:
    """The summary of an export that the version already has (its `metadata_key` metadata, with the format field and
    value of `export_format`, made from `source_artifact`'s weights, `artifact_name` still registered), logged and
    recorded on this run as reused; None when there is none to reuse. `detail`: the summary's field the log shows."""
    existing = version.run_metadata.get(metadata_key)
    if not isinstance(existing, dict) or existing.get("source_artifact_id") != str(source_artifact.id):
        return None
    format_field, format_value = export_format
    if existing.get(format_field) != format_value:
        return None
    if version_artifact(version, artifact_name) is None:
        return None
    logger.info(
        "{} version {} already has its {} {} from these weights ({} {}); nothing to do.",
        version.model.name,
        version.number,
        format_value,
        artifact_name,
        detail,
        existing.get(detail),
    )
    record_metadata({"reused": True, **existing})
    return dict(existing)


def merged_artifact(version: "ModelVersionResponse", model_name: str) -> "ArtifactVersionResponse":
    artifact = version_artifact(version, MERGED_MODEL_ARTIFACT)
    if artifact is None:
        raise RegistryError(
            f"{model_name} version {version.number} has no {MERGED_MODEL_ARTIFACT} artifact to export; optimize a "
            "version made by the training pipeline."
        )
    return artifact


def held_out_rows(version: "ModelVersionResponse", config: OptimizeModelConfig) -> list[Row]:
    """The test split the version's perplexity is measured on: its own instruct dataset, else the pinned or latest."""
    linked = None if config.dataset_artifact_version is not None else version_artifact(version, "instruct_datasets")
    rows = instruct_test_rows(config.dataset_artifact_version, config.max_test_rows, linked)
    if not rows:
        raise DatasetSourceError("The instruct dataset has no test rows to measure the export's perplexity on.")
    return rows
