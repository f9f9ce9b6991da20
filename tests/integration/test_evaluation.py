"""Evaluation of a tiny random model against a tiny base on a few rows: table, JSON, chart, metadata, promotion."""

import json
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.model.evaluation.config import EvaluationConfig
from tests.training_support import instruct_dataset, make_tiny_llama


def register_version(model_name: str, folder: Path, tag: str) -> int:
    """A TwinLlama-like version holding `folder` as its merged model, as the training pipeline leaves one."""
    from zenml import Model, save_artifact
    from zenml.client import Client
    from zenml.model.utils import link_artifact_to_model

    from llm_engineering.model.registry import MERGED_MODEL_ARTIFACT, ModelFolder, ModelFolderMaterializer

    client = Client()
    try:
        client.get_model(model_name)
    except KeyError:
        client.create_model(name=model_name)
    version = client.create_model_version(model_name_or_id=model_name, tags=[tag])
    artifact = save_artifact(ModelFolder(folder), name=MERGED_MODEL_ARTIFACT, materializer=ModelFolderMaterializer)
    link_artifact_to_model(artifact, model=Model(name=model_name, version=version.number))
    return int(version.number)


@pytest.mark.slow
def test_tiny_candidate_against_the_base(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from zenml import save_artifact

    from llm_engineering.model.registry import find_model_version
    from steps.evaluating import evaluate_candidate, promote_candidate
    from tests.cli_support import llm_twin

    model_name = f"TwinEval{tmp_path.name[-6:].replace('_', '')}"
    base = make_tiny_llama(tmp_path / "base")
    torch.manual_seed(1)
    candidate = make_tiny_llama(tmp_path / "candidate")
    number = register_version(model_name, candidate, "sft")
    save_artifact(instruct_dataset(6, 3), name="instruct_datasets")
    config = EvaluationConfig(
        model_name=model_name,
        base_model=str(base),
        max_length=64,
        generation={"max_new_tokens": 8, "batch_size": 2},
        output_dir=str(tmp_path / "out"),
        promotion={"metric": "perplexity", "min_improvement": 0.02},
    )

    results: dict[str, Any] = evaluate_candidate.entrypoint(config)
    assert [score["role"] for score in results["scores"]] == ["base", "candidate"]
    for score in results["scores"]:
        measures = score["measures"]
        assert measures["perplexity"] > 1
        assert 0 <= measures["rouge_l"] <= 1 and 0 <= measures["bleu"] <= 100
        assert -1 <= measures["style_similarity"] <= 1
        assert measures["judge_accuracy"] is None
        assert len(score["answers"]) == 3
    written = json.loads((tmp_path / "out" / f"{model_name}-{number}.json").read_text())
    assert written["candidate_version"] == number and len(written["models"]) == 2
    chart = tmp_path / "out" / f"{model_name}-{number}.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metadata: dict[str, Any] = dict(find_model_version(model_name, number).run_metadata)
    evaluation = metadata["evaluation"]
    assert evaluation["candidate"]["perplexity"] == pytest.approx(results["scores"][1]["measures"]["perplexity"])
    assert evaluation["base"]["label"] == "base"
    assert list((data_dir / "comet").glob("*.zip"))

    # Two random models: whichever way the numbers fall, the rule decides and the stages follow it.
    base_ppl = results["scores"][0]["measures"]["perplexity"]
    cand_ppl = results["scores"][1]["measures"]["perplexity"]
    decision = promote_candidate.entrypoint(results, config.promotion)
    assert decision["promoted"] is (cand_ppl <= base_ppl * 0.98)
    assert f"{cand_ppl:.4g}" in decision["reason"] and f"{base_ppl:.4g}" in decision["reason"]
    stage = find_model_version(model_name, number).stage
    assert (stage == "production") is decision["promoted"]

    # A second version, promoted by hand, and the version says so.
    second = register_version(model_name, candidate, "sft")
    assert llm_twin(["promote", "--version", str(second), "--model", model_name]) == 0
    promoted = find_model_version(model_name, "production")
    assert promoted.number == second
    promoted_metadata: dict[str, Any] = dict(promoted.run_metadata)
    assert promoted_metadata["promotion"]["decided_by"] == "promoted by hand"

    # The version in production is also the candidate now: evaluating it again refuses to promote it onto itself.
    again = evaluate_candidate.entrypoint(config)
    assert [score["role"] for score in again["scores"]] == ["base", "candidate"]
    refused = promote_candidate.entrypoint(again, config.promotion)
    assert not refused["promoted"] and "already in production" in refused["reason"]
