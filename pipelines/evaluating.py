"""Evaluating pipeline: the candidate TwinLlama version against production and the base, then the promotion rule."""

from zenml import pipeline

from llm_engineering.model.evaluation.config import EvaluationConfig
from steps.evaluating import evaluate_candidate, promote_candidate


@pipeline
def evaluating(config: EvaluationConfig) -> None:
    """Measures every model on the authors' held-out text; the candidate moves to production only when it wins."""
    results = evaluate_candidate(config)
    promote_candidate(results, config.promotion)
