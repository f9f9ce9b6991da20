"""Continuous training in one run: the data side, SFT (then DPO), evaluation of what was trained, promotion."""

from zenml import Model, pipeline

from llm_engineering.model.continuous_training import ContinuousTrainingConfig
from llm_engineering.model.finetuning.config import TrainingConfig
from pipelines.end_to_end_data import end_to_end_data
from steps.evaluating import evaluate_candidate, promote_candidate
from steps.training import train_locally, train_on_sagemaker


def _registry_model(config: TrainingConfig) -> Model:
    # One run makes two versions (SFT, DPO): each needs its own version name, or ZenML would share one.
    return Model(
        name=config.model_name,
        version=f"{config.finetuning_type}-{{date}}-{{time}}",
        tags=[config.finetuning_type],
        description="The LLM Twin: the author's voice, LoRA fine-tuned (SFT, then DPO) from a small instruct model.",
    )


@pipeline
def continuous_training(config: ContinuousTrainingConfig) -> None:
    """Each stage waits for the one before; the newest version trained here is the evaluation's candidate."""
    end_to_end_data(config.data_config)
    trained = "train_sft"
    train = train_on_sagemaker if config.sft_config.runner == "sagemaker" else train_locally
    train.with_options(model=_registry_model(config.sft_config))(
        config.sft_config, id=trained, after=["generate_instruct_datasets", "generate_preference_datasets"]
    )
    if config.dpo_config is not None:
        train = train_on_sagemaker if config.dpo_config.runner == "sagemaker" else train_locally
        train.with_options(model=_registry_model(config.dpo_config))(config.dpo_config, id="train_dpo", after=trained)
        trained = "train_dpo"
    results = evaluate_candidate(config.evaluation_config, after=trained)
    promote_candidate(results, config.evaluation_config.promotion)
