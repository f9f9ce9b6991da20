"""GGUF step: a registered version's merged weights as a GGUF file with an Ollama Modelfile, measured, registered.

The GGUF is read back into transformers (dequantized) and its held-out perplexity is measured beside the source's,
by the evaluation's measure, on the same rows as the OpenVINO export. Re-running on a version that already has its
GGUF in the same format from the same weights does nothing.
"""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from loguru import logger
from zenml import log_metadata, save_artifact, step
from zenml.model.utils import link_artifact_version_to_model_version

from llm_engineering.application.rag.prompts import standalone_system_prompt
from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.infrastructure.llm.model_store import ensure_safetensors
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.evaluation.evaluator import model_perplexity
from llm_engineering.model.inference.config import OptimizeModelConfig
from llm_engineering.model.inference.gguf_export import MODELFILE, export_gguf, with_source_tokenizer
from llm_engineering.model.registry import (
    GGUF_METADATA,
    GGUF_MODEL_ARTIFACT,
    ModelFolder,
    ModelFolderMaterializer,
    find_model_version,
    load_model_folder,
    uninterrupted,
)
from steps.metadata import record_metadata
from steps.optimizing.optimize import earlier_export, held_out_rows, merged_artifact

CONVERTER = "llama.cpp convert_hf_to_gguf.py"


@step(enable_cache=False)
def export_gguf_version(config: OptimizeModelConfig) -> Annotated[dict[str, Any], "gguf_export"]:
    """Convert, measure and register; the summary (also the version's `gguf_model` metadata)."""
    if config.gguf_format == "none":
        logger.info("gguf_format is none: no GGUF export.")
        return {"gguf_format": "none"}
    version = find_model_version(config.model_name, config.version)
    source_artifact = merged_artifact(version, config.model_name)
    existing = earlier_export(
        version,
        source_artifact,
        GGUF_MODEL_ARTIFACT,
        GGUF_METADATA,
        export_format=("gguf_format", config.gguf_format),
        detail="location",
    )
    if existing is not None:
        return existing
    number = int(version.number)
    settings = settings_for_step()
    source = load_model_folder(config.model_name, number, llm_models_dir(settings) / "registry")
    rows = held_out_rows(version, config)
    with tempfile.TemporaryDirectory(prefix="llm-twin-gguf-", dir=settings.data_dir) as work:
        export = export_gguf(
            source,
            Path(work) / f"{config.model_name.lower()}-v{number}-{config.gguf_format}",
            config.gguf_format,
            system=standalone_system_prompt(config.gguf_author),
            title=f"{config.model_name} version {number} ({config.gguf_format}), from the LLM Twin optimize pipeline",
            timeout_s=config.export_timeout_s,
        )
        logger.info("Reading the GGUF back and measuring its held-out perplexity on {} rows.", len(rows))
        read_back = with_source_tokenizer(ensure_safetensors(export.gguf, Path(work) / "read-back"), source)
        source_perplexity = model_perplexity(source, rows, config.max_length)
        gguf_perplexity = model_perplexity(read_back, rows, config.max_length)
        artifact = save_artifact(ModelFolder(export.folder), GGUF_MODEL_ARTIFACT, materializer=ModelFolderMaterializer)
    ratio = gguf_perplexity / source_perplexity
    summary: dict[str, Any] = {
        "gguf_format": config.gguf_format,
        "converter": CONVERTER,
        "file": export.gguf.name,
        "template": export.template,
        "size_mb": round(export.size_mb, 1),
        "perplexity": gguf_perplexity,
        "source_perplexity": source_perplexity,
        "perplexity_ratio": ratio,
        "export_s": round(export.export_s, 1),
        "test_rows": len(rows),
        "location": artifact.uri,
        "source_artifact_id": str(source_artifact.id),
    }
    with uninterrupted(f"the GGUF export of {config.model_name} version {number}"):
        link_artifact_version_to_model_version(artifact, version)
        log_metadata(metadata={GGUF_METADATA: summary}, model_version_id=version.id)
        log_metadata(metadata=summary, artifact_version_id=artifact.id)
    record_metadata(summary)
    message = (
        f"{config.model_name} version {number}: GGUF {config.gguf_format}, {export.size_mb:.1f} MB, perplexity "
        f"{gguf_perplexity:.3f} ({ratio:.4f}x the source's {source_perplexity:.3f}). Run it with Ollama: "
        f"ollama create twin -f {artifact.uri}/{MODELFILE}"
    )
    if ratio > 1.0 + config.max_perplexity_increase:
        logger.warning("{} That is more than {:.0%} above the source.", message, config.max_perplexity_increase)
    else:
        logger.info(message)
    return summary
