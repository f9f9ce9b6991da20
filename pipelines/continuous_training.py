"""Continuous training in one run: the data side, SFT (then DPO), evaluation, promotion, the optimize stage."""

from zenml import pipeline

from llm_engineering.model.continuous_training import ContinuousTrainingConfig
from pipelines.end_to_end_data import end_to_end_data
from steps.evaluating import evaluate_candidate, promote_candidate
from steps.optimizing import export_gguf_version, optimize_version
from steps.training import train_locally, train_on_sagemaker


@pipeline
def continuous_training(config: ContinuousTrainingConfig) -> None:
    """Each stage waits for the one before; the version the last training stage returns is the candidate.

    A stage whose inputs are unchanged reuses its earlier version, so a run with no new data trains nothing and the
    candidate is the version already evaluated (promotion then refuses it).
    """
    end_to_end_data(config.data_config)
    train = train_on_sagemaker if config.sft_config.runner == "sagemaker" else train_locally
    candidate = train(
        config.sft_config, id="train_sft", after=["generate_instruct_datasets", "generate_preference_datasets"]
    )
    if config.dpo_config is not None:
        train = train_on_sagemaker if config.dpo_config.runner == "sagemaker" else train_locally
        candidate = train(config.dpo_config, sft_version=candidate, id="train_dpo")
    results = evaluate_candidate(config.evaluation_config, candidate_version=candidate)
    promote_candidate(results, config.evaluation_config.promotion)
    if config.optimize_config is not None:
        # The production version after the decision: the candidate if it won, else the one already served (whose
        # export, made before, is then reused).
        optimize_version(config.optimize_config, after="promote_candidate")
        export_gguf_version(config.optimize_config, after="optimize_version")
