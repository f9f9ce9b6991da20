"""The optimize stage on a tiny Llama in the registry: export, perplexity against the source, the artifact and its
metadata on the version, idempotence, and what the service then loads: the export, or the source weights with the
reason when the export is missing or was rejected."""

from pathlib import Path
from typing import Any

import pytest

from llm_engineering.domain.exceptions import LLMError, RegistryError
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.model.inference.config import OptimizeModelConfig
from tests.conftest import PACKAGED_LLM_ID, make_settings
from tests.integration.test_evaluation import register_version
from tests.training_support import instruct_dataset, make_tiny_llama_like, optimization_of, optimized_artifact_id

pytestmark = pytest.mark.slow


def test_unknown_weight_formats_and_versions_are_refused_in_the_config() -> None:
    with pytest.raises(ValueError, match="weight_format"):
        OptimizeModelConfig(weight_format="int3")
    with pytest.raises(ValueError, match="production, latest, staging or a version number"):
        OptimizeModelConfig(version="best")


@pytest.mark.timeout(900)
def test_optimize_registers_a_measured_export_that_the_service_then_serves(
    data_dir: Path, tmp_path: Path, llm_models_dir: Path
) -> None:
    from zenml import Model, log_metadata, save_artifact
    from zenml.client import Client
    from zenml.enums import ModelStages

    from llm_engineering.bootstrap.twin import local_answer_model
    from llm_engineering.model.inference.production import find_production_model
    from llm_engineering.model.registry import OPTIMIZATION_METADATA, OPTIMIZED_MODEL_ARTIFACT, find_model_version
    from steps.optimizing import optimize_version

    model_name = f"TwinOpt{tmp_path.name[-6:].replace('_', '')}"
    packaged = Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    tiny = make_tiny_llama_like(tmp_path / "tiny", packaged)
    save_artifact(instruct_dataset(6, 4), name="instruct_datasets")
    number = register_version(model_name, tiny, "sft")
    Model(name=model_name, version=number).set_stage(ModelStages.PRODUCTION, force=True)
    config = OptimizeModelConfig(model_name=model_name, max_length=64)

    summary: dict[str, Any] = optimize_version.entrypoint(config)

    assert summary["engine"] == "openvino-genai" and summary["weight_format"] == "int8"
    assert summary["perplexity"] > 1 and summary["source_perplexity"] > 1
    assert summary["perplexity_ratio"] == pytest.approx(summary["perplexity"] / summary["source_perplexity"])
    # int8 weights of a model this small move its perplexity by well under 3 %, so the export is served.
    assert summary["perplexity_ratio"] == pytest.approx(1.0, abs=0.03)
    assert summary["served"] is True
    assert summary["size_mb"] > 0 and summary["export_s"] > 0 and summary["test_rows"] == 4
    version = find_model_version(model_name, number)
    assert optimization_of(version)["perplexity_ratio"] == summary["perplexity_ratio"]
    artifact_id = optimized_artifact_id(version)

    # Again, on the same weights: nothing is exported, no new artifact version.
    exports_before = Client().list_artifact_versions(name=OPTIMIZED_MODEL_ARTIFACT, size=1).total
    again = optimize_version.entrypoint(config)
    assert again["perplexity_ratio"] == summary["perplexity_ratio"]
    assert Client().list_artifact_versions(name=OPTIMIZED_MODEL_ARTIFACT, size=1).total == exports_before
    assert optimized_artifact_id(find_model_version(model_name, number)) == artifact_id

    # An export that fails half way (here: stopped at its time limit) registers nothing: the int8 export stays served.
    with pytest.raises(LLMError, match=r"ran past 0\.5 s and was stopped"):
        optimize_version.entrypoint(config.model_copy(update={"weight_format": "int4", "export_timeout_s": 0.5}))
    after_failure = find_model_version(model_name, number)
    assert optimization_of(after_failure)["weight_format"] == "int8"
    assert optimized_artifact_id(after_failure) == artifact_id

    # The service finds the export through the registry and serves it on OpenVINO GenAI.
    production = find_production_model(model_name, data_dir / "models" / "registry")
    assert production is not None and production.optimized is not None
    assert (production.optimized / "openvino_model.xml").is_file()
    settings = make_settings(data_dir)
    served = local_answer_model(settings, model_name)
    try:
        assert served.serving["engine"].startswith("openvino-genai int8")
        assert served.llm.loaded
        assert isinstance(served.llm.count_tokens("hello world"), int)
    finally:
        served.llm.close()

    # An export rejected for its perplexity is not served: the source weights answer, and the note says why.
    rejected = {**summary, "served": False, "reason": "perplexity 9.9 is 1.0400x its source's (limit 1.03x)"}
    log_metadata(metadata={OPTIMIZATION_METADATA: rejected}, model_version_id=version.id)
    fallback = local_answer_model(settings, model_name)
    try:
        assert fallback.serving["engine"].startswith("transformers")
        assert "not served" in fallback.serving["note"] and "1.0400x" in fallback.serving["note"]
    finally:
        fallback.llm.close()

    # LLM_ENGINE=openvino refuses to start without a servable export, naming why.
    with pytest.raises(Exception, match="LLM_ENGINE=openvino"):
        local_answer_model(make_settings(data_dir, LLM_ENGINE="openvino"), model_name)


def test_a_version_without_merged_weights_is_refused_with_what_to_do(data_dir: Path, tmp_path: Path) -> None:
    from zenml.client import Client

    from steps.optimizing import optimize_version

    model_name = f"TwinNoW{tmp_path.name[-6:].replace('_', '')}"
    client = Client()
    client.create_model(name=model_name)
    version = client.create_model_version(model_name_or_id=model_name, tags=["sft"])

    with pytest.raises(RegistryError, match="has no merged_model artifact to export"):
        optimize_version.entrypoint(OptimizeModelConfig(model_name=model_name, version=str(version.number)))
