"""Promotion step: the candidate becomes production only when it measurably beats the reference; else nothing moves."""

from typing import Annotated, Any

from loguru import logger
from zenml import step

from llm_engineering.model.evaluation.config import PromotionSection
from llm_engineering.model.evaluation.evaluator import ModelScores
from llm_engineering.model.evaluation.promotion import decide_from_scores
from llm_engineering.model.evaluation.stages import promote_to_production, record_promotion
from steps.metadata import record_metadata


@step(enable_cache=False)
def promote_candidate(
    results: dict[str, Any], promotion: PromotionSection
) -> Annotated[dict[str, Any], "promotion_decision"]:
    """Compare the candidate with production (or the base) on promotion.metric; move stages only when it wins."""
    model_name = str(results["model_name"])
    candidate = int(results["candidate_version"])
    scores = [ModelScores.from_json(score) for score in results["scores"]]
    decision = decide_from_scores(scores, promotion, results.get("production_version") == candidate)
    summary: dict[str, Any] = {
        "candidate_version": candidate,
        "metric": decision.metric,
        "candidate": decision.candidate,
        "reference": decision.reference,
        "reference_label": decision.reference_label,
        "promoted": False,
        "reason": decision.reason,
    }
    if not promotion.enabled:
        summary["reason"] = f"promotion disabled (promotion.enabled: false); would have been {decision.reason}"
        logger.info("{} version {}: {}", model_name, candidate, summary["reason"])
    elif decision.promote:
        promote_to_production(model_name, candidate, decided_by="evaluation pipeline", reason=decision.reason)
        summary["promoted"] = True
    else:
        record_promotion(
            model_name, candidate, promoted=False, decided_by="evaluation pipeline", reason=decision.reason
        )
        logger.info("{} version {} stays where it is: {}", model_name, candidate, decision.reason)
    record_metadata({"promotion": summary})
    return summary
