"""The evaluating pipeline's run configuration: one frozen model, the single home of every evaluation default.

Imports only pydantic and the training config (for the defaults they share), so `llm-twin run` validates a file in
milliseconds.
"""

from typing import Literal

from pydantic import Field, model_validator

from llm_engineering.domain.config import RunConfig
from llm_engineering.model.finetuning.config import SageMakerSection, TrainingConfig

# Every measure the evaluation reports; `promotion.metric` must be one of these.
Measure = Literal[
    "perplexity",
    "rouge_l",
    "bleu",
    "style_similarity",
    "judge_accuracy",
    "judge_style",
    "degenerate_share",
]
LOWER_IS_BETTER: frozenset[str] = frozenset({"perplexity", "degenerate_share"})

_TRAINING_DEFAULTS = TrainingConfig()


class EvaluationGenerationSection(RunConfig):
    """How each model answers the test instructions (greedy, so that answers and the cache are deterministic)."""

    # The sample corpus's answers are 40-220 words; 160 new tokens cover most of one while keeping CPU time bounded.
    max_new_tokens: int = Field(default=160, ge=1)
    batch_size: int = Field(default=8, ge=1)
    # Greedy decoding of a small model falls into loops ("I think X. I think X. ..."). A mild penalty on tokens
    # already used (1.0: none) and a ban on repeating any 4-token sequence (0: none) keep answers readable; both
    # apply alike to every model measured, and the degenerate share still counts what loops remain.
    repetition_penalty: float = Field(default=1.1, ge=1.0)
    no_repeat_ngram_size: int = Field(default=4, ge=0)
    # local: the registry's weights in this process; endpoint: the candidate is asked through the LLM backend of the
    # settings (LLM_BACKEND: openai or sagemaker), where it is served. Baselines always run locally.
    candidate_backend: Literal["local", "endpoint"] = "local"


class JudgeSection(RunConfig):
    """The LLM judge (the book's accuracy and style, 1-3 each): off unless `backend` names one."""

    # null: no judge, the objective measures decide; otherwise one of the project's LLM backends, configured by
    # the settings (OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL_ID, SAGEMAKER_ENDPOINT_INFERENCE, local model).
    backend: Literal["openai", "sagemaker", "local"] | None = None
    max_new_tokens: int = Field(default=256, ge=16)


class PromotionSection(RunConfig):
    """When the candidate moves to production: it must beat the reference on `metric` by `min_improvement`."""

    enabled: bool = True
    metric: Measure = "perplexity"
    # A relative margin: 0.02 means 2 % lower perplexity (or 2 % higher ROUGE-L, ...) than the reference.
    min_improvement: float = Field(default=0.02, ge=0.0, lt=1.0)


class EvaluationConfig(RunConfig):
    """Everything one evaluation run needs; the keys of configs/evaluating.yaml's `parameters:`."""

    model_name: str = Field(default=_TRAINING_DEFAULTS.model_name, min_length=1)
    # "latest", or a version number: the version judged for promotion.
    candidate_version: str = "latest"
    # The untuned model every version starts from, always measured as the floor.
    base_model: str = _TRAINING_DEFAULTS.base_model
    compare_production: bool = True
    # A pinned instruct_datasets artifact version (null: the latest); its test split is the author's held-out text.
    dataset_artifact_version: str | None = None
    max_test_rows: int | None = Field(default=None, ge=1)
    # Perplexity counts the answer tokens within this many tokens, as training measures it.
    max_length: int = Field(default=_TRAINING_DEFAULTS.max_length, ge=16)
    generation: EvaluationGenerationSection = EvaluationGenerationSection()
    judge: JudgeSection = JudgeSection()
    promotion: PromotionSection = PromotionSection()
    # Where the JSON results and the chart go (relative to the working directory).
    output_dir: str = "output/evaluation"
    runner: Literal["local", "sagemaker"] = "local"
    sagemaker: SageMakerSection = SageMakerSection(s3_prefix="llm-twin/evaluation", instance_type="ml.g5.xlarge")

    @model_validator(mode="after")
    def _coherent(self) -> "EvaluationConfig":
        if self.candidate_version != "latest" and not self.candidate_version.isdigit():
            raise ValueError(
                f"candidate_version is {self.candidate_version!r}; use 'latest' or a version number such as '3'."
            )
        if self.promotion.metric.startswith("judge_") and self.judge.backend is None:
            raise ValueError(
                f"promotion.metric {self.promotion.metric} needs a judge; set judge.backend or promote on perplexity."
            )
        return self
