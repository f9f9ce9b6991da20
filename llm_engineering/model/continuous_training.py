"""The continuous-training pipeline's run configuration: every stage's own config, each given as its file's path.

The stage files are loaded and validated together, so nothing runs when any of them is wrong, and each parameter
keeps one home: the data side's files, the training files, the evaluation file.
"""

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from llm_engineering.application.run_configs import EndToEndDataConfig, config_or_file
from llm_engineering.domain.config import RunConfig
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.inference.config import OptimizeModelConfig


class ContinuousTrainingConfig(RunConfig):
    """`continuous_training`: data, SFT, DPO (when set), evaluation, promotion, then the optimize stage, in one run."""

    data_config: EndToEndDataConfig
    sft_config: TrainingConfig = TrainingConfig()
    # null: the run trains SFT only, and SFT is the candidate.
    dpo_config: TrainingConfig | None = Field(default=None, description="the DPO training file (null: no DPO)")
    evaluation_config: EvaluationConfig = EvaluationConfig()
    # Run after promotion, on the production version (null: no export; the service then serves the merged weights).
    optimize_config: OptimizeModelConfig | None = OptimizeModelConfig()

    @field_validator("data_config", "sft_config", "dpo_config", "evaluation_config", "optimize_config", mode="before")
    @classmethod
    def _load_stage_file(cls, value: Any, info: ValidationInfo) -> Any:
        return config_or_file(value, cls.model_fields[str(info.field_name)].annotation)

    @model_validator(mode="after")
    def _stages_agree(self) -> "ContinuousTrainingConfig":
        if self.sft_config.finetuning_type != "sft":
            raise ValueError("sft_config must have finetuning_type: sft; point it at an SFT training file.")
        if self.dpo_config is not None and self.dpo_config.finetuning_type != "dpo":
            raise ValueError("dpo_config must have finetuning_type: dpo; point it at a DPO training file, or null.")
        names = {self.sft_config.model_name, self.evaluation_config.model_name}
        if self.optimize_config is not None:
            names.add(self.optimize_config.model_name)
            if self.optimize_config.version != "production":
                raise ValueError("optimize_config.version must be production: the run optimizes what it serves.")
        if self.dpo_config is not None:
            names.add(self.dpo_config.model_name)
        if len(names) > 1:
            raise ValueError(f"The stages name different registry models ({sorted(names)}); use one model_name.")
        if self.evaluation_config.candidate_version != "latest":
            raise ValueError(
                "evaluation_config.candidate_version must be latest: the candidate is what this run trains."
            )
        return self
