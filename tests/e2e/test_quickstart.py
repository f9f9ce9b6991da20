"""The main job (`make run`) through the real pipelines, on a slice of the sample site with a tiny model: a failure
in a middle stage stops it with one line and a summary, the next run goes on from there and the twin answers from
the sample corpus, and a third run with nothing changed retrains and re-exports nothing."""

import json
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.model.finetuning.trainer import train as real_train
from llm_engineering.settings import Settings
from sample_site import SampleSite
from tests.cli_support import llm_twin
from tests.conftest import SAMPLE_DIR
from tests.training_support import optimized_artifact_id, sample_continuous_training, write_config


def stages(summary_file: Path) -> dict[str, dict[str, Any]]:
    summary: dict[str, Any] = json.loads(summary_file.read_text())
    return {stage["key"]: stage for stage in summary["stages"]}


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_the_main_job_stops_on_a_failure_resumes_answers_and_then_reuses_everything(
    pipeline_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from zenml.client import Client

    from llm_engineering.model.registry import find_model_version

    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("LINKEDIN_USERNAME", "sample-reader")
    monkeypatch.setenv("LINKEDIN_PASSWORD", "sample-site")
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    # A short answer and a short question leave the tiny model's window to the retrieved context.
    monkeypatch.setenv("API_MAX_NEW_TOKENS", "8")
    monkeypatch.setenv("API_MAX_INPUT_CHARS", "60")
    model_name = f"TwinQS{tmp_path.name[-6:].replace('_', '')}"
    summary_file = tmp_path / "output" / "run_summary.json"

    def dpo_crashes(config: Any, *args: Any, **kwargs: Any) -> Any:
        if config.finetuning_type == "dpo":
            raise OSError("injected: no space left on device while training DPO")
        return real_train(config, *args, **kwargs)

    with SampleSite(SAMPLE_DIR) as site:
        config = write_config(
            tmp_path / "quickstart.yaml",
            sample_continuous_training(tmp_path, site, pipeline_env, model_name),
            enable_cache=False,
        )
        args = ["--config", config, "--summary", str(summary_file), "--max-new-tokens", "8"]
        args += ["--question", "Theo Brandt, which tools do you dislike?"]

        monkeypatch.setattr("steps.training.train.train", dpo_crashes)
        assert llm_twin(["quickstart", *args]) == 1
        failed = capsys.readouterr()
        first = stages(summary_file)
        monkeypatch.setattr("steps.training.train.train", real_train)

        assert llm_twin(["quickstart", *args]) == 0
        resumed_output = capsys.readouterr().out
        second = stages(summary_file)
        production = find_model_version(model_name, "production")
        links, base_url = set(site.links_for("Theo Brandt")), site.base_url

        assert llm_twin(["quickstart", *args]) == 0
        third = stages(summary_file)

    # The failed run: its stages announced in order up to DPO, DPO named with its reason in one line, the later
    # stages not run, what SFT made kept.
    assert "[1/9] Crawl the sample authors" in failed.out and "[6/9] DPO" in failed.out
    assert "[7/9]" not in failed.out
    assert first["sft"]["status"] == "completed" and first["sft"]["made"]["reused"] is False
    assert first["dpo"]["status"] == "failed"
    assert "injected: no space left on device while training DPO" in first["dpo"]["error"]
    assert first["evaluate"]["status"] == "not run" and first["ask"]["status"] == "not run"
    [reason] = [line for line in failed.err.splitlines() if line.startswith("error: stopped at DPO")]
    assert "injected: no space left" in reason

    # The next run went on from DPO: SFT reused, DPO trained, promoted, exported, and the twin answered from the
    # sample corpus.
    assert all(stage["status"] == "completed" for stage in second.values()), second
    assert list(second) == ["etl", "features", "instruct", "preference", "sft", "dpo", "evaluate", "optimize", "ask"]
    assert second["sft"]["made"]["reused"] is True
    assert second["sft"]["made"]["version"] == first["sft"]["made"]["version"]
    assert second["dpo"]["made"]["reused"] is False
    assert second["evaluate"]["made"]["promoted"] is True
    assert production.number == second["dpo"]["made"]["version"]
    assert optimized_artifact_id(production) is not None
    assert second["optimize"]["made"]["weight_format"] == "int8"
    summary = json.loads(summary_file.read_text())  # the third run's, same shape
    assert summary["outcome"] == "the twin answered"
    assert "Sources:" in resumed_output and "poe run-inference-ml-service" in resumed_output
    assert "/v1/chat/completions" in resumed_output
    answer = summary["answer"]
    assert answer["sources"] and answer["sources"][0]["author"] == "Theo Brandt"
    cited = answer["sources"][0]["link"]
    assert cited in links or cited.startswith(base_url), (cited, links)  # an article, a repository, or a post
    assert f"  1. Theo Brandt  {cited}" in resumed_output

    # Nothing changed, so nothing is trained, promoted or exported again, and the same version answers.
    assert third["sft"]["made"]["reused"] is True and third["dpo"]["made"]["reused"] is True
    assert third["optimize"]["made"]["reused"] is True
    assert third["evaluate"]["made"]["promoted"] is False
    versions = Client().list_model_versions(model=model_name).items
    assert len(versions) == 2
    assert find_model_version(model_name, "production").number == production.number
