"""The continuous-training config loads every stage's file and checks that the stages fit together; the
schedule option refuses the local orchestrator in one line."""

from pathlib import Path

import pytest

from llm_engineering.application.run_configs import load_run_config
from llm_engineering.domain.exceptions import ConfigError
from llm_engineering.model.continuous_training import ContinuousTrainingConfig


def test_the_shipped_file_loads_every_stage() -> None:
    config = load_run_config(Path("configs/continuous_training.yaml"), ContinuousTrainingConfig)
    assert config.sft_config.finetuning_type == "sft"
    assert config.dpo_config is not None and config.dpo_config.finetuning_type == "dpo"
    assert len(config.data_config.etl_configs) == 2
    assert config.evaluation_config.promotion.metric == "perplexity"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mistake_in_a_stage_file_stops_everything(tmp_path: Path) -> None:
    bad = write(tmp_path / "training.yaml", "parameters:\n  num_train_epoch: 1\n")
    config = write(
        tmp_path / "ct.yaml",
        f"parameters:\n  data_config: configs/end_to_end_data.yaml\n  sft_config: {bad}\n",
    )
    with pytest.raises(ConfigError, match="num_train_epoch"):
        load_run_config(config, ContinuousTrainingConfig)


def test_stages_must_agree(tmp_path: Path) -> None:
    config = write(
        tmp_path / "ct.yaml",
        "parameters:\n  data_config: configs/end_to_end_data.yaml\n  dpo_config: configs/training.yaml\n",
    )
    with pytest.raises(ConfigError, match="dpo_config must have finetuning_type: dpo"):
        load_run_config(config, ContinuousTrainingConfig)
    other = write(
        tmp_path / "ct2.yaml",
        "parameters:\n  data_config: configs/end_to_end_data.yaml\n  evaluation_config: {model_name: Other}\n",
    )
    with pytest.raises(ConfigError, match="different registry models"):
        load_run_config(other, ContinuousTrainingConfig)


def test_schedule_on_the_local_orchestrator_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli_support import llm_twin

    assert llm_twin(["run", "continuous-training", "--schedule", "0 3 * * 1"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "cannot run on a schedule" in error and "cron" in error
