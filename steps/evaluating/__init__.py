"""Steps of the evaluating pipeline."""

from steps.evaluating.evaluate import evaluate_candidate
from steps.evaluating.promote import promote_candidate

__all__ = ["evaluate_candidate", "promote_candidate"]
