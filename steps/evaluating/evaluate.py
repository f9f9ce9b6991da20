"""Evaluation step: base, production and candidate answer the held-out instructions; measures, table, JSON, chart."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from loguru import logger
from zenml import get_step_context, step
from zenml.client import Client

from llm_engineering.bootstrap.llm import build_llm_client, llm_cache_dir, llm_models_dir
from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.domain.ports import LLMClient
from llm_engineering.infrastructure.embeddings import SentenceTransformerEmbedder
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.llm.openvino_engine import OpenVINOGenerator
from llm_engineering.infrastructure.tracking import comet_tracker
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.evaluator import (
    ModelScores,
    ModelUnderTest,
    evaluate_models,
    models_under_test,
    production_version,
    score_models,
)
from llm_engineering.model.evaluation.report import results_table, write_chart, write_results_json
from llm_engineering.model.evaluation.stages import log_version_metadata
from llm_engineering.model.finetuning.data import Row, capped, rows_from_dataset
from llm_engineering.settings import Settings
from steps.evaluating.sagemaker import outputs_on_sagemaker
from steps.metadata import record_metadata

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse


@step(enable_cache=False)
def evaluate_candidate(
    config: EvaluationConfig, candidate_version: int | None = None
) -> Annotated[dict[str, Any], "evaluation_results"]:
    """Measure every model, print the table, write JSON and chart, record the scores on the candidate version.

    `candidate_version` (a training step's output) overrides config.candidate_version.
    """
    if candidate_version is not None:
        config = config.model_copy(update={"candidate_version": str(candidate_version)})
    settings = settings_for_step()
    rows = held_out_rows(config)
    models_dir = llm_models_dir(settings)
    base_folder = Path(resolve_llm_model(config.base_model, models_dir))
    models = models_under_test(config, base_folder, models_dir / "registry")
    candidate = models[-1]
    judge = judge_client(config, settings)
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    if config.runner == "sagemaker":
        outputs = outputs_on_sagemaker(config, models, rows, settings)
        scores = score_models(models, outputs, rows, config, embedder, judge)
    else:
        scores = evaluate_models(
            models, rows, config, lambda model: answer_client(model, config, settings), embedder, judge
        )
    results = {
        "model_name": config.model_name,
        "candidate_version": candidate.version,
        "production_version": production_version(config.model_name),
        "test_rows": len(rows),
        "config": config.model_dump(mode="json"),
        "scores": [score.to_json() for score in scores],
    }
    publish_results(config, scores, results, settings)
    return results


def held_out_rows(config: EvaluationConfig) -> list[Row]:
    """The test split of the instruct dataset artifact (the authors' held-out text), linked to the run's model."""
    return instruct_test_rows(config.dataset_artifact_version, config.max_test_rows)


def instruct_test_rows(
    artifact_version: str | None, max_test_rows: int | None, artifact: "ArtifactVersionResponse | None" = None
) -> list[Row]:
    """The test split of `artifact`, else of the instruct_datasets artifact version named (None: the latest)."""
    if artifact is None:
        try:
            artifact = Client().get_artifact_version("instruct_datasets", artifact_version)
        except KeyError:
            raise DatasetSourceError(
                "No instruct_datasets artifact: run the dataset pipeline first (poe quickstart), or pin an existing "
                "version with dataset_artifact_version (zenml artifact version list)."
            ) from None
    rows = rows_from_dataset(artifact.load(), "sft", f"artifact instruct_datasets version {artifact.version}")
    return capped(rows, max_test_rows).test


def answer_client(model: ModelUnderTest, config: EvaluationConfig, settings: Settings) -> LLMClient:
    """The client a model answers through: its optimized export on OpenVINO GenAI, or its registry weights on
    transformers, in process (cached on disk); or, for a candidate served elsewhere, the LLM backend of the
    settings."""
    if model.role == "candidate" and config.generation.candidate_backend == "endpoint":
        return build_llm_client(settings)
    if model.export is not None:
        # The export on the serving engine, as the service runs it (continuous batching, plain greedy decoding).
        engine = OpenVINOGenerator(model.export, model_id=str(model.export), stream_timeout_s=settings.LLM_TIMEOUT_S)
        return CachedLLMClient(engine, llm_cache_dir(settings), chunk_size=config.generation.batch_size)
    local = LocalTransformersClient(
        str(model.folder),
        models_dir=llm_models_dir(settings),
        device=settings.RAG_MODEL_DEVICE,
        batch_size=config.generation.batch_size,
        timeout_s=settings.LLM_TIMEOUT_S,
        max_input_tokens=settings.LLM_MAX_INPUT_TOKENS,
    )
    return CachedLLMClient(local, llm_cache_dir(settings), chunk_size=config.generation.batch_size)


def judge_client(config: EvaluationConfig, settings: Settings) -> LLMClient | None:
    """The judge's client (the named backend, configured by the settings), or None when no judge is configured."""
    if config.judge.backend is None:
        return None
    return build_llm_client(settings.model_copy(update={"LLM_BACKEND": config.judge.backend}))


def publish_results(
    config: EvaluationConfig, scores: list[ModelScores], results: dict[str, Any], settings: Settings
) -> None:
    """The table in the log, JSON + chart under output_dir, metadata on the candidate version and step, Comet."""
    candidate = scores[-1]
    name = f"{config.model_name}-{candidate.version}"
    table = results_table(scores)
    logger.info("Evaluation of {} on {} held-out instructions:\n{}", name, results["test_rows"], table)
    output_dir = Path(config.output_dir)
    json_path = write_results_json(
        output_dir / f"{name}.json", scores, {k: v for k, v in results.items() if k != "scores"}
    )
    chart_path = write_chart(
        output_dir / f"{name}.png", scores, f"{config.model_name}: base vs production vs candidate"
    )
    logger.info("Wrote {} and {}.", json_path, chart_path)
    measured = {
        score.role: {key: value for key, value in score.measures.items() if value is not None}
        | {"label": score.label, "scored_as": score.scored_as}
        for score in scores
    }
    metadata: dict[str, Any] = {"evaluation": measured, "evaluation_test_rows": results["test_rows"]}
    log_version_metadata(config.model_name, int(results["candidate_version"]), metadata)
    record_metadata({**metadata, "results_file": str(json_path), "chart": str(chart_path)})
    try:
        run_id: str | None = str(get_step_context().pipeline_run.id)
    except RuntimeError:
        run_id = None
    tracker = comet_tracker(settings, name=f"{name}-evaluation", tags=["evaluation", config.model_name], run_id=run_id)
    try:
        tracker.log_parameters({"candidate_version": candidate.version, "test_rows": results["test_rows"]})
        tracker.log_metrics(
            {
                f"{score.role}_{key}": value
                for score in scores
                for key, value in score.measures.items()
                if value is not None
            }
        )
    finally:
        tracker.end()
