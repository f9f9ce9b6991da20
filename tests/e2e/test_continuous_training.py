"""Continuous training through ZenML on a slice of the sample corpus with a tiny model, run twice: the first run
promotes what it trained over the base; the second (no new data) trains nothing, adds no version, and its candidate
(the same version, already in production) is refused promotion."""

from pathlib import Path

import pytest

from llm_engineering.settings import Settings
from sample_site import SampleSite
from tests.cli_support import llm_twin
from tests.conftest import SAMPLE_DIR
from tests.training_support import optimization_of, optimized_artifact_id, sample_continuous_training, write_config


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first run's dataset generation asks the packaged SmolLM2 on the CPU
def test_continuous_training_twice_on_the_sample_site(
    pipeline_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml.client import Client

    from llm_engineering.model.registry import find_model_version

    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("LINKEDIN_USERNAME", "sample-reader")
    monkeypatch.setenv("LINKEDIN_PASSWORD", "sample-site")
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    model_name = f"TwinCT{tmp_path.name[-6:].replace('_', '')}"
    with SampleSite(SAMPLE_DIR) as site:
        continuous = sample_continuous_training(tmp_path, site, pipeline_env, model_name)
        path = write_config(tmp_path / "ct.yaml", continuous, enable_cache=False)
        assert llm_twin(["run", "continuous-training", "--config", path]) == 0
        first = Client().get_artifact_version("promotion_decision").load()
        exported = optimized_artifact_id(find_model_version(model_name, "production"))
        assert llm_twin(["run", "continuous-training", "--config", path]) == 0
        second = Client().get_artifact_version("promotion_decision").load()

    versions = Client().list_model_versions(model=model_name, sort_by="asc:number").items
    assert [[tag.name for tag in version.tags] for version in versions] == [["sft"], ["dpo"]]
    assert first["promoted"] is True and first["reference_label"] == "the base model", first["reason"]
    assert first["candidate_version"] == versions[1].number
    assert find_model_version(model_name, "production").number == versions[1].number
    assert second["promoted"] is False and second["candidate_version"] == versions[1].number
    assert second["reason"].startswith("not promoted:"), second["reason"]
    assert (tmp_path / "evaluation" / f"{model_name}-{versions[1].number}.png").is_file()
    # The optimize stage ran after promotion, on the production version; the second run reused its export.
    production = find_model_version(model_name, "production")
    assert optimized_artifact_id(production) == exported
    optimization = optimization_of(production)
    assert optimization["weight_format"] == "int8" and optimization["perplexity_ratio"] > 0
