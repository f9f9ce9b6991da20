"""The promotion rule: a candidate replaces the reference (production, or the base when none) only when it is
measurably better on the configured measure, by a relative margin. Pure, so every case is tested without ZenML."""

from dataclasses import dataclass

from llm_engineering.model.evaluation.config import LOWER_IS_BETTER


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
