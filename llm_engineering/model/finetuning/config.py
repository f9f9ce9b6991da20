"""The training pipeline's run configuration: one frozen model, the single home of every training default.

Imports only pydantic, the standard library and the domain's light models, so `llm-twin run` validates a YAML file
in milliseconds. The defaults fit a 2-core laptop (SmolLM2-135M, CPU, a few minutes); the README says how to scale
them up.
"""

from typing import Literal

from pydantic import Field, model_validator

from llm_engineering.domain.config import RunConfig
from llm_engineering.domain.reviews import ReviewPolicy

FinetuningType = Literal["sft", "dpo"]
DatasetSource = Literal["artifact", "json", "huggingface"]

# The book's choice: every attention and MLP projection of a Llama-style block.
LLAMA_LINEAR_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


# The registry model the training pipeline versions, the evaluation pipeline promotes and the service answers with.
TWIN_MODEL_NAME = "TwinLlama"


class LoraSection(RunConfig):
    """The LoRA adapter trained on top of the frozen base."""

    r: int = Field(default=8, ge=1)
    alpha: int = Field(default=16, ge=1)
    # 0, as the book: no dropout copies of every projection's input, which cost CPU time for little gain in one epoch.
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = Field(default=LLAMA_LINEAR_MODULES, min_length=1)


class DPOSection(RunConfig):
    """Direct preference optimisation, run when finetuning_type is dpo."""

    beta: float = Field(default=0.1, gt=0.0)
    # Which SFT version of the registry model DPO starts from: "latest" (the newest version tagged sft) or a number.
    sft_version: str = "latest"

    @model_validator(mode="after")
    def _version_is_latest_or_number(self) -> "DPOSection":
        if self.sft_version != "latest" and not self.sft_version.isdigit():
            raise ValueError(f"dpo.sft_version is {self.sft_version!r}; use 'latest' or a version number such as '3'.")
        return self


class TrainingDataSection(RunConfig):
    """Where the rows come from: the dataset pipelines' artifact, a JSON export, or a Hugging Face dataset."""

    source: DatasetSource = "artifact"
    # artifact: a pinned version of instruct_datasets / preference_datasets (null: the latest).
    artifact_version: str | None = None
    # json: this project's output/<artifact>.json export, or the book's {"train": {...}, "test": {...}} export.
    path: str | None = None
    # huggingface: a dataset id such as the book's mlabonne/llmtwin (SFT) or mlabonne/llmtwin-dpo (DPO).
    huggingface_id: str | None = None
    # Test rows used for the eval loss and the held-out perplexity, evenly spread over the split (null: all of them).
    # Each pass over them is a forward pass per row on the CPU; 32 keep the three passes of a run under a minute.
    max_test_rows: int | None = Field(default=32, ge=1)
    # What training does with people's reviews of the artifact's rows (JSON and Hub rows carry no row keys, so reviews
    # never apply to them). apply: drop the rejected rows, use the edits and swaps, keep the rows nobody reviewed;
    # require: train on the accepted and edited rows only; ignore: every row as generated, the warehouse is not read.
    reviews: ReviewPolicy = "apply"
    # require: the fewest accepted or edited train rows a run trains on (it also needs one such test row).
    min_reviewed_train_rows: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _source_has_its_location(self) -> "TrainingDataSection":
        if self.source == "json" and not self.path:
            raise ValueError(
                "dataset.path is required when dataset.source is json; "
                "set it to an export such as output/instruct_datasets.json."
            )
        if self.source == "huggingface" and not self.huggingface_id:
            raise ValueError(
                "dataset.huggingface_id is required when dataset.source is huggingface; "
                "set it to a dataset id such as mlabonne/llmtwin."
            )
        if self.reviews == "require" and self.source != "artifact":
            raise ValueError(
                f"dataset.reviews is require, but {self.source} rows are read as plain columns, without the row keys "
                "reviews are found by; "
                "train on the dataset artifact (dataset.source: artifact) or set dataset.reviews: apply or ignore."
            )
        return self


class SageMakerSection(RunConfig):
    """The SageMaker Hugging Face training job used when runner is sagemaker (role: AWS_ARN_ROLE in settings)."""

    instance_type: str = "ml.g5.2xlarge"
    instance_count: int = Field(default=1, ge=1)
    volume_size_gb: int = Field(default=50, ge=1)
    max_run_s: int = Field(default=2 * 24 * 3600, ge=60)
    # The newest Hugging Face training image sagemaker 2.257 knows; the job installs requirements.txt on top.
    transformers_version: str = "4.56.2"
    pytorch_version: str = "2.8.0"
    py_version: str = "py312"
    # S3 key prefix for the uploaded datasets, code and outputs (in the session's default bucket).
    s3_prefix: str = "llm-twin/training"


class TrainingConfig(RunConfig):
    """Everything one training run needs; the keys of configs/training.yaml's `parameters:`."""

    finetuning_type: FinetuningType = "sft"
    # A Hub id, a local model folder or GGUF; the packaged SmolLM2 is converted once to cached safetensors.
    base_model: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    # The Model Control Plane model that every run adds a version to.
    model_name: str = Field(default=TWIN_MODEL_NAME, min_length=1)
    # One pass over the sample corpus's ~155 rows keeps a CPU run within minutes (the book: 3, on a GPU).
    num_train_epochs: float = Field(default=1.0, gt=0.0)
    per_device_train_batch_size: int = Field(default=4, ge=1)
    per_device_eval_batch_size: int = Field(default=8, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    warmup_ratio: float = Field(default=0.05, ge=0.0, lt=1.0)
    # The sample corpus's answers are 40-220 words; 256 tokens keeps nearly all of them and a CPU step short.
    max_length: int = Field(default=256, ge=16)
    packing: bool = False
    seed: int = 42
    lora: LoraSection = LoraSection()
    dpo: DPOSection = DPOSection()
    dataset: TrainingDataSection = TrainingDataSection()
    logging_steps: int = Field(default=5, ge=1)
    # A checkpoint every N optimiser steps; a run started again with the same config resumes from the last one.
    save_steps: int = Field(default=10, ge=1)
    # auto: Unsloth when CUDA and the gpu extra are there, else transformers + PEFT + TRL; trl: always the latter.
    backend: Literal["auto", "trl", "unsloth"] = "auto"
    # Unsloth only: QLoRA on a 4-bit base.
    load_in_4bit: bool = False
    runner: Literal["local", "sagemaker"] = "local"
    sagemaker: SageMakerSection = SageMakerSection()

    @model_validator(mode="after")
    def _coherent(self) -> "TrainingConfig":
        if self.load_in_4bit and self.backend == "trl":
            raise ValueError("load_in_4bit needs Unsloth; set backend: auto (on CUDA) or load_in_4bit: false.")
        return self

    @property
    def dataset_artifact_name(self) -> str:
        """The dataset pipelines' artifact this finetuning type trains on."""
        return "instruct_datasets" if self.finetuning_type == "sft" else "preference_datasets"
