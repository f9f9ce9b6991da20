"""The optimize_model pipeline's run configuration.

Which version to export, in which weight format, and the perplexity rule that decides whether the export is served.

Imports only pydantic and the training config, so `llm-twin run` validates a file in milliseconds.
"""

from typing import Literal

from pydantic import Field, model_validator

from llm_engineering.domain.config import RunConfig
from llm_engineering.model.finetuning.config import TrainingConfig

WeightFormat = Literal["int8", "int4", "fp16"]
GgufFormatChoice = Literal["q8_0", "f16", "none"]

_TRAINING_DEFAULTS = TrainingConfig()


class OptimizeModelConfig(RunConfig):
    """Everything one optimize run needs; the keys of configs/optimize_model.yaml's `parameters:`."""

    model_name: str = Field(default=_TRAINING_DEFAULTS.model_name, min_length=1)
    # "production" (what the service serves), "latest", or a version number.
    version: str = "production"
    weight_format: WeightFormat = "int8"
    # The export is served only when its held-out perplexity is at most this much above its source's (0.03: 3 %).
    max_perplexity_increase: float = Field(default=0.03, ge=0.0, lt=1.0)
    # The held-out rows perplexity is measured on: the test split of this instruct_datasets artifact version (null:
    # the one linked to the model version, else the latest), at most max_test_rows of them (null: all).
    dataset_artifact_version: str | None = None
    max_test_rows: int | None = Field(default=None, ge=1)
    max_length: int = Field(default=_TRAINING_DEFAULTS.max_length, ge=16)
    # The export's subprocess time limit.
    export_timeout_s: float = Field(default=1800.0, gt=0)
    # The GGUF export for Ollama, LM Studio and llama.cpp (`gguf_model` on the version): q8_0, f16, or none to skip.
    gguf_format: GgufFormatChoice = "q8_0"
    # Whose voice the Modelfile's system prompt names (null: "the author").
    gguf_author: str | None = None

    @model_validator(mode="after")
    def _version_is_named_or_number(self) -> "OptimizeModelConfig":
        if self.version not in {"production", "latest", "staging"} and not self.version.isdigit():
            raise ValueError(
                f"version is {self.version!r}; use production, latest, staging or a version number such as '3'."
            )
        return self
