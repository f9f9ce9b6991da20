"""Training pipeline: a LoRA SFT (or DPO on the newest SFT) of the twin, registered as a new TwinLlama version."""

from zenml import Model, pipeline

from llm_engineering.model.finetuning.config import TrainingConfig
from steps.training import train_locally, train_on_sagemaker


@pipeline
def training(config: TrainingConfig) -> None:
    """Each run adds a version of config.model_name, tagged sft or dpo, holding the adapter and merged model."""
    model = Model(
        name=config.model_name,
        tags=[config.finetuning_type],
        description="The LLM Twin: the author's voice, LoRA fine-tuned (SFT, then DPO) from a small instruct model.",
    )
    train = train_on_sagemaker if config.runner == "sagemaker" else train_locally
    train.with_options(model=model)(config)
