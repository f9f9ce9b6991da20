"""The continuous-training pipeline's run configuration: every stage's own config, each given as its file's path.

The stage files are loaded and validated together, so nothing runs when any of them is wrong, and each parameter
keeps one home: the data side's files, the training files, the evaluation file.
"""

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from llm_engineering.application.run_configs import EndToEndDataConfig, load_run_config
from llm_engineering.domain.config import RunConfig
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.finetuning.config import TrainingConfig


class ContinuousTrainingConfig(RunConfig):
    """`continuous_training`: data, SFT, DPO (when `dpo_config` is set), evaluation and promotion in one run."""

    data_config: EndToEndDataConfig
    sft_config: TrainingConfig = TrainingConfig()
    # null: the run trains SFT only, and SFT is the candidate.
    dpo_config: TrainingConfig | None = Field(default=None, description="the DPO training file (null: no DPO)")
    evaluation_config: EvaluationConfig = EvaluationConfig()

    @field_validator("data_config", mode="before")
    @classmethod
    def _load_data_file(cls, value: Any) -> Any:
        return load_run_config(Path(value), EndToEndDataConfig) if isinstance(value, str) else value

    @field_validator("sft_config", "dpo_config", mode="before")
    @classmethod
    def _load_training_file(cls, value: Any) -> Any:
        return load_run_config(Path(value), TrainingConfig) if isinstance(value, str) else value

    @field_validator("evaluation_config", mode="before")
    @classmethod
    def _load_evaluation_file(cls, value: Any) -> Any:
        return load_run_config(Path(value), EvaluationConfig) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _stages_agree(self) -> "ContinuousTrainingConfig":
        if self.sft_config.finetuning_type != "sft":
            raise ValueError("sft_config must have finetuning_type: sft; point it at an SFT training file.")
        if self.dpo_config is not None and self.dpo_config.finetuning_type != "dpo":
            raise ValueError("dpo_config must have finetuning_type: dpo; point it at a DPO training file, or null.")
        names = {self.sft_config.model_name, self.evaluation_config.model_name}
        if self.dpo_config is not None:
            names.add(self.dpo_config.model_name)
        if len(names) > 1:
            raise ValueError(f"The stages name different registry models ({sorted(names)}); use one model_name.")
        if self.evaluation_config.candidate_version != "latest":
            raise ValueError(
                "evaluation_config.candidate_version must be latest: the candidate is what this run trains."
            )
        return self
