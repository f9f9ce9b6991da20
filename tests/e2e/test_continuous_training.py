"""Continuous training through ZenML on a slice of the sample corpus with a tiny model, run twice: the first run
promotes what it trained over the base; the second (no new data) trains nothing, adds no version, and its candidate
(the same version, already in production) is refused promotion."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_engineering.settings import Settings
from sample_site import SampleSite
from tests.conftest import REPO_ROOT, SAMPLE_DIR, sample_site_etl_config
from tests.training_support import make_tiny_llama, optimization_of, optimized_artifact_id
from tools.run import main as run_pipeline


def config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "configs" / name).read_text())
    return loaded


def write(path: Path, parameters: dict[str, Any], **options: Any) -> str:
    path.write_text(yaml.safe_dump({**options, "parameters": parameters}))
    return str(path)


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
    tiny = str(make_tiny_llama(tmp_path / "tiny"))
    training = {"base_model": tiny, "model_name": model_name, "num_train_epochs": 1, "learning_rate": 5e-3}
    training |= {"max_length": 64, "lora": {"r": 4, "alpha": 8}, "logging_steps": 1}
    with SampleSite(SAMPLE_DIR) as site:
        site.write_git_mirror(pipeline_env.data_dir / "sample-site" / "git")
        datasets = {}
        for name in ("generate_instruct_datasets.yaml", "generate_preference_datasets.yaml"):
            data = config(name)["parameters"]
            data["dataset"]["extracts"] = {"categories": ["posts"], "max_per_category": 3}
            data["dataset"]["generation"] |= {
                "max_new_tokens": 16,
                "rejected_max_new_tokens": 16,
                "rejected_max_per_category": 3,
            }
            datasets[name] = write(tmp_path / name, data)
        etl = sample_site_etl_config(site, "digital_data_etl_theo_brandt.yaml", "Theo Brandt")
        data_side = {
            "etl_configs": [write(tmp_path / "etl.yaml", etl["parameters"])],
            "feature_config": "configs/feature_engineering.yaml",
            "instruct_config": datasets["generate_instruct_datasets.yaml"],
            "preference_config": datasets["generate_preference_datasets.yaml"],
        }
        continuous = {
            "data_config": write(tmp_path / "data.yaml", data_side),
            "sft_config": write(tmp_path / "sft.yaml", training),
            "dpo_config": write(tmp_path / "dpo.yaml", {**training, "finetuning_type": "dpo"}),
            "evaluation_config": write(
                tmp_path / "evaluation.yaml",
                {
                    "model_name": model_name,
                    "base_model": tiny,
                    "max_length": 64,
                    "generation": {"max_new_tokens": 8},
                    "output_dir": str(tmp_path / "evaluation"),
                    # One epoch of a tiny random model lowers perplexity by a little; with no margin, any gain
                    # promotes, and the second run's equal model shows the refusal.
                    "promotion": {"metric": "perplexity", "min_improvement": 0.0},
                },
            ),
            # No GGUF: llama.cpp's converter knows only published tokenizers, not the tiny model's own BPE; the GGUF
            # step is tested with the packaged SmolLM2's tokenizer in tests/integration/test_gguf_export.py.
            "optimize_config": write(
                tmp_path / "optimize.yaml", {"model_name": model_name, "max_length": 64, "gguf_format": "none"}
            ),
        }
        path = write(tmp_path / "ct.yaml", continuous, enable_cache=False)
        assert run_pipeline(["continuous-training", "--config", path]) == 0
        first = Client().get_artifact_version("promotion_decision").load()
        exported = optimized_artifact_id(find_model_version(model_name, "production"))
        assert run_pipeline(["continuous-training", "--config", path]) == 0
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
