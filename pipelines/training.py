"""Training pipeline: a LoRA SFT (or DPO on the newest SFT) of the twin, registered as a new TwinLlama version."""

from zenml import pipeline

from llm_engineering.model.finetuning.config import TrainingConfig
from steps.training import train_locally, train_on_sagemaker


@pipeline
def training(config: TrainingConfig) -> None:
    """Adds a version of config.model_name, tagged sft or dpo, holding the adapter and merged model.

    With the same rows, config and base as an existing version, nothing is trained and that version is reused.
    """
    train = train_on_sagemaker if config.runner == "sagemaker" else train_locally
    train(config)
