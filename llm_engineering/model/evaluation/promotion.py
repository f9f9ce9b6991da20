"""The promotion rule: a candidate replaces the reference only when it is measurably better.

The reference is production, or the base when none; better means on the configured measure, by a relative
margin. Pure, so every case is tested without ZenML.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from llm_engineering.model.evaluation.config import LOWER_IS_BETTER, PromotionSection
from llm_engineering.model.evaluation.evaluator import ModelScores


@dataclass(frozen=True)
class PromotionDecision:
    """Whether to promote, the two numbers compared, and why, in one sentence a person reads in the log."""

    promote: bool
    metric: str
    candidate: float
    reference: float
    reference_label: str
    reason: str


def decide_promotion(
    metric: str, candidate: float, reference: float, min_improvement: float, reference_label: str
) -> PromotionDecision:
    """Promote when the candidate beats the reference by at least `min_improvement` (relative) on `metric`.

    Lower is better for perplexity and the degenerate share, higher for every other measure. Equal never promotes.
    """
    lower_better = metric in LOWER_IS_BETTER
    if lower_better:
        threshold = reference * (1 - min_improvement)
        better = candidate < reference and candidate <= threshold
        wanted = f"at most {threshold:.4g} ({min_improvement:.0%} below {reference:.4g})"
    else:
        threshold = reference + abs(reference) * min_improvement
        better = candidate > reference and candidate >= threshold
        wanted = f"at least {threshold:.4g} ({min_improvement:.0%} above {reference:.4g})"
    direction = "lower" if lower_better else "higher"
    verdict = "promoted" if better else "not promoted"
    reason = (
        f"{verdict}: candidate {metric} {candidate:.4g} vs {reference_label} {reference:.4g} "
        f"({direction} is better; needed {wanted})"
    )
    return PromotionDecision(
        promote=better,
        metric=metric,
        candidate=candidate,
        reference=reference,
        reference_label=reference_label,
        reason=reason,
    )


def decide_from_scores(
    scores: Sequence[ModelScores], promotion: PromotionSection, production_is_candidate: bool
) -> PromotionDecision:
    """The decision for the candidate of an evaluation: against production when it was measured, else the base."""
    by_role = {score.role: score for score in scores}
    candidate = by_role["candidate"]
    reference = by_role.get("production") or by_role["base"]
    reference_label = reference.label if reference.role == "production" else "the base model"
    candidate_value = candidate.measures.get(promotion.metric)
    reference_value = reference.measures.get(promotion.metric)
    if production_is_candidate:
        return PromotionDecision(
            promote=False,
            metric=promotion.metric,
            candidate=_number(candidate_value),
            reference=_number(candidate_value),
            reference_label="itself",
            reason=f"not promoted: candidate {candidate.label} is already in production",
        )
    if candidate_value is None or reference_value is None:
        return PromotionDecision(
            promote=False,
            metric=promotion.metric,
            candidate=_number(candidate_value),
            reference=_number(reference_value),
            reference_label=reference_label,
            reason=f"not promoted: {promotion.metric} was not measured for both models (every judgement failed?)",
        )
    return decide_promotion(
        promotion.metric, candidate_value, reference_value, promotion.min_improvement, reference_label
    )


def _number(value: float | None) -> float:
    return float("nan") if value is None else value
